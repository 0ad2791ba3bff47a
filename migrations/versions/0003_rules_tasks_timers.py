"""Rule traces and firings, round-robin pointers, role members, tasks and timers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, cascade: bool = False) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   ondelete="CASCADE" if cascade else None,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "role_members",
        sa.Column("app_id", ID, nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("app_id", "role", "user_id", name="pk_role_members"),
        _fk("role_members", "app_id", "apps", cascade=True),
        _fk("role_members", "user_id", "users"),
    )
    op.create_table(
        "rule_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("app_version", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rule_runs"),
        _fk("rule_runs", "workspace_id", "workspaces"),
        _fk("rule_runs", "app_id", "apps", cascade=True),
        _fk("rule_runs", "actor_id", "users"),
    )
    op.create_index("ix_rule_runs_record", "rule_runs", ["app_id", "entity", "record_id"])
    op.create_index("ix_rule_runs_rule", "rule_runs", ["app_id", "rule"])
    op.create_table(
        "rule_firings",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_firings"),
        _fk("rule_firings", "app_id", "apps", cascade=True),
        sa.UniqueConstraint("app_id", "rule", "record_id", "slot",
                            name="uq_rule_firings_app_id_rule_record_id_slot"),
    )
    op.create_table(
        "assignment_pointers",
        sa.Column("app_id", ID, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("last_user_id", ID, nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("app_id", "key", name="pk_assignment_pointers"),
        _fk("assignment_pointers", "app_id", "apps", cascade=True),
    )
    op.create_table(
        "tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=True),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=True),
        sa.Column("source_rule", sa.String(40), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.Column("completed_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        _fk("tasks", "workspace_id", "workspaces"),
        _fk("tasks", "app_id", "apps", cascade=True),
        _fk("tasks", "assignee_id", "users"),
        _fk("tasks", "completed_by", "users"),
    )
    op.create_index("ix_tasks_inbox", "tasks", ["assignee_id", "status"])
    op.create_index("ix_tasks_record", "tasks", ["app_id", "entity", "record_id"])
    op.create_table(
        "timers",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("task_id", ID, nullable=True),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=True),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        _fk("timers", "workspace_id", "workspaces"),
        _fk("timers", "app_id", "apps", cascade=True),
        _fk("timers", "task_id", "tasks", cascade=True),
    )
    op.create_index("ix_timers_due", "timers", ["status", "due_at"])


def downgrade() -> None:
    for table in ("timers", "tasks", "assignment_pointers", "rule_firings", "rule_runs",
                  "role_members"):
        op.drop_table(table)
