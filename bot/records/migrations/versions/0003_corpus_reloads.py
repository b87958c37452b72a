"""Reloads that reach every process: each /reload asked, what each process made of it, and
which processes are running now."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corpus_reloads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asked_by", sa.Text),
        sa.Column("asked_in", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("corpus_reloads_at", "corpus_reloads", ["at"])
    op.create_index("corpus_reloads_asked_by", "corpus_reloads", ["asked_by"])
    op.create_table(
        "corpus_reload_results",
        sa.Column(
            "reload_id",
            sa.Integer,
            sa.ForeignKey("corpus_reloads.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("process", sa.Text, primary_key=True),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("articles", sa.Integer),
        sa.Column("corpus_version", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "bot_processes",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("shards", sa.Text, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("alive_until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_processes")
    op.drop_table("corpus_reload_results")
    op.drop_table("corpus_reloads")
