"""Returned mail: the table of handled bounces, complaints and unsubscribes, and the late states they leave.

Revision ID: 0007_returns
Revises: 0006_claims

A sent ledger row can become `bounced` or `complained`, and a subscriber `complained`: the CHECK
constraints of both columns are widened: PostgreSQL swaps them in place, SQLite copies both tables.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_returns"
down_revision = "0006_claims"
branch_labels = None
depends_on = None

STATES = ("pending", "sending", "sent", "deferred", "failed", "skipped")
LATE_STATES = ("bounced", "complained")
STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")
HANDLINGS = ("bounced", "soft-bounce", "complained", "unsubscribed", "cancelled", "auto-reply", "other", "refused")


def _widen(states: tuple[str, ...], statuses: tuple[str, ...]) -> None:
    for table, name, column, values in (("deliveries", "ck_deliveries_delivery_state", "state", states),
                                        ("subscribers", "ck_subscribers_subscriber_status", "status", statuses)):
        # On SQLite the table is copied into a new one (migrate() runs with foreign keys off, so dropping
        # the old one cascades into nothing); the subscribers keep their AUTOINCREMENT.
        with op.batch_alter_table(table, recreate="auto",
                                  table_kwargs={"sqlite_autoincrement": table == "subscribers"}) as batch:
            batch.drop_constraint(op.f(name), type_="check")
            batch.create_check_constraint(op.f(name), sa.column(column).in_(values))


def upgrade() -> None:
    _widen((*STATES, *LATE_STATES), (*STATUSES, "complained"))
    op.create_table(
        "returned_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("handling", sa.Enum(*HANDLINGS, name="return_handling", native_enum=False, create_constraint=True,
                                      length=16), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_returned_mail"),
        sa.UniqueConstraint("digest", name="uq_returned_mail_digest"),
    )
    op.create_index("ix_returned_mail_subscriber_id_handling", "returned_mail",
                    ["subscriber_id", "handling", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_returned_mail_subscriber_id_handling", table_name="returned_mail")
    op.drop_table("returned_mail")
    op.execute("UPDATE deliveries SET state = 'failed' WHERE state IN ('bounced', 'complained')")
    op.execute("UPDATE subscribers SET status = 'unsubscribed' WHERE status = 'complained'")
    _widen(STATES, STATUSES)
