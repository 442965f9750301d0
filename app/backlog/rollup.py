"""The backlog's rollups (app/models/rollups.py): whole UTC days, recomputed from the raw rows.

Every recompute inserts its rows in key order (ORDER BY the grouping): a hash aggregate's
output order scattered one day's rows over thousands of heap pages on PostgreSQL (a backlog
read of one day's presence cost 10 ms in page visits).

Exactness comes from invalidation rather than from deltas. Triggers (migration b1a0c0de0006)
append the UTC day of every inserted, updated or deleted observation, tag or visit to
`backlog_dirty`, in the writing transaction, whatever the write path: single creates, sync,
PATCH (time, site, channel, tags, soft delete), merges (tags re-pointed), CSV import, the demo
loader, bulk SQL. A change of a pain point's status, stage or layer appends a NULL day: the
totals of every day are stale (the per-pain-point rollups are keyed by pain point and join
`pain_points` at query time, so they stay valid). Readers (queries.py) take whole days that are
not dirty from the rollups and everything else — the partial days at the window's edges and
dirty days — from the raw rows, so every answer is exact at every moment.

Long windows read few rows: `backlog_blocks` adds the daily rows up over aligned blocks of 4,
16 and 64 days (a block's first day is a multiple of its span after 1970-01-01), and
`backlog_presence` holds, per block of 1, 4, 16 or 64 days, the set of sites and observers
that saw a pain point as bits of their `backlog_members` numbers (63 per row), so a distinct
count is the popcount of an OR of a few rows; both are derived from the daily tables and
recomputed with the days they hold. Readers use a block only when none of its days is dirty,
so a 90-day window with its previous window reads ~25 rows per pain point instead of 180.

`refresh` recomputes dirty days (and the blocks holding them); the backlog endpoints schedule
it after their response when they met dirty past days (today's day is always changing and
served raw). `rebuild` recomputes everything (bulk loads, `gembalog demo`, the bench); member
numbers are kept.

Concurrency. SQLite has one writer at a time, so marking and refreshing cannot interleave. On
PostgreSQL a writer adds a mark for a day unless one exists, which it then share-locks until it
commits; a refresh, serialised by an advisory lock, first DELETEs the marks it will honour
(waiting for those writers) and then recomputes in later statements (READ COMMITTED: a fresh
snapshot per statement), so it sees every write whose mark it removed; a mark added later
survives and keeps its day dirty. Writers never wait on each other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.models.base import UTCDateTime, utcnow

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# Runs of whole days [first, end), or ranges of instants (hours of today).
Ranges = list[tuple[date, date]] | list[tuple[datetime, datetime]]
ROLLUPS = (
    "backlog_daily",
    "backlog_blocks",
    "backlog_presence",
    "backlog_totals",
    "backlog_visits_daily",
    "backlog_hourly",
    "backlog_hour_blocks",
    "backlog_presence_daily",
    "backlog_totals_hourly",
    "backlog_visits_hourly",
)
ANALYZE = ("observations", "observation_tags", "pain_points", "visits", "backlog_members", *ROLLUPS)
LOCK_KEY = 0x6A6D_6261_6B6C  # pg_advisory_xact_lock key of the refresher
EPOCH = date(1970, 1, 1)
# Aligned blocks of days of `backlog_blocks` and `backlog_presence` (largest first; presence
# also has single days, span 1), and how many members one presence row's bits hold.
SPANS = (64, 16, 4)
CHUNK = 63
# Aligned blocks of hours of a day in `backlog_hour_blocks` (single hours: `backlog_hourly`).
HOUR_SPANS = (12, 4)

# Observation slices: (dim, value expression, condition). Members of the presence bitmasks:
# which distinct counts each slice needs (a site slice has one site, an observer slice one
# observer).
OBS_SLICES = ("a", "s", "c", "o")
PRESENCE_MEMBERS = {"a": ("s", "o"), "s": ("o",), "c": ("s", "o"), "o": ("s",)}
VISIT_SLICES = ("a", "s", "c")


@dataclass(frozen=True)
class Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    dialect: str

    def day(self, column: str) -> str:
        if self.dialect == "sqlite":
            return f"substr({column}, 1, 10)"
        return f"({column} AT TIME ZONE 'UTC')::date"

    def day_number(self, column: str) -> str:
        """Days from 1970-01-01 to a date column."""
        if self.dialect == "sqlite":
            return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
        return f"({column} - DATE '1970-01-01')"

    def block(self, column: str, span: int) -> str:
        """The first day of the aligned block of `span` days holding a date column."""
        offset = f"({self.day_number(column)} % {span})"
        if self.dialect == "sqlite":
            return f"date({column}, '-' || {offset} || ' days')"
        return f"({column} - {offset})"

    def hour(self, column: str) -> str:
        if self.dialect == "sqlite":
            return f"CAST(substr({column}, 12, 2) AS INTEGER)"
        return f"extract(hour FROM {column} AT TIME ZONE 'UTC')::int"

    def hour_bits(self, column: str) -> str:
        """OR of the hour-of-day bits of the group's rows."""
        if self.dialect == "sqlite":
            return f"sum(DISTINCT 1 << {self.hour(column)})"
        return f"bit_or(1 << {self.hour(column)})"

    def bit_or(self, bit: str) -> str:
        """OR of single-bit values `1 << bit` over a group (SQLite: each bit counted once)."""
        if self.dialect == "sqlite":
            return f"sum(DISTINCT 1 << {bit})"
        return f"bit_or(1::bigint << {bit})"

    def hex(self, column: str) -> str:
        """A uuid as 32 lowercase hex digits (SQLite stores them so already)."""
        if self.dialect == "sqlite":
            return column
        return f"replace({column}::text, '-', '')"

    def dim_value(self, dim: str, alias: str = "o") -> tuple[str, str | None]:
        if dim == "a":
            return "''", None
        if dim == "s":
            return self.hex(f"{alias}.site_id"), f"{alias}.site_id IS NOT NULL"
        if dim == "c":
            return f"{alias}.channel", f"{alias}.channel IS NOT NULL"
        return self.hex(f"{alias}.observer_id"), None

    def member(self, kind: str) -> tuple[str, str | None]:
        if kind == "s":
            return self.hex("o.site_id"), "o.site_id IS NOT NULL"
        return self.hex("o.observer_id"), None


def day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def block_of(d: date, span: int) -> date:
    """The first day of the aligned block of `span` days that holds `d`."""
    return d - timedelta(days=(d - EPOCH).days % span)


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as [first, last + 1) runs of consecutive days."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + DAY)
        else:
            out.append((d, d + DAY))
    return out


class _Binds:
    """Named, typed bind parameters for text() statements."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.types: dict[str, Any] = {}

    def add(self, value: Any, type_: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        self.types[name] = type_
        return f":{name}"

    def statement(self, sql: str) -> sa.TextClause:
        stmt = text(sql)
        if self.types:
            stmt = stmt.bindparams(
                *[sa.bindparam(k, type_=t) for k, t in self.types.items() if f":{k}" in sql]
            )
        return stmt

    def run(self, session: Session, sql: str) -> Any:
        used = {k: v for k, v in self.values.items() if f":{k}" in sql}
        return session.execute(self.statement(sql), used)


def _instant(value: date) -> datetime:
    return value if isinstance(value, datetime) else day_start(value)


def _time_filter(b: _Binds, column: str, runs: Ranges | None) -> str:
    """Runs of whole days [first, end) or ranges of instants."""
    if runs is None:
        return "1 = 1"
    parts = [
        f"({column} >= {b.add(_instant(lo), UTCDateTime())} "
        f"AND {column} < {b.add(_instant(hi), UTCDateTime())})"
        for lo, hi in runs
    ]
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def _day_filter(b: _Binds, column: str, runs: list[tuple[date, date]] | None) -> str:
    if runs is None:
        return "1 = 1"
    parts = [
        f"({column} >= {b.add(lo, sa.Date())} AND {column} < {b.add(hi, sa.Date())})"
        for lo, hi in runs
    ]
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def _source(q: Sql, b: _Binds, runs: Ranges | None, cond: str | None) -> str:
    where = f"o.deleted_at IS NULL AND {_time_filter(b, 'o.observed_at', runs)}"
    if cond:
        where += f" AND {cond}"
    return f"FROM observation_tags t JOIN observations o ON o.id = t.observation_id WHERE {where}"


def _daily(session: Session, q: Sql, runs: Ranges | None, *, hourly: bool = False) -> None:
    table = "backlog_hourly" if hourly else "backlog_daily"
    for dim in OBS_SLICES:
        b = _Binds()
        value, cond = q.dim_value(dim)
        when = [q.day("o.observed_at")] + ([q.hour("o.observed_at")] if hourly else [])
        group = ", ".join(([] if dim == "a" else [value]) + [*when, "t.pain_point_id"])
        b.run(
            session,
            f"INSERT INTO {table} (dim, dim_value, day, {'hour, ' if hourly else ''}"
            "pain_point_id, n, severity_sum, minutes_sum, first_at, last_at) "
            f"SELECT '{dim}', {value}, {', '.join(when)}, t.pain_point_id, count(*),"
            " sum(t.severity), sum(coalesce(o.customer_minutes_lost, 0)), min(o.observed_at),"
            f" max(o.observed_at) {_source(q, b, runs, cond)} GROUP BY {group} ORDER BY {group}",
        )


def _totals(session: Session, q: Sql, runs: Ranges | None, *, hourly: bool = False) -> None:
    table = "backlog_totals_hourly" if hourly else "backlog_totals"
    kinds = {
        "j": q.hex("p.journey_id"),
        "s": q.hex("p.stage_id"),
        "l": "coalesce(p.layer, '-')",
    }
    when = [q.day("o.observed_at")] + ([q.hour("o.observed_at")] if hourly else [])
    for dim in OBS_SLICES:
        value, cond = q.dim_value(dim)
        for kind, kvalue in kinds.items():
            b = _Binds()
            group = ", ".join(([] if dim == "a" else [value]) + [kvalue, *when])
            src = _source(q, b, runs, cond).replace(
                "WHERE ",
                "JOIN pain_points p ON p.id = t.pain_point_id AND p.status <> 'archived' WHERE ",
                1,
            )
            b.run(
                session,
                f"INSERT INTO {table} (dim, dim_value, kind, value, day"
                f"{', hour' if hourly else ''}, n) "
                f"SELECT '{dim}', {value}, '{kind}', {kvalue}, {', '.join(when)},"
                f" count(DISTINCT o.id) {src} GROUP BY {group} ORDER BY {group}",
            )


def _visits(session: Session, q: Sql, runs: Ranges | None, *, hourly: bool = False) -> None:
    table = "backlog_visits_hourly" if hourly else "backlog_visits_daily"
    when = [q.day("o.started_at")] + ([q.hour("o.started_at")] if hourly else [])
    for dim in VISIT_SLICES:
        b = _Binds()
        value, cond = q.dim_value(dim, alias="o")
        where = _time_filter(b, "o.started_at", runs)
        if cond:
            where += f" AND {cond}"
        group = ", ".join(([] if dim == "a" else [value]) + when)
        b.run(
            session,
            f"INSERT INTO {table} (dim, dim_value, day{', hour' if hourly else ''}, customers) "
            f"SELECT '{dim}', {value}, {', '.join(when)}, sum(coalesce(o.customers_observed, 0)) "
            f"FROM visits o WHERE {where} GROUP BY {group} ORDER BY {group}",
        )


def _presence_daily(session: Session, q: Sql, runs: Ranges | None, *, merge: bool = False) -> None:
    """Per member and day, the hours seen (bits). `merge`: OR the bits into existing rows
    (a refresh of some hours of a day, whose bits were cleared first)."""
    day = q.day("o.observed_at")
    for dim, kinds in PRESENCE_MEMBERS.items():
        value, cond = q.dim_value(dim)
        for kind in kinds:
            member, mcond = q.member(kind)
            b = _Binds()
            conds = " AND ".join(c for c in (cond, mcond) if c)
            group = ", ".join([day, *([] if dim == "a" else [value]), "t.pain_point_id", member])
            select = (
                f"SELECT {day} AS day, '{dim}' AS dim, {value} AS dim_value,"
                f" '{kind}' AS member_kind, t.pain_point_id AS pain_point_id, {member} AS member,"
                f" {q.hour_bits('o.observed_at')} AS bits "
                f"{_source(q, b, runs, conds or None)} GROUP BY {group} ORDER BY {group}"
            )
            sql = (
                "INSERT INTO backlog_presence_daily (day, dim, dim_value, member_kind,"
                f" pain_point_id, member, bits) SELECT * FROM ({select}) AS x WHERE 1 = 1"
            )
            if merge:  # (the WHERE lets SQLite parse the ON CONFLICT of an INSERT … SELECT)
                sql += (
                    " ON CONFLICT (day, dim, dim_value, member_kind, pain_point_id, member)"
                    " DO UPDATE SET bits = backlog_presence_daily.bits | excluded.bits"
                )
            b.run(session, sql)


def _blocks(session: Session, q: Sql, days: frozenset[date] | None) -> None:
    """`backlog_blocks` from `backlog_daily`: every block (`days` None) or the blocks holding
    `days`."""
    for span in SPANS:
        b = _Binds()
        block = q.block("day", span)
        runs = None if days is None else _block_runs(days, span)
        group = f"dim, dim_value, {block}, pain_point_id"
        b.run(
            session,
            "INSERT INTO backlog_blocks (dim, dim_value, span, day, pain_point_id, n,"
            " severity_sum, minutes_sum, first_at, last_at) "
            f"SELECT dim, dim_value, {span}, {block}, pain_point_id, sum(n), sum(severity_sum),"
            " sum(minutes_sum), min(first_at), max(last_at) FROM backlog_daily "
            f"WHERE {_day_filter(b, 'day', runs)} GROUP BY {group} ORDER BY {group}",
        )


def _hour_blocks(session: Session, runs: list[tuple[date, date]] | None) -> None:
    """`backlog_hour_blocks` from `backlog_hourly` on the days of `runs` (all when None)."""
    for span in HOUR_SPANS:
        b = _Binds()
        hour = f"(hour / {span}) * {span}"
        group = f"dim, dim_value, day, {hour}, pain_point_id"
        b.run(
            session,
            "INSERT INTO backlog_hour_blocks (dim, dim_value, day, span, hour, pain_point_id,"
            " n, severity_sum, minutes_sum, first_at, last_at) "
            f"SELECT dim, dim_value, day, {span}, {hour}, pain_point_id, sum(n),"
            " sum(severity_sum), sum(minutes_sum), min(first_at), max(last_at) "
            f"FROM backlog_hourly WHERE {_day_filter(b, 'day', runs)} "
            f"GROUP BY {group} ORDER BY {group}",
        )


def _members(session: Session, runs: list[tuple[date, date]] | None) -> None:
    """Numbers the sites and observers of `backlog_presence_daily` (in `runs`) not numbered
    yet, densely per kind."""
    b = _Binds()
    b.run(
        session,
        "INSERT INTO backlog_members (kind, member, idx) "
        "SELECT x.member_kind, x.member, (SELECT coalesce(max(m.idx) + 1, 0) FROM"
        " backlog_members m WHERE m.kind = x.member_kind) + row_number() OVER"
        " (PARTITION BY x.member_kind ORDER BY x.member) - 1 "
        "FROM (SELECT DISTINCT member_kind, member FROM backlog_presence_daily"
        f" WHERE {_day_filter(b, 'day', runs)}) x "
        "WHERE NOT EXISTS (SELECT 1 FROM backlog_members m"
        " WHERE m.kind = x.member_kind AND m.member = x.member)",
    )


def _presence(session: Session, q: Sql, days: frozenset[date] | None) -> None:
    """`backlog_presence` from `backlog_presence_daily`: every block (`days` None) or the
    blocks holding `days`."""
    for span in (*SPANS, 1):
        b = _Binds()
        block = q.block("p.day", span)
        runs = None if days is None else _block_runs(days, span)
        group = f"p.dim, p.dim_value, {block}, p.member_kind, p.pain_point_id, m.idx / {CHUNK}"
        b.run(
            session,
            "INSERT INTO backlog_presence (dim, dim_value, span, day, member_kind,"
            " pain_point_id, chunk, bits) "
            f"SELECT p.dim, p.dim_value, {span}, {block}, p.member_kind, p.pain_point_id,"
            f" m.idx / {CHUNK}, {q.bit_or(f'(m.idx % {CHUNK})')} "
            "FROM backlog_presence_daily p JOIN backlog_members m"
            " ON m.kind = p.member_kind AND m.member = p.member "
            f"WHERE {_day_filter(b, 'p.day', runs)} GROUP BY {group} ORDER BY {group}",
        )


def _block_runs(days: Iterable[date], span: int) -> list[tuple[date, date]]:
    """The whole aligned blocks of `span` days holding `days`, as [first, end) runs."""
    starts = {block_of(d, span) for d in days}
    return day_ranges(s + timedelta(days=k) for s in starts for k in range(span))


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))


def rebuild(session: Session) -> None:
    """Recomputes every rollup from the raw rows (after bulk loads) and refreshes the planner
    statistics. The caller commits."""
    q = Sql(session.get_bind().dialect.name)
    _lock(session)
    session.execute(text("DELETE FROM backlog_dirty"))
    for table in ROLLUPS:
        session.execute(text(f"DELETE FROM {table}"))
    _daily(session, q, None)
    _blocks(session, q, None)
    _totals(session, q, None)
    _visits(session, q, None)
    _daily(session, q, None, hourly=True)
    _hour_blocks(session, None)
    _presence_daily(session, q, None)
    _members(session, None)
    _presence(session, q, None)
    _totals(session, q, None, hourly=True)
    _visits(session, q, None, hourly=True)
    for table in ANALYZE:
        session.execute(text(f"ANALYZE {table}"))


@dataclass(frozen=True)
class Pending:
    """The marks (see the migration b1a0c0de0013): `days` whose day-level rollups are stale,
    of those the `hours` (day, hour) that are stale and the days stale `whole`; and whether
    every day's totals are stale."""

    days: frozenset[date]
    totals_stale: bool
    hours: frozenset[tuple[date, int]] = frozenset()
    whole: frozenset[date] = frozenset()


def pending(session: Session, lo: date | None = None, hi: date | None = None) -> Pending:
    """The marks of the days in [lo, hi) (all when unbounded)."""
    b = _Binds()
    cond = "day IS NOT NULL"
    if lo is not None:
        cond += f" AND day >= {b.add(lo, sa.Date())}"
    if hi is not None:
        cond += f" AND day < {b.add(hi, sa.Date())}"
    rows = b.run(
        session,
        f"SELECT DISTINCT day, hour FROM backlog_dirty WHERE ({cond}) OR day IS NULL",
    )
    days: set[date] = set()
    hours: set[tuple[date, int]] = set()
    whole: set[date] = set()
    stale = False
    for d, h in rows:
        if d is None:
            stale = True
            continue
        d = d if isinstance(d, date) else date.fromisoformat(d)
        days.add(d)
        if h is None:
            whole.add(d)
        elif h >= 0:
            hours.add((d, int(h)))
    return Pending(frozenset(days), stale, frozenset(hours), frozenset(whole))


def due(todo: Pending, now: datetime) -> bool:
    """Whether a refresh has work: stale totals, a stale past day, a stale past hour today."""
    today = now.date()
    return (
        todo.totals_stale
        or any(d < today for d in todo.days)
        or any(d == today and h < now.hour for d, h in todo.hours)
    )


def _refresh_hours(session: Session, q: Sql, day: date, hours: list[int], *, totals: bool) -> None:
    """Recomputes stale past hours of today from their raw rows: the hourly rollups and the
    per-member presence bits of those hours, and today's hour blocks (from the hourly rows).
    The day-level rollups of today stay stale, marked (day, -1), until the day is past."""
    b = _Binds()
    d = b.add(day, sa.Date())
    listed = ", ".join(str(int(h)) for h in hours)
    b.run(session, f"DELETE FROM backlog_dirty WHERE day = {d} AND hour IN ({listed})")
    b.run(
        session,
        f"INSERT INTO backlog_dirty (day, hour) SELECT {d}, -1 WHERE NOT EXISTS "
        f"(SELECT 1 FROM backlog_dirty WHERE day = {d} AND hour = -1)",
    )
    tables = ["backlog_hourly", "backlog_visits_hourly"] + (["backlog_totals_hourly"] * totals)
    for table in tables:
        b.run(session, f"DELETE FROM {table} WHERE day = {d} AND hour IN ({listed})")
    base = day_start(day)
    ranges: list[tuple[datetime, datetime]] = []
    for h in sorted(hours):  # runs of consecutive hours: one range scan each
        if ranges and ranges[-1][1] == base + h * HOUR:
            ranges[-1] = (ranges[-1][0], base + (h + 1) * HOUR)
        else:
            ranges.append((base + h * HOUR, base + (h + 1) * HOUR))
    _daily(session, q, ranges, hourly=True)
    _visits(session, q, ranges, hourly=True)
    if totals:
        _totals(session, q, ranges, hourly=True)
    whole = [(day, day + DAY)]
    b.run(session, f"DELETE FROM backlog_hour_blocks WHERE day = {d}")
    _hour_blocks(session, whole)
    # The refreshed hours' bits of the day's per-member presence: cleared, then OR'ed in again
    # from the raw rows of those hours only (not the whole day's).
    mask = b.add(sum(1 << h for h in hours), sa.Integer())
    b.run(
        session,
        f"UPDATE backlog_presence_daily SET bits = bits & ~{mask} "
        f"WHERE day = {d} AND (bits & {mask}) <> 0",
    )
    b.run(session, f"DELETE FROM backlog_presence_daily WHERE day = {d} AND bits = 0")
    _presence_daily(session, q, ranges, merge=True)
    _members(session, whole)


def refresh(session: Session, now: datetime | None = None) -> Pending:
    """Recomputes the stale days before today (UTC), today's stale hours before the current
    one (UTC: the current hour keeps changing and is read raw) and, when stale, every day's
    totals. Returns the past days' marks it honoured. The caller commits."""
    now = now or utcnow()
    today = now.date()
    _lock(session)
    todo = pending(session, None, today)
    marks = pending(session, today, today + DAY)
    hours = (
        []
        if today in marks.whole
        else sorted(h for d, h in marks.hours if d == today and h < now.hour)
    )
    if not todo.days and not todo.totals_stale and not hours:
        return todo
    q = Sql(session.get_bind().dialect.name)
    if hours:
        _refresh_hours(session, q, today, hours, totals=not todo.totals_stale)
    runs = day_ranges(todo.days)
    # Claim first (see the module's docstring), then recompute.
    b = _Binds()
    claim = _day_filter(b, "day", runs) if runs else "1 = 0"
    if todo.totals_stale:
        claim += " OR day IS NULL"
    b.run(session, f"DELETE FROM backlog_dirty WHERE {claim}")
    if runs:
        tables = [
            "backlog_daily",
            "backlog_visits_daily",
            "backlog_hourly",
            "backlog_hour_blocks",
            "backlog_visits_hourly",
            "backlog_presence_daily",
        ]
        if not todo.totals_stale:
            tables += ["backlog_totals", "backlog_totals_hourly"]
        for table in tables:
            b = _Binds()
            b.run(session, f"DELETE FROM {table} WHERE {_day_filter(b, 'day', runs)}")
        for hourly in (False, True):
            _daily(session, q, runs, hourly=hourly)
            _visits(session, q, runs, hourly=hourly)
            if not todo.totals_stale:
                _totals(session, q, runs, hourly=hourly)
        _hour_blocks(session, runs)
        _presence_daily(session, q, runs)
        # The blocks holding a dirty day, recomputed from the days just refreshed.
        for table, spans in (("backlog_blocks", SPANS), ("backlog_presence", (*SPANS, 1))):
            for span in spans:
                b = _Binds()
                cond = _day_filter(b, "day", _block_runs(todo.days, span))
                b.run(session, f"DELETE FROM {table} WHERE span = {span} AND {cond}")
        _blocks(session, q, todo.days)
        _members(session, runs)
        _presence(session, q, todo.days)
    if todo.totals_stale:
        for hourly in (False, True):
            session.execute(text(f"DELETE FROM backlog_totals{'_hourly' if hourly else ''}"))
            _totals(session, q, None, hourly=hourly)
    return todo


def refresh_pending(engine: Engine) -> None:
    """Background task of the backlog endpoints: refreshes in its own write transaction."""
    with Session(engine) as session:
        refresh(session)
        session.commit()
