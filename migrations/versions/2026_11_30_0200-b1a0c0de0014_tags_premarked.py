"""observation_tags: SQLite's tag insert trigger skips tags whose observation was just inserted

SQLite's backlog_tags_insert (b1a0c0de0006, hourly since b1a0c0de0013) looks up each new tag's
observation to mark its (day, hour): three b-tree descents and an INSERT … SELECT per tag,
about a third of the sync's tag insert. When the observations were inserted earlier in the
same transaction, their own insert trigger (backlog_observations_insert) has already marked
those very hours, so the tags' marks add nothing. The table tags_premarked lets a writer say
so: while it holds a row, the trigger's WHEN clause (one read of that table's root page) skips
the work. The writer inserts the row just before such tags and deletes it just after (the
sync's bulk path); `guard` references a row that never exists, with the check deferred to the
commit, so a row left behind makes the commit fail instead of leaving later tags unmarked.

The trigger is recreated from its own DDL read from sqlite_master, with the WHEN clause added
(upgrade) or removed (downgrade), so whichever backlog revision wrote its body is kept.
PostgreSQL's trigger is statement-level (one join of the new tags to their observations per
INSERT) and is unchanged; the table exists there too, unused, so both databases share one
schema.

Revision ID: b1a0c0de0014
Revises: b1a0c0de0013
Create Date: 2026-11-30 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0014"
down_revision: str | Sequence[str] | None = "b1a0c0de0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "backlog_tags_insert"
PLAIN = "AFTER INSERT ON observation_tags BEGIN"
SKIPPING = "AFTER INSERT ON observation_tags WHEN NOT EXISTS (SELECT 1 FROM tags_premarked) BEGIN"


def _rewrite_trigger(old: str, new: str) -> None:
    sql = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (TRIGGER,)
        )
        .scalar()
    )
    if sql is None or sql.count(old) != 1:
        raise RuntimeError(f"{TRIGGER} is not the trigger this revision expects: {sql!r}")
    op.execute(f"DROP TRIGGER {TRIGGER}")
    op.execute(sql.replace(old, new))


def upgrade() -> None:
    op.create_table(
        "tags_premarked",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guard", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guard"],
            ["tags_premarked.id"],
            name=op.f("fk_tags_premarked_guard_tags_premarked"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags_premarked")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_trigger(PLAIN, SKIPPING)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_trigger(SKIPPING, PLAIN)
    op.drop_table("tags_premarked")
