"""backlog: dirty marks per UTC hour — the triggers mark the (day, hour) of every change, so
today's past hours are refreshed and read from the hourly rollups while writes go on

Marks after this revision: (day, hour 0-23) = that hour is stale, and with it the day's
day-level rollups; (day, -1) = the day-level rollups are stale, its hours are fresh (left by a
refresh of today's hours); (day, NULL) = the whole day is stale (the marks made before this
revision become 24 hour marks); (NULL, NULL) = every day's totals are stale (pain point
changes). Same triggers and functions as b1a0c0de0006 with the hour added; on SQLite the
triggers are dropped and created again, on PostgreSQL the trigger functions are replaced.

Revision ID: b1a0c0de0013
Revises: b1a0c0de0012
Create Date: 2026-11-30 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0013"
down_revision: str | Sequence[str] | None = "b1a0c0de0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBS_COLUMNS = (
    "observed_at",
    "deleted_at",
    "journey_id",
    "site_id",
    "channel",
    "observer_id",
    "customer_minutes_lost",
)
VISIT_COLUMNS = ("started_at", "customers_observed", "site_id", "channel")


def _changed(columns: Sequence[str]) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def _sqlite_triggers(hourly: bool) -> dict[str, str]:
    """The SQLite triggers of b1a0c0de0006 (`hourly` False) or with the hour."""

    def when(column: str) -> tuple[str, str | None]:
        hour = f"CAST(substr({column}, 12, 2) AS INTEGER)" if hourly else None
        return f"substr({column}, 1, 10)", hour

    def mark(column: str) -> str:
        day, hour = when(column)
        if hour is None:
            return (
                f"INSERT INTO backlog_dirty (day) SELECT {day} "
                f"WHERE NOT EXISTS (SELECT 1 FROM backlog_dirty WHERE day = {day});"
            )
        return (
            f"INSERT INTO backlog_dirty (day, hour) SELECT {day}, {hour} WHERE NOT EXISTS "
            f"(SELECT 1 FROM backlog_dirty WHERE day = {day} AND hour = {hour});"
        )

    def mark_observation(ref: str) -> str:
        day, hour = when("o.observed_at")
        if hour is None:
            return (
                f"INSERT INTO backlog_dirty (day) SELECT {day} FROM observations o "
                f"WHERE o.id = {ref} AND NOT EXISTS "
                f"(SELECT 1 FROM backlog_dirty d WHERE d.day = {day});"
            )
        return (
            f"INSERT INTO backlog_dirty (day, hour) SELECT {day}, {hour} FROM observations o "
            f"WHERE o.id = {ref} AND NOT EXISTS "
            f"(SELECT 1 FROM backlog_dirty d WHERE d.day = {day} AND d.hour = {hour});"
        )

    return {
        "backlog_observations_insert": (
            f"AFTER INSERT ON observations BEGIN {mark('NEW.observed_at')} END"
        ),
        "backlog_observations_update": (
            f"AFTER UPDATE OF {', '.join(OBS_COLUMNS)} ON observations "
            f"WHEN {_changed(OBS_COLUMNS)} BEGIN "
            f"{mark('OLD.observed_at')}{mark('NEW.observed_at')} END"
        ),
        "backlog_observations_delete": (
            f"AFTER DELETE ON observations BEGIN {mark('OLD.observed_at')} END"
        ),
        "backlog_tags_insert": (
            f"AFTER INSERT ON observation_tags BEGIN {mark_observation('NEW.observation_id')} END"
        ),
        "backlog_tags_update": (
            "AFTER UPDATE ON observation_tags BEGIN "
            f"{mark_observation('OLD.observation_id')}{mark_observation('NEW.observation_id')}"
            " END"
        ),
        "backlog_tags_delete": (
            f"AFTER DELETE ON observation_tags BEGIN {mark_observation('OLD.observation_id')} END"
        ),
        "backlog_visits_insert": f"AFTER INSERT ON visits BEGIN {mark('NEW.started_at')} END",
        "backlog_visits_update": (
            f"AFTER UPDATE OF {', '.join(VISIT_COLUMNS)} ON visits "
            f"WHEN {_changed(VISIT_COLUMNS)} BEGIN "
            f"{mark('OLD.started_at')}{mark('NEW.started_at')} END"
        ),
        "backlog_visits_delete": f"AFTER DELETE ON visits BEGIN {mark('OLD.started_at')} END",
    }


def _pg_row(alias: str, columns: Sequence[str]) -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"


def _pg_functions(hourly: bool) -> dict[str, str]:
    """The PostgreSQL trigger functions of b1a0c0de0006 (`hourly` False) or with the hour:
    statement-level, one INSERT of the marks not made yet, share-locking those that exist."""

    def when(column: str) -> str:
        day = f"({column} AT TIME ZONE 'UTC')::date"
        if not hourly:
            return day
        return f"{day}, extract(hour FROM {column} AT TIME ZONE 'UTC')::int"

    def mark(rows: str) -> str:
        if not hourly:
            return (
                f"INSERT INTO backlog_dirty (day) SELECT x.day FROM ({rows}) AS x(day) "
                "WHERE NOT EXISTS (SELECT 1 FROM backlog_dirty b WHERE b.day = x.day FOR SHARE);"
            )
        return (
            f"INSERT INTO backlog_dirty (day, hour) SELECT x.day, x.hour FROM ({rows}) AS "
            "x(day, hour) WHERE NOT EXISTS (SELECT 1 FROM backlog_dirty b "
            "WHERE b.day = x.day AND b.hour = x.hour FOR SHARE);"
        )

    def changes(table_columns: Sequence[str], column: str) -> str:
        values = "(day)" if not hourly else "(day, hour)"
        return (
            f"SELECT DISTINCT v.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
            f"CROSS JOIN LATERAL (VALUES ({when('o.' + column)}), ({when('n.' + column)})) "
            f"AS v{values} WHERE {_pg_row('o', table_columns)} IS DISTINCT FROM "
            f"{_pg_row('n', table_columns)}"
        )

    def body(insert: str, delete: str, update: str) -> str:
        return (
            f"\nBEGIN\n  IF TG_OP = 'INSERT' THEN\n    {mark(insert)}\n"
            f"  ELSIF TG_OP = 'DELETE' THEN\n    {mark(delete)}\n"
            f"  ELSE\n    {mark(update)}\n  END IF;\n  RETURN NULL;\nEND"
        )

    tags = "SELECT DISTINCT {} FROM {} t JOIN observations o ON o.id = t.observation_id"
    return {
        "backlog_dirty_observations": body(
            f"SELECT DISTINCT {when('observed_at')} FROM new_rows",
            f"SELECT DISTINCT {when('observed_at')} FROM old_rows",
            changes(OBS_COLUMNS, "observed_at"),
        ),
        "backlog_dirty_tags": body(
            tags.format(when("o.observed_at"), "new_rows"),
            tags.format(when("o.observed_at"), "old_rows"),
            tags.format(
                when("o.observed_at"),
                "(SELECT observation_id FROM old_rows UNION SELECT observation_id FROM new_rows)",
            ),
        ),
        "backlog_dirty_visits": body(
            f"SELECT DISTINCT {when('started_at')} FROM new_rows",
            f"SELECT DISTINCT {when('started_at')} FROM old_rows",
            changes(VISIT_COLUMNS, "started_at"),
        ),
    }


def _install(hourly: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, sql in _sqlite_triggers(hourly).items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} {sql}")
    else:
        for name, sql in _pg_functions(hourly).items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$body${sql}\n$body$"
            )


def upgrade() -> None:
    op.add_column("backlog_dirty", sa.Column("hour", sa.SmallInteger(), nullable=True))
    op.drop_index("ix_backlog_dirty_day", table_name="backlog_dirty")
    op.create_index("ix_backlog_dirty_day_hour", "backlog_dirty", ["day", "hour"])
    # A stale day is its 24 stale hours: today's past hours can then be refreshed at once.
    hours = " UNION ALL ".join(f"SELECT {h} AS hour" for h in range(24))
    op.execute(
        "INSERT INTO backlog_dirty (day, hour) SELECT d.day, h.hour FROM (SELECT DISTINCT day "
        f"FROM backlog_dirty WHERE day IS NOT NULL AND hour IS NULL) d CROSS JOIN ({hours}) h"
    )
    op.execute("DELETE FROM backlog_dirty WHERE day IS NOT NULL AND hour IS NULL")
    _install(hourly=True)


def downgrade() -> None:
    _install(hourly=False)
    op.execute("UPDATE backlog_dirty SET hour = NULL")  # hour marks become whole-day marks
    op.drop_index("ix_backlog_dirty_day_hour", table_name="backlog_dirty")
    op.create_index("ix_backlog_dirty_day", "backlog_dirty", ["day"])
    op.drop_column("backlog_dirty", "hour")
