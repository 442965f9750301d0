"""backlog: daily and hourly rollups (per pain point, presence bitmasks, totals, visits) and
the triggers that mark changed days dirty on every write path

Revision ID: b1a0c0de0006
Revises: b1a0c0de0005
Create Date: 2026-11-29 20:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0006"
down_revision: str | Sequence[str] | None = "b1a0c0de0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns whose change moves an observation in or out of a rollup row.
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
PAIN_POINT_COLUMNS = ("status", "stage_id", "layer", "journey_id")


def _sqlite_mark(day: str) -> str:
    # SQLite has one writer at a time, so "add unless present" cannot race with a refresh.
    return (
        f"INSERT INTO backlog_dirty (day) SELECT {day} "
        f"WHERE NOT EXISTS (SELECT 1 FROM backlog_dirty WHERE day = {day});"
    )


def _sqlite_mark_observation(ref: str) -> str:
    return (
        "INSERT INTO backlog_dirty (day) SELECT substr(o.observed_at, 1, 10) FROM observations o "
        f"WHERE o.id = {ref} AND NOT EXISTS "
        "(SELECT 1 FROM backlog_dirty d WHERE d.day = substr(o.observed_at, 1, 10));"
    )


def _changed(columns: Sequence[str]) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


SQLITE_TRIGGERS = {
    "backlog_observations_insert": (
        "AFTER INSERT ON observations BEGIN "
        + _sqlite_mark("substr(NEW.observed_at, 1, 10)")
        + " END"
    ),
    "backlog_observations_update": (
        f"AFTER UPDATE OF {', '.join(OBS_COLUMNS)} ON observations "
        f"WHEN {_changed(OBS_COLUMNS)} BEGIN "
        + _sqlite_mark("substr(OLD.observed_at, 1, 10)")
        + _sqlite_mark("substr(NEW.observed_at, 1, 10)")
        + " END"
    ),
    "backlog_observations_delete": (
        "AFTER DELETE ON observations BEGIN "
        + _sqlite_mark("substr(OLD.observed_at, 1, 10)")
        + " END"
    ),
    "backlog_tags_insert": (
        "AFTER INSERT ON observation_tags BEGIN "
        + _sqlite_mark_observation("NEW.observation_id")
        + " END"
    ),
    "backlog_tags_update": (
        "AFTER UPDATE ON observation_tags BEGIN "
        + _sqlite_mark_observation("OLD.observation_id")
        + _sqlite_mark_observation("NEW.observation_id")
        + " END"
    ),
    "backlog_tags_delete": (
        "AFTER DELETE ON observation_tags BEGIN "
        + _sqlite_mark_observation("OLD.observation_id")
        + " END"
    ),
    "backlog_visits_insert": (
        "AFTER INSERT ON visits BEGIN " + _sqlite_mark("substr(NEW.started_at, 1, 10)") + " END"
    ),
    "backlog_visits_update": (
        f"AFTER UPDATE OF {', '.join(VISIT_COLUMNS)} ON visits "
        f"WHEN {_changed(VISIT_COLUMNS)} BEGIN "
        + _sqlite_mark("substr(OLD.started_at, 1, 10)")
        + _sqlite_mark("substr(NEW.started_at, 1, 10)")
        + " END"
    ),
    "backlog_visits_delete": (
        "AFTER DELETE ON visits BEGIN " + _sqlite_mark("substr(OLD.started_at, 1, 10)") + " END"
    ),
    "backlog_pain_points_update": (
        f"AFTER UPDATE OF {', '.join(PAIN_POINT_COLUMNS)} ON pain_points "
        f"WHEN {_changed(PAIN_POINT_COLUMNS)} BEGIN "
        + _sqlite_mark("NULL").replace("day = NULL", "day IS NULL")
        + " END"
    ),
}


def _pg_row(alias: str, columns: Sequence[str]) -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"


def _utc_day(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


# Statement-level triggers with transition tables: one INSERT per statement, of the days not
# marked yet. A mark that exists is share-locked until the writer commits: a refresh must
# delete the marks it honours before recomputing, so it waits for that writer and then sees its
# rows; writers never wait on each other (share locks), and the log stays about one row a day.
def _pg_mark(days: str) -> str:
    return (
        f"INSERT INTO backlog_dirty (day) SELECT x.day FROM ({days}) AS x WHERE NOT EXISTS "
        "(SELECT 1 FROM backlog_dirty b WHERE b.day = x.day FOR SHARE);"
    )


PG_FUNCTIONS = {
    "backlog_dirty_observations": f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_pg_mark(f"SELECT DISTINCT {_utc_day('observed_at')} AS day FROM new_rows")}
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_mark(f"SELECT DISTINCT {_utc_day('observed_at')} AS day FROM old_rows")}
  ELSE
    {
        _pg_mark(
            "SELECT DISTINCT v.day FROM old_rows o JOIN new_rows n ON n.id = o.id "
            f"CROSS JOIN LATERAL (VALUES ({_utc_day('o.observed_at')}), "
            f"({_utc_day('n.observed_at')})) AS v(day) "
            f"WHERE {_pg_row('o', OBS_COLUMNS)} IS DISTINCT FROM {_pg_row('n', OBS_COLUMNS)}"
        )
    }
  END IF;
  RETURN NULL;
END""",
    "backlog_dirty_tags": f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {
        _pg_mark(
            f"SELECT DISTINCT {_utc_day('o.observed_at')} AS day "
            "FROM new_rows t JOIN observations o ON o.id = t.observation_id"
        )
    }
  ELSIF TG_OP = 'DELETE' THEN
    {
        _pg_mark(
            f"SELECT DISTINCT {_utc_day('o.observed_at')} AS day "
            "FROM old_rows t JOIN observations o ON o.id = t.observation_id"
        )
    }
  ELSE
    {
        _pg_mark(
            f"SELECT DISTINCT {_utc_day('o.observed_at')} AS day FROM (SELECT observation_id "
            "FROM old_rows UNION SELECT observation_id FROM new_rows) t "
            "JOIN observations o ON o.id = t.observation_id"
        )
    }
  END IF;
  RETURN NULL;
END""",
    "backlog_dirty_visits": f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_pg_mark(f"SELECT DISTINCT {_utc_day('started_at')} AS day FROM new_rows")}
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_mark(f"SELECT DISTINCT {_utc_day('started_at')} AS day FROM old_rows")}
  ELSE
    {
        _pg_mark(
            "SELECT DISTINCT v.day FROM old_rows o JOIN new_rows n ON n.id = o.id "
            f"CROSS JOIN LATERAL (VALUES ({_utc_day('o.started_at')}), "
            f"({_utc_day('n.started_at')})) AS v(day) "
            f"WHERE {_pg_row('o', VISIT_COLUMNS)} IS DISTINCT FROM {_pg_row('n', VISIT_COLUMNS)}"
        )
    }
  END IF;
  RETURN NULL;
END""",
    "backlog_dirty_pain_points": f"""
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE {_pg_row("o", PAIN_POINT_COLUMNS)}
                   IS DISTINCT FROM {_pg_row("n", PAIN_POINT_COLUMNS)})
     AND NOT EXISTS (SELECT 1 FROM backlog_dirty WHERE day IS NULL FOR SHARE) THEN
    INSERT INTO backlog_dirty (day) VALUES (NULL);
  END IF;
  RETURN NULL;
END""",
}

# (trigger, table, event, function)
PG_TRIGGERS = [
    ("backlog_observations_insert", "observations", "INSERT", "backlog_dirty_observations"),
    ("backlog_observations_update", "observations", "UPDATE", "backlog_dirty_observations"),
    ("backlog_observations_delete", "observations", "DELETE", "backlog_dirty_observations"),
    ("backlog_tags_insert", "observation_tags", "INSERT", "backlog_dirty_tags"),
    ("backlog_tags_update", "observation_tags", "UPDATE", "backlog_dirty_tags"),
    ("backlog_tags_delete", "observation_tags", "DELETE", "backlog_dirty_tags"),
    ("backlog_visits_insert", "visits", "INSERT", "backlog_dirty_visits"),
    ("backlog_visits_update", "visits", "UPDATE", "backlog_dirty_visits"),
    ("backlog_visits_delete", "visits", "DELETE", "backlog_dirty_visits"),
    ("backlog_pain_points_update", "pain_points", "UPDATE", "backlog_dirty_pain_points"),
]


def _transition(event: str) -> str:
    if event == "INSERT":
        return "REFERENCING NEW TABLE AS new_rows"
    if event == "DELETE":
        return "REFERENCING OLD TABLE AS old_rows"
    return "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"


def upgrade() -> None:
    op.create_table(
        "backlog_daily",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("severity_sum", sa.Integer(), nullable=False),
        sa.Column("minutes_sum", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim", "dim_value", "day", "pain_point_id", name="pk_backlog_daily"
        ),
    )
    op.create_index(
        "ix_backlog_daily_pain_point",
        "backlog_daily",
        ["pain_point_id", "dim", "dim_value", "day"],
    )
    op.create_index("ix_backlog_daily_day", "backlog_daily", ["day"])
    op.create_table(
        "backlog_presence",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("member_kind", sa.String(length=1), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "dim",
            "dim_value",
            "member_kind",
            "pain_point_id",
            "member",
            name="pk_backlog_presence",
        ),
    )
    op.create_table(
        "backlog_totals",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim", "dim_value", "kind", "value", "day", name="pk_backlog_totals"
        ),
    )
    op.create_index("ix_backlog_totals_day", "backlog_totals", ["day"])
    op.create_table(
        "backlog_visits_daily",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("customers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "dim_value", "day", name="pk_backlog_visits_daily"),
    )
    op.create_table(
        "backlog_hourly",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("severity_sum", sa.Integer(), nullable=False),
        sa.Column("minutes_sum", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim", "dim_value", "day", "hour", "pain_point_id", name="pk_backlog_hourly"
        ),
    )
    op.create_table(
        "backlog_presence_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("member_kind", sa.String(length=1), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "dim",
            "dim_value",
            "member_kind",
            "pain_point_id",
            "member",
            name="pk_backlog_presence_daily",
        ),
    )
    op.create_table(
        "backlog_totals_hourly",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim", "dim_value", "kind", "value", "day", "hour", name="pk_backlog_totals_hourly"
        ),
    )
    op.create_table(
        "backlog_visits_hourly",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("customers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "dim_value", "day", "hour", name="pk_backlog_visits_hourly"),
    )
    op.create_table(
        "backlog_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_backlog_dirty"),
    )
    op.create_index("ix_backlog_dirty_day", "backlog_dirty", ["day"])
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        for name, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body${body}\n$body$"
            )
        for name, table, event, function in PG_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} {_transition(event)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    # Existing data: every day is dirty until `gembalog`'s first backlog read or
    # app.backlog.rollup.rebuild() fills the rollups; until then reads use the raw rows.
    op.execute(
        "INSERT INTO backlog_dirty (day) SELECT DISTINCT day FROM ("
        + (
            "SELECT substr(observed_at, 1, 10) AS day FROM observations "
            "UNION SELECT substr(started_at, 1, 10) FROM visits"
            if op.get_bind().dialect.name == "sqlite"
            else f"SELECT {_utc_day('observed_at')} AS day FROM observations "
            f"UNION SELECT {_utc_day('started_at')} FROM visits"
        )
        + ") AS days"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table, _event, _function in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_backlog_dirty_day", table_name="backlog_dirty")
    op.drop_table("backlog_dirty")
    op.drop_table("backlog_visits_hourly")
    op.drop_table("backlog_totals_hourly")
    op.drop_table("backlog_presence_daily")
    op.drop_table("backlog_hourly")
    op.drop_table("backlog_visits_daily")
    op.drop_index("ix_backlog_totals_day", table_name="backlog_totals")
    op.drop_table("backlog_totals")
    op.drop_table("backlog_presence")
    op.drop_index("ix_backlog_daily_day", table_name="backlog_daily")
    op.drop_index("ix_backlog_daily_pain_point", table_name="backlog_daily")
    op.drop_table("backlog_daily")
