"""A reader's delivery rows found without reading the whole ledger: the reader's download and their
erasure look them up by subscriber across every issue, which the (issue, subscriber) key cannot serve.

Revision ID: 0009_reader_rows
Revises: 0008_reader
"""

from alembic import op

revision = "0009_reader_rows"
down_revision = "0008_reader"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_subscriber_id", table_name="deliveries")
