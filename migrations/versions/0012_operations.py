"""Operations: long work a request started (demo loads, imports, hand-overs), with its
progress, result or error.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operations",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("step", sa.JSON, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("started_by", ID, nullable=True),
        sa.Column("runner", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("heartbeat_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_operations_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE",
                                name="fk_operations_app_id_apps"),
        sa.ForeignKeyConstraint(["started_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_operations_started_by_users"),
    )
    op.create_index("ix_operations_workspace_status", "operations",
                    ["workspace_id", "status", "id"])
    op.create_index("ix_operations_started_by", "operations", ["started_by", "id"])


def downgrade() -> None:
    op.drop_index("ix_operations_started_by", "operations")
    op.drop_index("ix_operations_workspace_status", "operations")
    op.drop_table("operations")
