"""Sign-ups: what the form posted, queued for the worker, so that every sign-up costs its request alike.

Revision ID: 0005_signups
Revises: 0004_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_signups"
down_revision = "0004_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blind_index", sa.String(length=64), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("consent_form", sa.String(length=32), nullable=False),
        sa.Column("consent_text_version", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signups"),
    )
    op.create_index("ix_signups_blind_index", "signups", ["blind_index"])


def downgrade() -> None:
    op.drop_index("ix_signups_blind_index", table_name="signups")
    op.drop_table("signups")
