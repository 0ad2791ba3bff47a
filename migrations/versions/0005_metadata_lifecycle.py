"""Metadata audit trail; template bases of apps created from a template.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metadata_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=True),
        sa.Column("app_slug", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("draft_revision", sa.Integer, nullable=True),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metadata_audit"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_metadata_audit_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="SET NULL",
                                name="fk_metadata_audit_app_id_apps"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name="fk_metadata_audit_actor_id_users"),
    )
    op.create_index("ix_metadata_audit_app", "metadata_audit",
                    ["workspace_id", "app_slug", "id"])
    op.create_table(
        "app_bases",
        sa.Column("app_id", ID, nullable=False),
        sa.Column("template", sa.String(40), nullable=False),
        sa.Column("template_version", sa.String(40), nullable=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("installed_at", UTCDateTime, nullable=False),
        sa.Column("pending_version", sa.String(40), nullable=True),
        sa.Column("pending_document", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("app_id", name="pk_app_bases"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_app_bases_app_id_apps"),
    )


def downgrade() -> None:
    op.drop_table("app_bases")
    op.drop_index("ix_metadata_audit_app", "metadata_audit")
    op.drop_table("metadata_audit")
