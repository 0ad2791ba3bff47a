"""Job runs: what an app's jobs (RFM scoring …) did, and the claim of each scheduled tick.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("slot", sa.String(40), nullable=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_job_runs_app_id_apps"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_job_runs_actor_id_users"),
        sa.UniqueConstraint("app_id", "job", "slot", name="uq_job_runs_app_id_job_slot"),
    )
    op.create_index("ix_job_runs_app_job", "job_runs", ["app_id", "job", "id"])


def downgrade() -> None:
    op.drop_index("ix_job_runs_app_job", "job_runs")
    op.drop_table("job_runs")
