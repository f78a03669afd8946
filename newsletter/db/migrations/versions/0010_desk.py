"""The editor's desk: where each week's issue is in its life (and how it got there), and the editor's
choices for a week.

Revision ID: 0010_desk
Revises: 0009_reader_rows
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_desk"
down_revision = "0009_reader_rows"
branch_labels = None
depends_on = None

STATES = ("draft", "approved", "held", "sending", "paused", "sent", "cancelled", "skipped")


def _state() -> sa.Enum:
    return sa.Enum(*STATES, name="issue_state", native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "issue_states",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("state", _state(), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_issue_states"),
    )
    op.create_table(
        "issue_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("state", _state(), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_issue_events"),
    )
    op.create_index("ix_issue_events_week", "issue_events", ["week"])
    op.create_table(
        "issue_edits",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("pinned", sa.JSON(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("ordered", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("frozen", sa.JSON(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_issue_edits"),
    )


def downgrade() -> None:
    op.drop_table("issue_edits")
    op.drop_index("ix_issue_events_week", table_name="issue_events")
    op.drop_table("issue_events")
    op.drop_table("issue_states")
