"""Subscribers: encrypted addresses found by blind index, consent records, and the transactional outbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")
MAIL_STATES = ("pending", "sending", "sent", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("blind_index", sa.String(64), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.Enum(*STATUSES, name="subscriber_status", native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column("nonce", sa.String(16), nullable=False),
        sa.Column("consent_form", sa.String(32), nullable=False),
        sa.Column("consent_text_version", sa.String(32), nullable=False),
        sa.Column("consent_note", sa.Text(), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("blind_index", name="uq_subscribers_blind_index"),
    )
    op.create_index("ix_subscribers_status_id", "subscribers", ["status", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.Enum(*MAIL_STATES, name="mail_state", native_enum=False,
                                   create_constraint=True, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE",
                                name="fk_outbox_subscriber_id_subscribers"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_subscriber_id", "outbox", ["subscriber_id"])
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_index("ix_outbox_subscriber_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_subscribers_status_id", table_name="subscribers")
    op.drop_table("subscribers")
