"""Content: excerpts, issues and the excerpts each issue carries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "excerpts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lesson_date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("paragraphs", sa.JSON(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_excerpts"),
        sa.UniqueConstraint("content_hash", name="uq_excerpts_content_hash"),
    )
    op.create_index("ix_excerpts_lesson_date", "excerpts", ["lesson_date"])
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issues"),
        sa.UniqueConstraint("week", name="uq_issues_week"),
    )
    op.create_table(
        "issue_excerpts",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("excerpt_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE",
                                name="fk_issue_excerpts_issue_id_issues"),
        sa.ForeignKeyConstraint(["excerpt_id"], ["excerpts.id"],
                                name="fk_issue_excerpts_excerpt_id_excerpts"),
        sa.PrimaryKeyConstraint("issue_id", "excerpt_id", name="pk_issue_excerpts"),
    )


def downgrade() -> None:
    op.drop_table("issue_excerpts")
    op.drop_table("issues")
    op.drop_index("ix_excerpts_lesson_date", table_name="excerpts")
    op.drop_table("excerpts")
