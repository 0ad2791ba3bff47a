"""Platform tables: workspaces, departments, users, tokens, apps, metadata versions, audit,
serial counters.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", ID, primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("slug", name="uq_workspaces_slug"),
    )
    op.create_table(
        "departments",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("head_id", ID, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_departments_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["parent_id"], ["departments.id"],
                                name="fk_departments_parent_id_departments"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_departments_workspace_id_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("manager_id", ID, nullable=True),
        sa.Column("department_id", ID, nullable=True),
        sa.Column("locale", sa.String(10), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_users_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["manager_id"], ["users.id"], name="fk_users_manager_id_users"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name="fk_users_department_id_departments"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "apps",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("label", sa.JSON, nullable=False),
        sa.Column("current_version", sa.Integer, nullable=True),
        sa.Column("draft", sa.JSON, nullable=True),
        sa.Column("draft_revision", sa.Integer, nullable=False),
        sa.Column("draft_updated_at", UTCDateTime, nullable=True),
        sa.Column("draft_updated_by", ID, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_apps_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["draft_updated_by"], ["users.id"],
                                name="fk_apps_draft_updated_by_users"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_apps_created_by_users"),
        sa.UniqueConstraint("workspace_id", "slug", name="uq_apps_workspace_id_slug"),
    )
    op.create_table(
        "metadata_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metadata_versions"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_metadata_versions_app_id_apps"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name="fk_metadata_versions_author_id_users"),
        sa.UniqueConstraint("app_id", "version", name="uq_metadata_versions_app_id_version"),
    )
    op.create_table(
        "record_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_record_audit"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_record_audit_app_id_apps"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name="fk_record_audit_actor_id_users"),
    )
    op.create_index("ix_record_audit_record", "record_audit", ["app_id", "entity", "record_id"])
    op.create_table(
        "serial_counters",
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("value", ID, nullable=False),
        sa.PrimaryKeyConstraint("app_id", "entity", "field", "period",
                                name="pk_serial_counters"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_serial_counters_app_id_apps"),
    )


def downgrade() -> None:
    for table in ("serial_counters", "record_audit", "metadata_versions", "apps", "api_tokens",
                  "users", "departments", "workspaces"):
        op.drop_table(table)
