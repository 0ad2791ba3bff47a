"""Records shared explicitly with users.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_shares",
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("access", sa.String(10), nullable=False),
        sa.Column("shared_by", ID, nullable=True),
        sa.Column("shared_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("app_id", "entity", "record_id", "user_id",
                                name="pk_record_shares"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_record_shares_app_id_apps"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_record_shares_user_id_users"),
        sa.ForeignKeyConstraint(["shared_by"], ["users.id"],
                                name="fk_record_shares_shared_by_users"),
    )
    op.create_index("ix_record_shares_user", "record_shares", ["app_id", "entity", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_record_shares_user", "record_shares")
    op.drop_table("record_shares")
