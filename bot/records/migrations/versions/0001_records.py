"""The records: replies, their citations, votes, and the salt that keys every pseudonym.

The schema the bot numbered version 1 before it used Alembic: a database of that version is
stamped with this revision as it is, so its tables must stay exactly as they were.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("pseudonym_salt", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "replies",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("corpus_version", sa.Text, nullable=False),
        sa.Column("guild_id", sa.BigInteger),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("asker", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("replies_at", "replies", ["at"])
    op.create_index("replies_asker", "replies", ["asker"])
    op.create_table(
        "votes",
        sa.Column(
            "reply_id", sa.Text, sa.ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("voter", sa.Text, primary_key=True),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("votes_voter", "votes", ["voter"])
    op.create_index("votes_at", "votes", ["at"])
    op.create_table(
        "citations",
        sa.Column(
            "reply_id", sa.Text, sa.ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("paragraph", sa.Integer, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("quote", sa.Text, nullable=False),
    )
    # The runner sets schema_version to the latest revision's number once all have run.
    salt = secrets.token_bytes(32)
    op.bulk_insert(meta, [{"id": 1, "schema_version": 1, "pseudonym_salt": salt}])


def downgrade() -> None:
    for table in ("citations", "votes", "replies", "meta"):
        op.drop_table(table)
