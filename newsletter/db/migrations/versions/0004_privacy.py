"""Privacy: subscriber ids are never given out twice, the ledger forgets erased subscribers, and the
database records which key seals the list.

Revision ID: 0004_privacy
Revises: 0003

SQLite reuses the highest rowid once that row is deleted, so a sign-up after `subscribers erase`
could inherit the erased subscriber's id and, with it, their ledger rows. The subscribers table is
rebuilt with AUTOINCREMENT (PostgreSQL's sequence never reuses a value), and ledger rows whose
subscriber no longer exists (erased before this version) are deleted.

`key_check` holds one row, a value derived from the key (never the key), written by `newsletter init`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_privacy"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")


def _subscribers(autoincrement: bool) -> sa.Table:
    """The subscribers table as 0002 made it, with or without SQLite's AUTOINCREMENT."""
    return sa.Table(
        "subscribers", sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blind_index", sa.String(64), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
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
        sa.CheckConstraint(sa.column("status").in_(STATUSES), name="ck_subscribers_subscriber_status"),
        sa.Index("ix_subscribers_status_id", "status", "id"),
        sqlite_autoincrement=autoincrement,
    )


def _rebuild_subscribers(autoincrement: bool) -> None:
    # SQLite cannot add AUTOINCREMENT to a table: copy it into a new one. migrate() runs this with
    # foreign keys off, so dropping the old table does not cascade into the outbox.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscribers", recreate="always", copy_from=_subscribers(autoincrement),
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    _rebuild_subscribers(autoincrement=True)
    op.execute("DELETE FROM deliveries WHERE subscriber_id NOT IN (SELECT id FROM subscribers)")
    op.create_table(
        "key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_key_check"),
    )


def downgrade() -> None:
    op.drop_table("key_check")
    _rebuild_subscribers(autoincrement=False)
