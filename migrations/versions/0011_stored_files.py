"""Files uploaded for the file and image fields of records.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", ID, nullable=True),
        sa.Column("uploaded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stored_files"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_stored_files_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_stored_files_app_id_apps"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"],
                                name="fk_stored_files_uploaded_by_users"),
        sa.UniqueConstraint("key", name="uq_stored_files_key"),
    )


def downgrade() -> None:
    op.drop_table("stored_files")
