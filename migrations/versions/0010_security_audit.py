"""The security trail: changes to people, their rights, tokens and passwords.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from loom.platform.storage.types import ID, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_security_audit"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name="fk_security_audit_workspace_id_workspaces"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name="fk_security_audit_actor_id_users"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_security_audit_user_id_users"),
    )
    op.create_index("ix_security_audit_workspace", "security_audit", ["workspace_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_security_audit_workspace", table_name="security_audit")
    op.drop_table("security_audit")
