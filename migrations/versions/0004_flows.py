"""Flow instances, activations and history; flow columns on tasks and timers;
SLA clocks.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, cascade: bool = False) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   ondelete="CASCADE" if cascade else None,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "flow_instances",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("app_version", sa.Integer, nullable=False),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("initiator_id", ID, nullable=True),
        sa.Column("parent_activation_id", ID, nullable=True),
        sa.Column("joins", sa.JSON, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flow_instances"),
        _fk("flow_instances", "workspace_id", "workspaces"),
        _fk("flow_instances", "app_id", "apps", cascade=True),
        _fk("flow_instances", "initiator_id", "users"),
    )
    op.create_index("ix_flow_instances_record", "flow_instances",
                    ["app_id", "entity", "record_id"])
    op.create_index("ix_flow_instances_parent_activation_id", "flow_instances",
                    ["parent_activation_id"])
    op.create_table(
        "flow_activations",
        sa.Column("id", ID, nullable=False),
        sa.Column("instance_id", ID, nullable=False),
        sa.Column("node", sa.String(40), nullable=False),
        sa.Column("branch", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flow_activations"),
        _fk("flow_activations", "instance_id", "flow_instances", cascade=True),
    )
    op.create_index("ix_flow_activations_instance_id", "flow_activations", ["instance_id"])
    op.create_table(
        "flow_history",
        sa.Column("id", ID, nullable=False),
        sa.Column("instance_id", ID, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("node", sa.String(40), nullable=True),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("task_id", ID, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_flow_history"),
        _fk("flow_history", "instance_id", "flow_instances", cascade=True),
        _fk("flow_history", "actor_id", "users"),
    )
    op.create_index("ix_flow_history_instance_id", "flow_history", ["instance_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("activation_id", ID, nullable=True))
        batch.add_column(sa.Column("candidates", sa.JSON, nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
        batch.add_column(sa.Column("comment", sa.Text, nullable=True))
    op.create_index("ix_tasks_activation_id", "tasks", ["activation_id"])
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("activation_id", ID, nullable=True))
        batch.add_column(sa.Column("sla_id", ID, nullable=True))
    op.create_index("ix_timers_activation_id", "timers", ["activation_id"])
    op.create_index("ix_timers_sla_id", "timers", ["sla_id"])
    op.create_table(
        "flow_slas",
        sa.Column("id", ID, nullable=False),
        sa.Column("instance_id", ID, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("target_seconds", sa.Integer, nullable=False),
        sa.Column("used_seconds", sa.Integer, nullable=False),
        sa.Column("running_since", UTCDateTime, nullable=True),
        sa.Column("due_at", UTCDateTime, nullable=True),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.Column("stretch", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_flow_slas"),
        _fk("flow_slas", "instance_id", "flow_instances", cascade=True),
    )
    op.create_index("ix_flow_slas_instance_id", "flow_slas", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_activation_id", "tasks")
    op.drop_table("flow_slas")
    op.drop_index("ix_timers_sla_id", "timers")
    op.drop_index("ix_timers_activation_id", "timers")
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("sla_id")
        batch.drop_column("activation_id")
    with op.batch_alter_table("tasks") as batch:
        for column in ("comment", "outcome", "candidates", "activation_id"):
            batch.drop_column(column)
    for table in ("flow_history", "flow_activations", "flow_instances"):
        op.drop_table(table)
