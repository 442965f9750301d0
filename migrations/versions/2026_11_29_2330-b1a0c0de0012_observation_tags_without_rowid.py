"""observation_tags: a WITHOUT ROWID table on SQLite, without ix_observation_tags_backlog

On SQLite a rowid table with a composite primary key keeps two b-trees for it (the rows by
rowid, and the key's automatic index), and ix_observation_tags_backlog (observation_id,
pain_point_id, severity) was a third copy of the same key plus severity. As a WITHOUT ROWID
table the rows live in the primary key's b-tree, ordered by (observation_id, pain_point_id)
with severity beside them: that b-tree is the covering index, so the backlog index is redundant
and dropped. Every tag then writes two b-trees instead of four (random observation ids: each
write dirties a page that the commit copies to the WAL). Measured on raw inserts of 500
observations with two tags each: ~55 → ~41 µs per observation (bench/README.md, write_path).

PostgreSQL keeps its schema: its tables are heaps either way (there is no table stored in its
key's b-tree to switch to), and ix_observation_tags_backlog stays its covering index for
index-only scans. The models declare the table with sqlite_with_rowid=False (ignored by
PostgreSQL); migrations/env.py leaves the index out of SQLite's comparison
(app.models.field.SQLITE_OMITTED_INDEXES).

SQLite rebuilds the table by "move and copy", which drops the triggers on it — the backlog's
dirty-day triggers (b1a0c0de0006, possibly redefined by later backlog revisions). They are read
from sqlite_master before the rebuild and recreated from that same DDL afterwards, so the rebuild
keeps exactly the triggers that existed, whichever revision wrote them.

Revision ID: b1a0c0de0012
Revises: b1a0c0de0011
Create Date: 2026-11-29 23:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b1a0c0de0012"
down_revision: str | Sequence[str] | None = "b1a0c0de0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "observation_tags"
BACKLOG_INDEX = "ix_observation_tags_backlog"
BACKLOG_COLUMNS = ["observation_id", "pain_point_id", "severity"]


def _triggers() -> list[tuple[str, str]]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        (TABLE,),
    )
    return [(name, sql) for name, sql in rows]


def _rebuild(*, with_rowid: bool) -> None:
    triggers = _triggers()
    with op.batch_alter_table(
        TABLE, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ) as batch_op:
        if with_rowid:
            batch_op.create_index(BACKLOG_INDEX, BACKLOG_COLUMNS)
        else:
            batch_op.drop_index(BACKLOG_INDEX)
    for _name, sql in triggers:
        op.execute(sql)
    if _triggers() != triggers:  # pragma: no cover - a guard on the rebuild itself
        raise RuntimeError(f"the rebuild of {TABLE} did not keep its triggers")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=True)
