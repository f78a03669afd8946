"""Claims carry their owner: the sending process (host/pid/stamp) that holds a row and renews its lease.

Revision ID: 0006_claims
Revises: 0005_signups
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_claims"
down_revision = "0005_signups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows claimed before this version have no owner; their lease alone frees them, as before.
    op.add_column("deliveries", sa.Column("owner", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("owner")
