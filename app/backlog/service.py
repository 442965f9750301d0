"""The ranked backlog, the journey heatmap and the pain point timeline (SPEC §5).

Definitions are exact (SPEC §5 "Backlog"): aggregates come from SQL (queries.py), ranking,
shares and tie-breaks are done here over the per-pain-point rows (hundreds, not millions)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from app.backlog import queries, rollup
from app.backlog.queries import Filters, Slice, Split, slice_for, split
from app.backlog.schemas import (
    Backlog,
    BacklogItem,
    BacklogPainPoint,
    BacklogSort,
    Bucket,
    ByLayer,
    Heatmap,
    HeatmapStage,
    JourneyRef,
    StageRef,
    TimelinePoint,
    TopPainPoint,
    Window,
)
from app.core.errors import Invalid, NotFound
from app.improvements.schemas import ImprovementRef
from app.models import Journey, Stage, utcnow

DEFAULT_DAYS = 90
MAX_WINDOW = timedelta(days=3660)


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """Defaults: `to` = now, `from` = `to` − 90 days. `from` must be before `to`."""
    end = end if end is not None else utcnow()
    start = start if start is not None else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise Invalid("to", "Must be after from.")
    if end - start > MAX_WINDOW:
        raise Invalid("from", "The window may span at most 3660 days.")
    return start, end


@dataclass
class Row:
    """A pain point's measures in the window."""

    id: uuid.UUID
    title: str
    journey_id: uuid.UUID
    layer: str | None
    stage: StageRef
    frequency: int
    previous_frequency: int
    severity_sum: int
    minutes: int
    sites: int
    observers: int
    first_seen: datetime
    last_seen: datetime

    @property
    def trend(self) -> float | None:
        if self.previous_frequency == 0:
            return None
        return (self.frequency - self.previous_frequency) / self.previous_frequency


def _ts(value: datetime) -> float:
    return value.timestamp()


def sort_key(sort: BacklogSort, r: Row) -> tuple[Any, ...]:
    tie = (-_ts(r.last_seen), r.title, r.id)
    if sort is BacklogSort.impact:
        return (-r.severity_sum, *tie)  # impact = frequency × avg_severity = severity sum
    if sort is BacklogSort.minutes_lost:
        return (-r.minutes, *tie)
    if sort is BacklogSort.trend:
        t = r.trend
        return (t is None, -(t or 0.0), *tie)
    if sort is BacklogSort.recent:
        return tie
    return (-r.frequency, *tie)


# The rollup path (whole days from the rollups, the rest raw). Tests switch it off to hold the
# raw path to the same reference.
USE_ROLLUPS = True

Refresh = Callable[[], None]


@dataclass(frozen=True)
class Plan:
    """How a request reads its windows: `sl` None = everything raw."""

    sl: Slice | None
    cur: Split
    prev: Split
    totals_stale: bool = False
    # The rollup path's raw ranges of both windows with their weights (`prev` above is then
    # the previous window as read from the rollups: see queries.weighted_ranges).
    weighted: tuple[queries.Weighted, ...] = ()
    # The current window's raw ranges for the distinct counts: partial hours with clean
    # rollups (read raw only when their hour's members are not all counted already) and the
    # rest.
    partial: tuple[tuple[datetime, datetime], ...] = ()
    rest: tuple[tuple[datetime, datetime], ...] = ()
    # Edge days with clean rollups: their hours and partial hours are read for the distinct
    # counts only when their whole day's members are not all counted already.
    edge_days: frozenset[date] = frozenset()

    @property
    def totals_from_rollups(self) -> bool:
        return self.sl is not None and not self.totals_stale


def plan(
    session: Session,
    f: Filters,
    start: datetime,
    end: datetime,
    prev_from: datetime | None = None,
    refresh: Refresh | None = None,
) -> Plan:
    prev_from = prev_from or start
    sl = slice_for(f) if USE_ROLLUPS else None
    if sl is None:
        return Plan(None, split(start, end, None), split(prev_from, start, None))
    if session.get_bind().dialect.name == "postgresql":
        # The rollup path runs a few statements of a few thousand rows each: starting parallel
        # workers (which the planner picks for the raw edges' union) costs ~10 ms each time.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    todo = rollup.pending(
        session,
        prev_from.astimezone(UTC).date(),
        end.astimezone(UTC).date() + timedelta(days=1),
    )
    if refresh is not None and rollup.due(todo, utcnow()):
        refresh()  # after the response: this one reads those days and hours raw
    cur = split(start, end, todo)
    prev, weighted = queries.weighted_ranges(cur, split(prev_from, start, todo), todo)
    partial, rest = queries.clean_partial_hours(cur.raw, todo)
    edges = {d for d, _, _ in cur.hours} | {a.date() for a, _ in partial}
    edge_days = frozenset(d for d in edges if d not in todo.days)
    return Plan(sl, cur, prev, todo.totals_stale, weighted, partial, rest, edge_days)


@dataclass
class _Agg:
    frequency: int = 0
    previous_frequency: int = 0
    severity_sum: int = 0
    minutes: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sites: int = 0
    observers: int = 0

    def add(self, a: Any) -> None:
        self.frequency += int(a.frequency)
        self.previous_frequency += int(a.previous_frequency)
        self.severity_sum += int(a.severity_sum)
        self.minutes += int(a.minutes)
        if a.first_seen is not None and (self.first_seen is None or a.first_seen < self.first_seen):
            self.first_seen = a.first_seen
        if a.last_seen is not None and (self.last_seen is None or a.last_seen > self.last_seen):
            self.last_seen = a.last_seen


@dataclass
class RawCounts:
    """Counts of the current window's raw ranges that the measures' scan gave (None: not
    counted there): observations counted in the backlog's total, and per stage (hex id)."""

    total: int | None = None
    by_stage: dict[str, int] | None = None


# Statements a read runs on a second connection while its own runs another (PostgreSQL).
_SIDE = ThreadPoolExecutor(max_workers=8, thread_name_prefix="backlog")


class SideJob:
    """Work a backlog read hands to its second connection (PostgreSQL), to run there after the
    first distinct-count statement: `job(side_session)`. `get` is set once it is handed over
    (None: it was not — SQLite, or a read with no statement on the side — and the caller does
    the work itself); the caller always calls it, so no connection outlives the request."""

    def __init__(self, job: Callable[[Session], Any]) -> None:
        self.job = job
        self.get: Callable[[], Any] | None = None


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    try:
        future.set_result(fn())
    except BaseException as exc:  # handed to whoever waits for it
        future.set_exception(exc)


def _alongside(
    session: Session, stmt: Any, params: dict[str, Any], then: SideJob | None = None
) -> Callable[[], list[Any]]:
    """Runs `stmt` now and returns a function giving its rows: on PostgreSQL on another
    connection of the pool, in its own transaction, while the caller goes on (the server
    works on both statements at once; every statement of a read already sees its own
    snapshot under READ COMMITTED, so nothing is lost in consistency), followed there by
    `then`; elsewhere (SQLite works in this process) in the session itself, when asked."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        return lambda: list(session.execute(stmt, params))
    rows: Future[list[Any]] = Future()
    later: Future[Any] = Future()

    def run() -> None:
        try:
            with Session(bind) as side:
                side.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
                _settle(rows, lambda: list(side.execute(stmt, params)))
                if then is not None:
                    _settle(later, lambda: then.job(side))
                side.rollback()
        except BaseException as exc:  # no connection, say: nobody waits forever
            for future in (rows, later):
                if not future.done():
                    future.set_exception(exc)

    _SIDE.submit(run)
    if then is not None:
        then.get = later.result
    return rows.result


def _measures(
    session: Session,
    f: Filters,
    p: Plan,
    start: datetime,
    *,
    stages: bool = False,
    then: SideJob | None = None,
) -> tuple[dict[uuid.UUID, _Agg], RawCounts]:
    """The measures per pain point, and what else the same scan of the raw rows counted:
    the backlog's total observations unless those are stale, per stage if asked. `then`
    goes to the second connection after the first distinct-count statement."""
    out: dict[uuid.UUID, _Agg] = {}
    counts = RawCounts()
    if p.sl is None:
        stmt = queries.raw_statement(f, len(p.cur.raw), len(p.prev.raw))
        params = {
            **queries.slot_values("c", p.cur.raw),
            **queries.slot_values("p", p.prev.raw),
            "start": start,
        }
        for a in session.execute(stmt, params):
            agg = out[a.pain_point_id] = _Agg(sites=int(a.sites), observers=int(a.observers))
            agg.add(a)
        return {k: v for k, v in out.items() if v.frequency > 0}, counts
    # Who saw what: first the sure sets and the candidates of the edges (whole edge days
    # with clean rollups, partial hours with clean rollups, and for the other raw ranges —
    # marked hours, such as the current one while writes go on — everyone who made an
    # observation in them); the edges themselves only when a candidate is not counted yet,
    # which at volume they all are. The first statement needs only the plan, so on
    # PostgreSQL it runs on a second connection while this one reads the measures.
    days = p.edge_days
    first = Split(
        p.cur.lo,
        p.cur.hi,
        p.cur.skip,
        hours=tuple(h for h in p.cur.hours if h[0] not in days),
    )
    later = Split(hours=tuple(h for h in p.cur.hours if h[0] in days))
    candidates = tuple((a.date(), a.hour) for a, _ in p.partial if a.date() not in days)
    presence = queries.presence_statement(
        f, p.sl, first, 0, candidates, tuple(sorted(days)), len(p.rest)
    )
    seen = (
        None
        if presence is None
        else _alongside(session, presence, queries.slot_values("a", p.rest), then)
    )
    # Days, blocks, hours and raw rows as one UNION ALL added up per pain point: one round
    # trip (each costs milliseconds on a loaded machine), one row per pain point.
    cur = p.totals_from_rollups and any(w.cur for w in p.weighted)
    if cur:
        counts.total = 0
        counts.by_stage = {} if stages else None
    measures = queries.measures_statement(
        f,
        p.sl,
        queries.shape(p.cur),
        queries.shape(p.prev),
        tuple((w.cur, w.prev) for w in p.weighted),
        total=cur,
        stages=cur and stages,
    )
    if measures is not None:
        params = queries.slot_values("w", [(w.start, w.end) for w in p.weighted])
        for a in session.execute(measures, params):
            if a.k == "p":
                out.setdefault(a.pain_point_id, _Agg()).add(a)
            elif a.k == "t":
                counts.total = int(a.frequency)
            elif counts.by_stage is not None:
                counts.by_stage[a.pain_point_id.hex] = int(a.frequency)
    out = {k: v for k, v in out.items() if v.frequency > 0}
    members = queries.MemberSets()
    if seen is not None:
        members.add(seen())  # always awaited: the side connection is back before we return
    if out:
        wanted = set(out)
        edges = bool(p.partial or later.hours) and not members.covered(wanted)
        new = members.newcomers(wanted) if p.rest else {}
        if edges or new:
            partial = p.partial if edges else ()
            rest = p.rest if new else ()
            again = queries.presence_statement(
                f, p.sl, later if edges else Split(), len(partial), n_newcomers=len(rest)
            )
            assert again is not None
            values: dict[str, Any] = {
                **queries.slot_values("r", partial),
                **queries.slot_values("n", rest),
                "newcomer_sites": sorted(new.get("s", ())),
                "newcomer_observers": sorted(new.get("o", ())),
            }
            members.add(session.execute(again, values))
        for (pid, kind), n in members.counts().items():
            if pid in out:
                setattr(out[pid], "sites" if kind == "s" else "observers", n)
        if p.sl.dim == "s":  # one site, one observer: the filter's own
            for agg in out.values():
                agg.sites = 1
        elif p.sl.dim == "o":
            for agg in out.values():
                agg.observers = 1
    return out, counts


def ranked_rows(
    session: Session,
    f: Filters,
    p: Plan,
    start: datetime,
    sort: BacklogSort,
    *,
    stages: bool = False,
    then: SideJob | None = None,
) -> tuple[list[Row], RawCounts]:
    """The ranked rows, and what the measures' scan of the raw rows counted besides (`then`:
    see `_measures`)."""
    current, counts = _measures(session, f, p, start, stages=stages, then=then)
    rows: list[Row] = []
    if current:
        for pid, title, jid, layer, sid, sname, spos in session.execute(
            queries.pain_point_details(set(current))
        ):
            a = current[pid]
            assert a.first_seen is not None
            assert a.last_seen is not None
            rows.append(
                Row(
                    id=pid,
                    title=title,
                    journey_id=jid,
                    layer=layer,
                    stage=StageRef(id=sid, name=sname, position=spos),
                    frequency=a.frequency,
                    previous_frequency=a.previous_frequency,
                    severity_sum=a.severity_sum,
                    minutes=a.minutes,
                    sites=a.sites,
                    observers=a.observers,
                    first_seen=a.first_seen,
                    last_seen=a.last_seen,
                )
            )
    rows.sort(key=lambda r: sort_key(sort, r))
    return rows, counts


def _scalars(
    session: Session, f: Filters, p: Plan, start: datetime, end: datetime, raw_total: int | None
) -> list[int]:
    """[total observations, customers observed], each the sum of its rollup and raw parts,
    in one round trip (`raw_total`: the raw part of the first, already counted)."""
    totals: Literal["rollup", "rollup-counted", "raw"] = "raw"
    if p.totals_from_rollups:
        totals = "rollup" if raw_total is None else "rollup-counted"
    stmt, n = queries.scalars_statement(
        f, p.sl, queries.shape(p.cur), len(p.cur.raw), totals=totals
    )
    params = queries.slot_values("c", p.cur.raw)
    if totals == "raw":
        params.update(queries.slot_values("x", [(start, end)]))
    values = [int(v or 0) for v in session.execute(stmt, params).one()]
    return [sum(values[:n]) + (raw_total or 0), sum(values[n:])]


Improvements = tuple[dict[uuid.UUID, list[ImprovementRef]], set[uuid.UUID] | None]
# Verified links whose regression flags the second connection computes for every linked pain
# point, before the ranking is known (two windows each, ~0.2 ms each at 10M); past that many
# they are computed after the ranking, for the pain points shown only.
SIDE_REGRESSION_LINKS = 50


def _improvements(session: Session, ids: list[uuid.UUID] | None) -> Improvements:
    """The linked improvements of these pain points (None: of all) and their regression flags
    (None: more verified links than SIDE_REGRESSION_LINKS for all pain points)."""
    from app.improvements.service import backlog_improvements

    most = SIDE_REGRESSION_LINKS if ids is None else None
    return backlog_improvements(session, ids, utcnow(), most=most)


def backlog(
    session: Session,
    f: Filters,
    start: datetime,
    end: datetime,
    sort: BacklogSort,
    limit: int | None,
    refresh: Refresh | None = None,
) -> Backlog:
    prev_from = start - (end - start)
    p = plan(session, f, start, end, prev_from, refresh)
    # Improvements do not depend on the ranking when read for every linked pain point: on
    # PostgreSQL the second connection reads them while this one reads the measures.
    side = SideJob(lambda other: _improvements(other, None))
    rows, counts = ranked_rows(session, f, p, start, sort, then=side)
    total_mentions = sum(r.frequency for r in rows)
    total_obs, customers = _scalars(session, f, p, start, end, counts.total)
    shown = rows if limit is None else rows[:limit]
    ids = [r.id for r in shown]
    if side.get is None:
        imps, came_back = _improvements(session, ids)
    else:
        every, came_back = side.get()
        imps = {i: every[i] for i in ids if i in every}
    if came_back is None:  # too many verified links to flag them all: the shown ones only
        from app.improvements.service import regressions

        came_back = regressions(session, ids, utcnow())
    regressed = came_back & set(ids)
    items: list[BacklogItem] = []
    running = 0
    for i, r in enumerate(shown):
        running += r.frequency
        items.append(
            BacklogItem(
                rank=i + 1,
                pain_point=BacklogPainPoint(
                    id=r.id, title=r.title, journey_id=r.journey_id, stage=r.stage, layer=r.layer
                ),
                frequency=r.frequency,
                share=r.frequency / total_mentions,
                cumulative_share=running / total_mentions,
                previous_frequency=r.previous_frequency,
                trend=r.trend,
                sites=r.sites,
                observers=r.observers,
                avg_severity=r.severity_sum / r.frequency,
                impact=float(r.severity_sum),
                customer_minutes_lost=r.minutes,
                rate_per_100_customers=100 * r.frequency / customers if customers else None,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                improvements=imps.get(r.id, []),
                regressed=r.id in regressed,
            )
        )
    return Backlog(
        window=Window(from_=start, to=end),
        previous_window=Window(from_=prev_from, to=start),
        total_observations=total_obs,
        total_mentions=total_mentions,
        total_pain_points=len(rows),
        items=items,
    )


CSV_COLUMNS = [
    "rank",
    "pain_point_id",
    "pain_point_title",
    "pain_point_journey_id",
    "pain_point_stage_id",
    "pain_point_stage_name",
    "pain_point_stage_position",
    "pain_point_layer",
    "frequency",
    "share",
    "cumulative_share",
    "previous_frequency",
    "trend",
    "sites",
    "observers",
    "avg_severity",
    "impact",
    "customer_minutes_lost",
    "rate_per_100_customers",
    "first_seen",
    "last_seen",
    "improvements",
    "regressed",
]


def csv_rows(result: Backlog) -> list[list[Any]]:
    out: list[list[Any]] = []
    for it in result.items:
        pp = it.pain_point
        out.append(
            [
                it.rank,
                pp.id,
                pp.title,
                pp.journey_id,
                pp.stage.id,
                pp.stage.name,
                pp.stage.position,
                pp.layer,
                it.frequency,
                it.share,
                it.cumulative_share,
                it.previous_frequency,
                it.trend,
                it.sites,
                it.observers,
                it.avg_severity,
                it.impact,
                it.customer_minutes_lost,
                it.rate_per_100_customers,
                it.first_seen,
                it.last_seen,
                ";".join(f"{i.id}:{i.status.value}:{i.title}" for i in it.improvements),
                it.regressed,
            ]
        )
    return out


LAYERS = ("customer", "frontstage", "backstage", "support")


def heatmap(
    session: Session,
    journey_id: uuid.UUID,
    f: Filters,
    start: datetime,
    end: datetime,
    refresh: Refresh | None = None,
) -> Heatmap:
    journey = session.get(Journey, journey_id)
    if journey is None:
        raise NotFound("No such journey.")
    f = Filters(
        journey_id=journey_id, site_id=f.site_id, channel=f.channel, observer_id=f.observer_id
    )
    p = plan(session, f, start, end, None, refresh)
    rows, counts = ranked_rows(session, f, p, start, BacklogSort.frequency, stages=True)
    by_stage_obs: dict[str, int] = dict(counts.by_stage or {})
    raw = () if counts.by_stage is not None else p.cur.raw
    if p.totals_from_rollups and p.sl is not None:
        stmt = queries.stages_statement(p.sl, queries.shape(p.cur))
        for value, n in session.execute(stmt):
            by_stage_obs[value] = by_stage_obs.get(value, 0) + int(n)
    else:
        raw = split(start, end, None).raw
    if raw:
        for sid, n in session.execute(queries.raw_observations_by_stage(f, raw)):
            by_stage_obs[sid.hex] = by_stage_obs.get(sid.hex, 0) + int(n)
    stages = session.exec(
        select(Stage).where(col(Stage.journey_id) == journey_id).order_by(col(Stage.position))
    ).all()
    out: list[HeatmapStage] = []
    for st in stages:
        mine = [r for r in rows if r.stage.id == st.id]
        layers = ByLayer()
        for r in mine:
            key = r.layer if r.layer in LAYERS else "unspecified"
            setattr(layers, key, getattr(layers, key) + r.frequency)
        out.append(
            HeatmapStage(
                stage=StageRef(id=st.id, name=st.name, position=st.position),
                observations=by_stage_obs.get(st.id.hex, 0),
                mentions=sum(r.frequency for r in mine),
                by_layer=layers,
                top_pain_points=[
                    TopPainPoint(id=r.id, title=r.title, frequency=r.frequency) for r in mine[:3]
                ],
            )
        )
    return Heatmap(
        journey=JourneyRef(id=journey.id, name=journey.name),
        window=Window(from_=start, to=end),
        stages=out,
    )


def bucket_start(value: datetime, bucket: Bucket) -> datetime:
    d = value.astimezone(UTC).date()
    if bucket is Bucket.week:
        d = d - timedelta(days=d.weekday())
    elif bucket is Bucket.month:
        d = d.replace(day=1)
    return datetime.combine(d, time(0), tzinfo=UTC)


def _next(start: datetime, bucket: Bucket) -> datetime:
    if bucket is Bucket.day:
        return start + timedelta(days=1)
    if bucket is Bucket.week:
        return start + timedelta(days=7)
    d = start.date()
    nd = date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)
    return datetime.combine(nd, time(0), tzinfo=UTC)


def timeline(
    session: Session,
    pain_point_id: uuid.UUID,
    start: datetime,
    end: datetime,
    bucket: Bucket,
    refresh: Refresh | None = None,
) -> list[TimelinePoint]:
    from app.pain_points.service import get as get_pain_point

    pp = get_pain_point(session, pain_point_id)
    dialect = session.get_bind().dialect.name
    p = plan(session, Filters(), start, end, None, refresh)
    counts: dict[datetime, int] = {}

    def add(day: date, n: int) -> None:
        b = bucket_start(datetime.combine(day, time(0), tzinfo=UTC), bucket)
        counts[b] = counts.get(b, 0) + n

    if p.sl is not None:
        for hourly in (False, True):
            if p.cur.hours if hourly else p.cur.lo is not None:
                stmt = queries.rollup_daily_counts(pp.id, p.cur, hourly=hourly)
                for day, n in session.execute(stmt):
                    add(day if isinstance(day, date) else date.fromisoformat(day), int(n))
    if p.cur.raw:
        for day, n in session.execute(queries.raw_daily_counts(pp.id, p.cur.raw, dialect)):
            add(date.fromisoformat(day), int(n))
    out: list[TimelinePoint] = []
    cursor = bucket_start(start, bucket)
    while cursor < end:
        out.append(TimelinePoint(start=cursor, frequency=counts.get(cursor, 0)))
        cursor = _next(cursor, bucket)
    return out


def window_counts(
    session: Session, windows: Sequence[tuple[int, uuid.UUID, datetime, datetime]]
) -> dict[int, int]:
    """Non-deleted observations tagging a pain point in [start, end), for many (key, pain
    point, start, end) windows: split like the backlog's windows, whole days and hours from
    the rollups unless marked (one query per COUNT_PARTS_PER_QUERY parts, after one look-up
    of the marks), the rest raw (one query per COUNT_PARTS_PER_QUERY distinct ranges, each
    range scanned once for every window holding it). Windows that start and end on whole UTC
    hours (the regression flags of app/improvements) read nothing raw but marked hours."""
    if not windows:
        return {}
    marks: rollup.Pending | None = None
    if USE_ROLLUPS:
        lo = min(s for _, _, s, _ in windows).astimezone(UTC).date()
        hi = max(e for _, _, _, e in windows).astimezone(UTC).date() + timedelta(days=1)
        marks = rollup.pending(session, lo, hi)
    ws = [queries.CountWindow(k, pid, split(s, e, marks)) for k, pid, s, e in windows]
    out: dict[int, int] = {}
    rolled = [w for w in ws if w.parts]
    for i in range(0, len(rolled), COUNT_PARTS_PER_QUERY // 2):
        chunk = rolled[i : i + COUNT_PARTS_PER_QUERY // 2]
        stmt = queries.window_count_statement(tuple(c.shape for c in chunk))
        values = queries.window_count_values(chunk, marks.days if marks else ())
        for j, n in session.execute(stmt, values):
            key = chunk[int(j)].key
            out[key] = out.get(key, 0) + int(n or 0)
    ranges = sorted({r for w in ws for r in w.split.raw})
    if ranges:
        raw: dict[tuple[tuple[datetime, datetime], uuid.UUID], int] = {}
        pain_points = sorted({w.pain_point_id for w in ws if w.split.raw})
        for i in range(0, len(ranges), COUNT_PARTS_PER_QUERY):
            chunk_ranges = ranges[i : i + COUNT_PARTS_PER_QUERY]
            stmt = queries.window_raw_statement(len(chunk_ranges))
            params = {**queries.slot_values("x", chunk_ranges), "pain_points": pain_points}
            for k, pid, n in session.execute(stmt, params):
                raw[(chunk_ranges[int(k)], pid)] = int(n)
        for w in ws:
            n = sum(raw.get((r, w.pain_point_id), 0) for r in w.split.raw)
            out[w.key] = out.get(w.key, 0) + n
    return out


# SQLite allows at most 500 terms in a compound SELECT.
COUNT_PARTS_PER_QUERY = 400
