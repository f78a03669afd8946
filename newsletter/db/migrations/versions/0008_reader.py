"""The reader's own page: a pause that ends by itself, a new address waiting for its confirmation, and a
record of what the reader did and when.

Revision ID: 0008_reader
Revises: 0007_returns
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_reader"
down_revision = "0007_returns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("subscribers", sa.Column("new_address", sa.LargeBinary(), nullable=True))
    op.add_column("subscribers", sa.Column("new_blind_index", sa.String(length=64), nullable=True))
    op.add_column("subscribers", sa.Column("change_mailed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name="fk_consent_events_subscriber_id_subscribers", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_consent_events"),
    )
    op.create_index("ix_consent_events_subscriber_id", "consent_events", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_consent_events_subscriber_id", table_name="consent_events")
    op.drop_table("consent_events")
    with op.batch_alter_table("subscribers") as batch:
        for column in ("change_mailed_at", "new_blind_index", "new_address", "paused_until"):
            batch.drop_column(column)
