"""Workers' heartbeats: which worker processes run, when each last showed it was alive and
finished a round, so readiness checks and administrators see a worker that stopped.

Revision ID: 0040
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import UTCDateTime

revision = "0040"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("beat_at", UTCDateTime, nullable=False),
        sa.Column("round_at", UTCDateTime, nullable=True),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("failed_rounds", sa.Integer, nullable=False),
        sa.Column("last_round", sa.JSON, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("stopped_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("worker", name="pk_worker_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
