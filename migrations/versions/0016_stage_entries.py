"""The stages records went through on their stage-path fields (stage SOP).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("entered_at", UTCDateTime, nullable=False),
        sa.Column("entered_by", ID, nullable=True),
        sa.Column("left_at", UTCDateTime, nullable=True),
        sa.Column("due_at", UTCDateTime, nullable=True),
        sa.Column("reminded_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stage_entries"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_stage_entries_app_id_apps"),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"],
                                name="fk_stage_entries_entered_by_users"),
    )
    op.create_index("ix_stage_entries_record", "stage_entries",
                    ["app_id", "entity", "record_id", "field"])
    op.create_index("ix_stage_entries_due", "stage_entries",
                    ["reminded_at", "left_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_stage_entries_due", "stage_entries")
    op.drop_index("ix_stage_entries_record", "stage_entries")
    op.drop_table("stage_entries")
