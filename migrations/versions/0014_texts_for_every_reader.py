"""Tasks and notifications keep their texts in a form every reader's language can render
(plain, localized, or a catalog message with its parameters).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("tasks", "notifications"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("texts", sa.JSON, nullable=True))


def downgrade() -> None:
    for table in ("tasks", "notifications"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("texts")
