"""Servers' own shelves: each one's version and who changed what; which version of its article
each citation quoted.

The schema the bot numbered version 2 before it used Alembic (see 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as citations:
        citations.add_column(sa.Column("article_version", sa.Text))
    op.create_table(
        "shelves",
        sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "shelf_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("actor", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("shelf_changes_guild_at", "shelf_changes", ["guild_id", "at"])
    op.create_index("shelf_changes_actor", "shelf_changes", ["actor"])


def downgrade() -> None:
    op.drop_table("shelf_changes")
    op.drop_table("shelves")
    with op.batch_alter_table("citations") as citations:
        citations.drop_column("article_version")
