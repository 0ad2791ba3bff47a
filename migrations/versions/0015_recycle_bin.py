"""The recycle bin: deleted records kept for a while, with what their delete cascaded to
and the references it cleared, so they can be restored.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recycle_bin",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("app_version", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("deleted_at", UTCDateTime, nullable=False),
        sa.Column("deleted_by", ID, nullable=True),
        sa.Column("restored_at", UTCDateTime, nullable=True),
        sa.Column("restored_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recycle_bin"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_recycle_bin_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_recycle_bin_app_id_apps"),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_recycle_bin_deleted_by_users"),
        sa.ForeignKeyConstraint(["restored_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_recycle_bin_restored_by_users"),
    )
    op.create_index("ix_recycle_bin_app", "recycle_bin", ["app_id", "entity", "id"])
    op.create_index("ix_recycle_bin_deleted_at", "recycle_bin", ["deleted_at"])


def downgrade() -> None:
    op.drop_index("ix_recycle_bin_deleted_at", table_name="recycle_bin")
    op.drop_index("ix_recycle_bin_app", table_name="recycle_bin")
    op.drop_table("recycle_bin")
