"""Deliveries: the per-recipient ledger of each issue.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATES = ("pending", "sending", "sent", "deferred", "failed", "skipped")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Enum(*STATES, name="delivery_state", native_enum=False,
                                   create_constraint=True, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE",
                                name="fk_deliveries_issue_id_issues"),
        sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_id"),
    )
    op.create_index("ix_deliveries_issue_id_state_id", "deliveries", ["issue_id", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_issue_id_state_id", table_name="deliveries")
    op.drop_table("deliveries")
