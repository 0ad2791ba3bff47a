"""What a record's timeline reads: the record an email or webhook was sent about, and an
index to find a record's notifications.

Revision ID: 0055
Revises: 0040
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID

revision = "0055"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("entity", sa.String(40), nullable=True))
        batch.add_column(sa.Column("record_id", ID, nullable=True))
    op.create_index("ix_outbox_record", "outbox", ["app_id", "entity", "record_id"])
    op.create_index("ix_notifications_record", "notifications",
                    ["app_id", "entity", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_record", "notifications")
    op.drop_index("ix_outbox_record", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("record_id")
        batch.drop_column("entity")
