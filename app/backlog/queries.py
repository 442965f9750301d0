"""SQLAlchemy Core statements behind the backlog, heatmap and timeline.

Two sources, one answer. The *raw* statements read the field tables over a set of time ranges
through covering indexes (app/models/rollups.py); the *rollup* statements read the rollup
tables (app/backlog/rollup.py). A window is split (`split`) into whole UTC days that are not
dirty (aligned blocks of days where they fit, `Split.blocks`, single days for the rest), the
whole UTC hours of its partial edge days when those days are not dirty (hourly rollups), and
the rest — partial hours, dirty days — raw; the service adds the parts up. Filters the rollups
do not slice by (two observation filters, two pain point filters) read everything raw.

The raw rows of partial hours are what grows with volume (about 2,300 observations an hour at
10 million over half a year), so they are read sparingly. The previous window needs only its
frequency: a partial hour of it is read as the hour's rollup minus the rest of the hour when
the rest is fewer rows, which at the boundary between the windows is the current window's
first partial hour, read anyway (`weighted_ranges`). The measures and the raw part of the
counted observations come from one scan. Distinct sites and observers of a partial hour with
clean rollups are read raw only when someone who saw the pain point in that hour is not
already counted from the rest of the window (`MemberSets.covered`), which at volume they all
are; those of a marked hour (the current one, while writes go on) only when someone who made
any observation in it is not. Statements are built once per shape and reused with other
instants (see the end of this module).

Every statement counts an observation when it is not deleted, lies in the window and matches
the observation filters; tags always point at a canonical pain point (aliases resolve on write
and merges re-point tags, keeping one tag per observation), so one tag row = one observation of
one pain point and `count(*)` over tags is the distinct-observation frequency. The rollups are
keyed by pain point and filter the journey through `pain_points.journey_id`: an observation's
tags always belong to its journey (checked on every write, moves stay in the journey, merges
across journeys are refused)."""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, or_, select
from sqlmodel import col

from app.backlog import rollup
from app.backlog.rollup import DAY, EPOCH, HOUR, PRESENCE_MEMBERS, day_start
from app.models import (
    BacklogBlock,
    BacklogDaily,
    BacklogHourBlock,
    BacklogHourly,
    BacklogMember,
    BacklogPresence,
    BacklogPresenceDaily,
    BacklogTotals,
    BacklogTotalsHourly,
    BacklogVisitsDaily,
    BacklogVisitsHourly,
    Observation,
    ObservationTag,
    PainPoint,
    PainPointStatus,
    Stage,
    Visit,
)
from app.models.base import UTCDateTime

OB = Observation.__table__  # type: ignore[attr-defined]
T = ObservationTag.__table__  # type: ignore[attr-defined]
P = PainPoint.__table__  # type: ignore[attr-defined]
V = Visit.__table__  # type: ignore[attr-defined]
D = D_ = BacklogDaily.__table__  # type: ignore[attr-defined]
B = BacklogBlock.__table__  # type: ignore[attr-defined]
PR = BacklogPresence.__table__  # type: ignore[attr-defined]
M = BacklogMember.__table__  # type: ignore[attr-defined]
TT_ = BacklogTotals.__table__  # type: ignore[attr-defined]
VD_ = BacklogVisitsDaily.__table__  # type: ignore[attr-defined]
H = BacklogHourly.__table__  # type: ignore[attr-defined]
HB = BacklogHourBlock.__table__  # type: ignore[attr-defined]
PD = BacklogPresenceDaily.__table__  # type: ignore[attr-defined]
TH = BacklogTotalsHourly.__table__  # type: ignore[attr-defined]
VH = BacklogVisitsHourly.__table__  # type: ignore[attr-defined]

Ranges = Sequence[tuple[datetime, datetime]]
# Raw ranges as a statement sees them: instants, or bind parameters named after them (`slots`).
Bounds = Sequence[tuple[Any, Any]]


@dataclass(frozen=True)
class Filters:
    """The backlog's filters: observation filters and pain point filters."""

    journey_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    channel: str | None = None
    observer_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    layer: str | None = None  # "unspecified" = no layer


# --- splitting a window ------------------------------------------------------------------


def _merge(ranges: list[tuple[datetime, datetime]]) -> tuple[tuple[datetime, datetime], ...]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(ranges):
        if out and out[-1][1] >= s:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


@dataclass(frozen=True)
class Split:
    """A window as whole UTC days [lo, hi) read from the daily rollups except `skip` (dirty),
    whole UTC hours of its partial edge days read from the hourly rollups (`hours`: (day,
    first hour, end hour)), and `raw` time ranges read from the field tables (partial hours,
    dirty days). `lo` is None when no whole day is rolled up."""

    lo: date | None = None
    hi: date | None = None
    skip: frozenset[date] = field(default_factory=frozenset)
    raw: tuple[tuple[datetime, datetime], ...] = ()
    hours: tuple[tuple[date, int, int], ...] = ()

    def blocks(self) -> tuple[tuple[tuple[int, date], ...], tuple[date, ...]]:
        """The whole days as aligned blocks of `backlog_blocks` ((span, first day), largest
        that fit and hold no dirty day) and the single days left over."""
        if self.lo is None or self.hi is None:
            return (), ()
        blocks: list[tuple[int, date]] = []
        singles: list[date] = []
        d = self.lo
        while d < self.hi:
            for span in rollup.SPANS:
                end = d + span * DAY
                if (
                    (d - EPOCH).days % span == 0
                    and end <= self.hi
                    and not any(d <= x < end for x in self.skip)
                ):
                    blocks.append((span, d))
                    d = end
                    break
            else:
                if d not in self.skip:
                    singles.append(d)
                d += DAY
        return tuple(blocks), tuple(singles)


def _edge(
    s: datetime, e: datetime, dirty: rollup.Pending, hourly: bool
) -> tuple[list[tuple[datetime, datetime]], list[tuple[date, int, int]]]:
    """A piece of one UTC day: its whole hours that are not stale, and the rest (partial and
    stale hours, or the whole piece of a day stale as a whole) raw."""
    d = s.date()
    if not hourly or d in dirty.whole:
        return [(s, e)], []
    base = day_start(d)
    h_lo = -(-(s - base) // HOUR)  # ceil
    h_hi = (e - base) // HOUR
    if h_lo >= h_hi:
        return [(s, e)], []
    raw = [(s, base + h_lo * HOUR), (base + h_hi * HOUR, e)]
    hours: list[tuple[date, int, int]] = []
    first = h_lo
    for h in range(h_lo, h_hi + 1):
        if h == h_hi or (d, h) in dirty.hours:
            if first < h:
                hours.append((d, first, h))
            if h < h_hi:
                raw.append((base + h * HOUR, base + (h + 1) * HOUR))
            first = h + 1
    return raw, hours


def split(
    start: datetime, end: datetime, dirty: rollup.Pending | None, *, hourly: bool = True
) -> Split:
    """`dirty` None: everything raw (the raw path). Days with marks are read like edge days:
    whole hours not marked from the hourly rollups, the rest raw. `hourly` False: no hourly
    rollups (their callers do not know the marks)."""
    if dirty is None:
        return Split(raw=((start, end),))
    s_utc, e_utc = start.astimezone(UTC), end.astimezone(UTC)
    lo: date | None = s_utc.date() if s_utc.time() == time(0) else s_utc.date() + DAY
    hi: date | None = e_utc.date()
    assert lo is not None
    assert hi is not None
    skip: frozenset[date] = frozenset()
    if lo >= hi:
        edges = [(s_utc, e_utc)]
        lo = hi = None
    else:
        skip = frozenset(d for d in dirty.days if lo <= d < hi)
        edges = [(s_utc, day_start(lo)), (day_start(hi), e_utc)]
        edges += [(day_start(d), day_start(d) + DAY) for d in sorted(skip)]
    pieces: list[tuple[datetime, datetime]] = []
    for s, e in edges:  # cut at midnights: each piece within one UTC day
        while s < e:
            cut = min(e, day_start(s.date()) + DAY)
            pieces.append((s, cut))
            s = cut
    raw: list[tuple[datetime, datetime]] = []
    hours: list[tuple[date, int, int]] = []
    for s, e in pieces:
        r, h = _edge(s, e, dirty, hourly)
        raw += r
        hours += h
    return Split(lo, hi, skip, _merge([(s, e) for s, e in raw if s < e]), tuple(sorted(hours)))


@dataclass(frozen=True)
class Weighted:
    """A raw time range and what its rows count for: `cur` 1 = the current window's measures,
    `prev` +1 / −1 / 0 = added to / taken from / not in the previous window's frequency."""

    start: datetime
    end: datetime
    cur: int
    prev: int


def _hour_of(s: datetime) -> datetime:
    return s.replace(minute=0, second=0, microsecond=0)


def _uncovered(pieces: Sequence[tuple[datetime, datetime]], covered: Ranges) -> timedelta:
    """How much of the pieces lies outside the covered ranges."""
    total = timedelta(0)
    for a, b in pieces:
        total += b - a
        for c, d in covered:
            lo, hi = max(a, c), min(b, d)
            if lo < hi:
                total -= hi - lo
    return total


def weighted_ranges(
    cur: Split, prev: Split, dirty: rollup.Pending
) -> tuple[Split, tuple[Weighted, ...]]:
    """The raw ranges of both windows with their weights, and the previous window's split
    with the hours that replace some of its raw rows.

    The previous window needs only its frequency, which adds up over time, so a partial hour
    of it whose hourly rollup is clean is read as that hour's rollup minus the raw rows of
    the rest of the hour when that is fewer rows: the rest of the hour at the boundary
    between the windows is the current window's first partial hour, read raw anyway (free);
    at the previous window's start the shorter side of the hour is read. About half the raw
    rows of the previous window's edges go."""
    hours = list(prev.hours)
    keep: list[tuple[datetime, datetime]] = []
    minus: list[tuple[datetime, datetime]] = []
    for a, b in prev.raw:
        h0 = _hour_of(a)
        h1 = h0 + HOUR
        d = h0.date()
        if b > h1 or (a == h0 and b == h1) or d in dirty.whole or (d, h0.hour) in dirty.hours:
            keep.append((a, b))
            continue
        rest = [(x, y) for x, y in ((h0, a), (b, h1)) if x < y]
        if _uncovered(rest, cur.raw) < b - a:
            hours.append((d, h0.hour, h0.hour + 1))
            minus += rest
        else:
            keep.append((a, b))
    if not minus:
        return prev, tuple(Weighted(s, e, 1, 0) for s, e in cur.raw) + tuple(
            Weighted(s, e, 0, 1) for s, e in prev.raw
        )
    # Atomic intervals between every boundary, their weights added up, neighbours with equal
    # weights joined.
    spans = [(s, e, 1, 0) for s, e in cur.raw]
    spans += [(s, e, 0, 1) for s, e in keep]
    spans += [(s, e, 0, -1) for s, e in minus]
    cuts = sorted({t for s, e, _, _ in spans for t in (s, e)})
    out: list[Weighted] = []
    for a, b in itertools.pairwise(cuts):
        c = sum(w for s, e, w, _ in spans if s <= a and b <= e)
        p = sum(w for s, e, _, w in spans if s <= a and b <= e)
        if c == 0 and p == 0:
            continue
        if out and out[-1].end == a and (out[-1].cur, out[-1].prev) == (c, p):
            out[-1] = Weighted(out[-1].start, b, c, p)
        else:
            out.append(Weighted(a, b, c, p))
    merged: list[tuple[date, int, int]] = []
    for d, x, y in sorted(hours):
        if merged and merged[-1][0] == d and merged[-1][2] >= x:
            merged[-1] = (d, merged[-1][1], max(merged[-1][2], y))
        else:
            merged.append((d, x, y))
    return replace(prev, raw=tuple(keep), hours=tuple(merged)), tuple(out)


def _days(column: Any, s: Split) -> ColumnElement[bool]:
    if s.lo is None:
        return false()
    conds = [column >= s.lo, column < s.hi]
    if s.skip:
        conds.append(column.notin_(sorted(s.skip)))
    return and_(*conds)


def _hours(table: Any, s: Split) -> ColumnElement[bool]:
    if not s.hours:
        return false()
    return or_(
        *[and_(table.c.day == d, table.c.hour >= a, table.c.hour < b) for d, a, b in s.hours]
    )


def hour_blocks(
    hours: Sequence[tuple[date, int, int]],
) -> tuple[list[tuple[date, int, int]], list[tuple[date, int]]]:
    """Whole hours (day, first, end) as aligned blocks of `backlog_hour_blocks` (day, span,
    first hour) and the single hours left over (day, hour)."""
    blocks: list[tuple[date, int, int]] = []
    singles: list[tuple[date, int]] = []
    for d, a, b in hours:
        h = a
        while h < b:
            for span in rollup.HOUR_SPANS:
                if h % span == 0 and h + span <= b:
                    blocks.append((d, span, h))
                    h += span
                    break
            else:
                singles.append((d, h))
                h += 1
    return blocks, singles


def _hour_block_cond(blocks: Sequence[tuple[date, int, int]]) -> ColumnElement[bool]:
    if not blocks:
        return false()
    return or_(*[and_(HB.c.day == d, HB.c.span == span, HB.c.hour == h) for d, span, h in blocks])


def _single_hour_cond(singles: Sequence[tuple[date, int]]) -> ColumnElement[bool]:
    by_day: dict[date, list[int]] = {}
    for d, h in singles:
        by_day.setdefault(d, []).append(h)
    if not by_day:
        return false()
    return or_(*[and_(H.c.day == d, H.c.hour.in_(hs)) for d, hs in sorted(by_day.items())])


def _when(table: Any, s: Split, hourly: bool) -> ColumnElement[bool]:
    """Rows of a daily rollup on the split's whole days, or of an hourly one on its hours."""
    return _hours(table, s) if hourly else _days(table.c.day, s)


def _in_ranges(column: Any, ranges: Bounds) -> ColumnElement[bool]:
    if not ranges:
        return false()
    return or_(*[and_(column >= s, column < e) for s, e in ranges])


Build = Callable[[Any, Any], Select[Any]]


def _per_range(ranges: Bounds, build: Build, *, shared: bool = False, name: str = "r") -> Any:
    """build(start, end) for each range, as one UNION ALL subquery (or the lone select). One
    range scan each: an OR of ranges makes SQLite merge row ids and then visit the table,
    losing the covering index. `shared`: a materialised CTE, for statements that read the
    rows more than once (scanned once)."""
    parts: list[Select[Any]] = []
    for start, end in ranges:
        parts.append(build(start, end))
    if not parts:
        parts.append(build(None, None))
    stmt: Any = sa.union_all(*parts) if len(parts) > 1 else parts[0]
    if shared:
        return stmt.cte(name).prefix_with("MATERIALIZED")
    return stmt.subquery(name)


def _range(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    if start is None or end is None:
        return false()
    return and_(column >= start, column < end)


# --- slices: which rollup rows answer the filters -----------------------------------------


@dataclass(frozen=True)
class Slice:
    dim: str  # 'a' all, 's' site, 'c' channel, 'o' observer
    value: str
    visits: tuple[str, str]  # the visits rollup's slice (visits filter by site and channel)
    totals: tuple[str, str | None]  # kind 'j' / 's' / 'l' and value (None: every value)


def _hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


def slice_for(f: Filters) -> Slice | None:
    """The rollup slice answering the filters, or None when the rollups cannot (the raw path
    then answers)."""
    obs = [
        (d, v)
        for d, v in (("s", _hex(f.site_id)), ("c", f.channel), ("o", _hex(f.observer_id)))
        if v is not None
    ]
    pps = [
        (k, v)
        for k, v in (
            ("j", _hex(f.journey_id)),
            ("s", _hex(f.stage_id)),
            ("l", None if f.layer is None else "-" if f.layer == "unspecified" else f.layer),
        )
        if v is not None
    ]
    if len(obs) > 1 or len(pps) > 1:
        return None
    dim, value = obs[0] if obs else ("a", "")
    visits = (dim, value) if dim in ("s", "c") else ("a", "")
    totals: tuple[str, str | None] = pps[0] if pps else ("j", None)
    return Slice(dim, value, visits, totals)


# --- shared conditions ----------------------------------------------------------------------


def observation_conditions(f: Filters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [OB.c.deleted_at.is_(None)]
    if f.journey_id is not None:
        conds.append(OB.c.journey_id == f.journey_id)
    if f.site_id is not None:
        conds.append(OB.c.site_id == f.site_id)
    if f.channel is not None:
        conds.append(OB.c.channel == f.channel)
    if f.observer_id is not None:
        conds.append(OB.c.observer_id == f.observer_id)
    return conds


def pain_point_conditions(f: Filters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [P.c.status != PainPointStatus.archived.value]
    if f.stage_id is not None:
        conds.append(P.c.stage_id == f.stage_id)
    if f.layer == "unspecified":
        conds.append(P.c.layer.is_(None))
    elif f.layer is not None:
        conds.append(P.c.layer == f.layer)
    return conds


def _rollup_pp_conditions(f: Filters) -> list[ColumnElement[bool]]:
    conds = pain_point_conditions(f)
    if f.journey_id is not None:
        conds.append(P.c.journey_id == f.journey_id)
    return conds


def _joined(f: Filters, start: Any, end: Any) -> tuple[Any, list[ColumnElement[bool]]]:
    src = T.join(OB, OB.c.id == T.c.observation_id).join(P, P.c.id == T.c.pain_point_id)
    conds = [
        *observation_conditions(f),
        *pain_point_conditions(f),
        _range(OB.c.observed_at, start, end),
    ]
    return src, conds


def _tag_rows(
    f: Filters,
    ranges: Bounds,
    *columns: Any,
    shared: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
    name: str = "r",
) -> Any:
    """The matching tags in the ranges with the given columns and extra conditions `where`,
    as a subquery (or, `shared`, a CTE) called `name`."""

    def build(s: Any, e: Any) -> Select[Any]:
        src, conds = _joined(f, s, e)
        return select(*columns).select_from(src).where(*conds, *where)

    return _per_range(ranges, build, shared=shared, name=name)


def _unindexed(column: Any) -> Any:
    """The column, hidden from the planner's index choice: a pain point's raw rows over a few
    hours are found from the time range, not by reading every tag of the pain point (which
    SQLite otherwise prefers)."""
    return sa.type_coerce(func.coalesce(column, column), column.type)


def _hex_column(column: Any) -> ColumnElement[str]:
    """32 lowercase hex digits on both databases (SQLite stores uuids so; PostgreSQL's text
    form has dashes)."""
    return func.replace(sa.cast(column, sa.Text), "-", "")


# --- per pain point ---------------------------------------------------------------------------


def _current_measures(r: Any, now_: ColumnElement[bool]) -> list[Any]:
    """Severity, minutes and first/last seen over raw tag rows `r` (columns severity,
    minutes, at) of the current window (`now_`)."""
    ts = UTCDateTime()
    return [
        func.coalesce(func.sum(case((now_, r.c.severity))), 0).label("severity_sum"),
        func.coalesce(func.sum(case((now_, func.coalesce(r.c.minutes, 0)))), 0).label("minutes"),
        sa.type_coerce(func.min(case((now_, r.c.at))), ts).label("first_seen"),
        sa.type_coerce(func.max(case((now_, r.c.at))), ts).label("last_seen"),
    ]


def raw_per_pain_point(f: Filters, cur: Bounds, prev: Bounds, start: Any) -> Select[Any]:
    """The raw path: one row per pain point with a tag in the ranges, its current-window
    measures (at or after `start`) with distinct sites and observers, and the previous
    window's frequency, in one pass."""
    r = _tag_rows(
        f,
        [*prev, *cur],
        T.c.pain_point_id.label("pp"),
        OB.c.observed_at.label("at"),
        T.c.severity.label("severity"),
        OB.c.customer_minutes_lost.label("minutes"),
        OB.c.site_id.label("site_id"),
        OB.c.observer_id.label("observer_id"),
    )
    now_ = r.c.at >= start
    cols: list[Any] = [
        r.c.pp.label("pain_point_id"),
        func.count(case((now_, 1))).label("frequency"),
        func.count(case((~now_, 1))).label("previous_frequency"),
        *_current_measures(r, now_),
        func.count(sa.distinct(case((now_, r.c.site_id)))).label("sites"),
        func.count(sa.distinct(case((now_, r.c.observer_id)))).label("observers"),
    ]
    return select(*cols).group_by(r.c.pp)


def raw_weighted_per_pain_point(
    f: Filters,
    ranges: Sequence[tuple[Any, Any, int, int]],
    *,
    total: bool = False,
    stages: bool = False,
) -> list[Select[Any]]:
    """The rollup path's raw part of the measures (`weighted_ranges`): one row per pain point
    (k 'p') with a tag in the ranges, each row counted as its range's weights say. From the
    same scan, as `frequency`: `total`, the current window's counted observations in these
    ranges (k 't', the raw part of `total_observations`); `stages`, those per stage (k 's',
    id = the stage: the raw part of the heatmap's observations per stage). `ranges`: (start,
    end, cur, prev) as `Weighted`."""
    one = sa.Integer()

    def build(start: Any, end: Any, cur: int, prev: int) -> Select[Any]:
        src, conds = _joined(f, start, end)
        return (
            select(
                T.c.pain_point_id.label("pp"),
                P.c.stage_id.label("stage_id"),
                OB.c.id.label("oid"),
                OB.c.observed_at.label("at"),
                T.c.severity.label("severity"),
                OB.c.customer_minutes_lost.label("minutes"),
                literal(cur, one).label("cw"),
                literal(prev, one).label("pw"),
            )
            .select_from(src)
            .where(*conds)
        )

    rows = union_all([build(*w) for w in ranges])
    shared = total or stages
    r = rows.cte("r").prefix_with("MATERIALIZED") if shared else rows.subquery("r")
    now_ = r.c.cw == 1
    out: list[Select[Any]] = [
        select(
            literal("p", sa.String()).label("k"),
            r.c.pp.label("pain_point_id"),
            func.sum(r.c.cw).label("frequency"),
            func.sum(r.c.pw).label("previous_frequency"),
            *_current_measures(r, now_),
        ).group_by(r.c.pp)
    ]
    zero = literal(0, one)
    counted = func.count(sa.distinct(case((now_, r.c.oid))))
    if total:
        cols: list[Any] = [literal("t", sa.String()), sa.null(), counted]
        out.append(select(*cols, zero, zero, zero, sa.null(), sa.null()))
    if stages:
        cols = [literal("s", sa.String()), r.c.stage_id, counted]
        out.append(select(*cols, zero, zero, zero, sa.null(), sa.null()).group_by(r.c.stage_id))
    return out


def _block_cond(table: Any, blocks: Sequence[tuple[int, date]]) -> ColumnElement[bool]:
    """Rows of a blocks table (`backlog_blocks`, `backlog_presence`) for (span, first day)."""
    by_span: dict[int, list[date]] = {}
    for span, d in blocks:
        by_span.setdefault(span, []).append(d)
    if not by_span:
        return false()
    return or_(
        *[
            and_(table.c.span == span, table.c.day.in_(ds))
            for span, ds in sorted(by_span.items(), reverse=True)
        ]
    )


def _measure_select(
    R: Any, f: Filters, sl: Slice, now_: ColumnElement[bool], before: ColumnElement[bool]
) -> Select[Any]:
    ts = UTCDateTime()
    return (
        select(
            literal("p", sa.String()).label("k"),
            R.c.pain_point_id,
            func.coalesce(func.sum(case((now_, R.c.n))), 0).label("frequency"),
            func.coalesce(func.sum(case((before, R.c.n))), 0).label("previous_frequency"),
            func.coalesce(func.sum(case((now_, R.c.severity_sum))), 0).label("severity_sum"),
            func.coalesce(func.sum(case((now_, R.c.minutes_sum))), 0).label("minutes"),
            sa.type_coerce(func.min(case((now_, R.c.first_at))), ts).label("first_seen"),
            sa.type_coerce(func.max(case((now_, R.c.last_at))), ts).label("last_seen"),
        )
        .select_from(R.join(P, P.c.id == R.c.pain_point_id))
        .where(
            R.c.dim == sl.dim,
            R.c.dim_value == sl.value,
            or_(now_, before),
            *_rollup_pp_conditions(f),
        )
        .group_by(R.c.pain_point_id)
    )


def rollup_per_pain_point(
    f: Filters, sl: Slice, cur: Split, prev: Split, *, hourly: bool = False
) -> list[Select[Any]]:
    """The same measures (no distinct counts) over the whole days of both windows — aligned
    blocks of days and single days — or, `hourly`, over the whole hours of their edge
    days."""
    if hourly:
        (cur_hb, cur_h), (prev_hb, prev_h) = hour_blocks(cur.hours), hour_blocks(prev.hours)
        parts: list[Select[Any]] = []
        if cur_hb or prev_hb:
            now_, before = _hour_block_cond(cur_hb), _hour_block_cond(prev_hb)
            parts.append(_measure_select(HB, f, sl, now_, before))
        if cur_h or prev_h:
            now_, before = _single_hour_cond(cur_h), _single_hour_cond(prev_h)
            parts.append(_measure_select(H, f, sl, now_, before))
        return parts
    (cur_blocks, cur_days), (prev_blocks, prev_days) = cur.blocks(), prev.blocks()
    out: list[Select[Any]] = []
    if cur_blocks or prev_blocks:
        out.append(
            _measure_select(B, f, sl, _block_cond(B, cur_blocks), _block_cond(B, prev_blocks))
        )
    if cur_days or prev_days:
        now_, before = (D_.c.day.in_(ds) if ds else false() for ds in (cur_days, prev_days))
        out.append(_measure_select(D_, f, sl, now_, before))
    return out


def clean_partial_hours(
    ranges: Ranges, dirty: rollup.Pending
) -> tuple[tuple[tuple[datetime, datetime], ...], tuple[tuple[datetime, datetime], ...]]:
    """The raw ranges that are part of one hour whose rollups are clean, and the rest."""
    partial: list[tuple[datetime, datetime]] = []
    rest: list[tuple[datetime, datetime]] = []
    for a, b in ranges:
        h0 = _hour_of(a)
        d = h0.date()
        if b > h0 + HOUR or b - a == HOUR or d in dirty.whole or (d, h0.hour) in dirty.hours:
            rest.append((a, b))
        else:
            partial.append((a, b))
    return tuple(partial), tuple(rest)


def presence_rows(
    f: Filters,
    sl: Slice,
    cur: Split,
    raw: Bounds,
    candidates: Sequence[tuple[date, int]] = (),
    candidate_days: Sequence[date] = (),
    anyone: Bounds = (),
    newcomers: Bounds = (),
) -> Select[Any] | None:
    """Who saw each pain point in the current window, as rows (pain point, member kind 's' |
    'o', chunk, bits, member, sure) whose OR per pain point, kind and chunk is a set of
    members: presence sets of the whole days' blocks, and for the hours of the edge days and
    the `raw` ranges one row per member with its bit (or, not numbered yet, its id in
    `member`). `candidates` are (day, hour) of partial hours with clean rollups: their rows
    (sure = 0) are everyone who saw the pain point in the whole hour, a superset of who saw
    it in the partial hour, so when those are all in the sure set the partial hour's raw
    rows add no one (see `MemberSets`). `candidate_days`, days with clean rollups whose hours
    and partial hours are not asked for here: their whole days' sets (sure = 0), a superset
    of who saw the pain point in any part of them, likewise. `anyone`: raw ranges not read per pain
    point here; everyone who made a matching observation in them (from the observations'
    covering index alone, no tags) is a candidate of every pain point (pain point NULL, sure
    = 0, the member's id always given). `newcomers`: raw ranges read like `raw` but only the
    observations of the sites and observers bound as `newcomer_sites` and
    `newcomer_observers` (the candidates of `anyone` not counted yet). SQLite gets `bit_or`
    from app/core/db.py."""
    kinds = PRESENCE_MEMBERS[sl.dim]
    parts: list[Select[Any]] = []
    yes = literal(1, sa.Integer())
    blocks, singles = cur.blocks()
    for sure_, cond in (
        (1, [*blocks, *((1, d) for d in singles)]),
        (0, [(1, d) for d in candidate_days]),
    ):
        if not cond:
            continue
        parts.append(
            select(
                sa.type_coerce(PR.c.pain_point_id, sa.String()),  # no uuid per row
                PR.c.member_kind,
                PR.c.chunk,
                PR.c.bits.label("bits"),
                sa.cast(sa.null(), sa.String()).label("member"),
                literal(sure_, sa.Integer()).label("sure"),
            )
            .select_from(PR.join(P, P.c.id == PR.c.pain_point_id))
            .where(
                PR.c.dim == sl.dim,
                PR.c.dim_value == sl.value,
                _block_cond(PR, cond),
                PR.c.member_kind.in_(kinds),
                *_rollup_pp_conditions(f),
            )
        )
    per_member: list[Select[Any]] = []
    sure_bits: dict[date, int] = {}
    any_bits: dict[date, int] = {}
    for d, a, b in cur.hours:
        mask = sum(1 << h for h in range(a, b))
        sure_bits[d] = sure_bits.get(d, 0) | mask
        any_bits[d] = any_bits.get(d, 0) | mask
    for d, h in candidates:
        any_bits[d] = any_bits.get(d, 0) | 1 << h
    if any_bits:
        sure: Any = literal(0, sa.BigInteger())
        if sure_bits:
            sure = PD.c.bits.op("&")(
                case(*[(PD.c.day == d, m) for d, m in sorted(sure_bits.items())], else_=0)
            )
        per_member.append(
            select(
                PD.c.pain_point_id.label("pp"),
                PD.c.member_kind.label("kind"),
                PD.c.member.label("member"),
                case((sure != 0, 1), else_=0).label("sure"),
            )
            .select_from(PD.join(P, P.c.id == PD.c.pain_point_id))
            .where(
                PD.c.dim == sl.dim,
                PD.c.dim_value == sl.value,
                PD.c.member_kind.in_(kinds),
                or_(
                    *[
                        and_(PD.c.day == d, PD.c.bits.op("&")(m) != 0)
                        for d, m in sorted(any_bits.items())
                    ]
                ),
                *_rollup_pp_conditions(f),
            )
        )
    newcomer = or_(
        OB.c.site_id.in_(sa.bindparam("newcomer_sites", expanding=True)),
        OB.c.observer_id.in_(sa.bindparam("newcomer_observers", expanding=True)),
    )
    for ranges, where, name in ((raw, (), "r"), (newcomers, (newcomer,), "n")):
        if not ranges:
            continue
        r = _tag_rows(
            f,
            ranges,
            T.c.pain_point_id.label("pp"),
            OB.c.site_id.label("site_id"),
            OB.c.observer_id.label("observer_id"),
            shared=len(kinds) > 1,
            where=where,
            name=name,
        )
        for kind in kinds:
            column = r.c.site_id if kind == "s" else r.c.observer_id
            per_member.append(
                select(r.c.pp, literal(kind, sa.String()), _hex_column(column), yes).where(
                    column.is_not(None)
                )
            )
    if anyone:
        for kind in kinds:
            column = OB.c.site_id if kind == "s" else OB.c.observer_id

            def seen(s: Any, e: Any, column: Any = column) -> Select[Any]:
                conds = [*observation_conditions(f), _range(OB.c.observed_at, s, e)]
                return select(column.label("m")).where(*conds, column.is_not(None))

            seen_by = _per_range(anyone, seen, name=f"seen_{kind}")
            per_member.append(
                select(
                    sa.cast(sa.null(), T.c.pain_point_id.type),
                    literal(kind, sa.String()),
                    _hex_column(seen_by.c.m),
                    literal(0, sa.Integer()),
                ).distinct()
            )
    if per_member:
        u = union_all(per_member).subquery("u")
        pp_col, kind_col, member_col, sure_col = u.c[0], u.c[1], u.c[2], u.c[3]
        one = literal(1, sa.BigInteger())
        parts.append(
            select(
                sa.type_coerce(pp_col, sa.String()),
                kind_col,
                M.c.idx // rollup.CHUNK,
                one.op("<<")(M.c.idx % rollup.CHUNK),
                case((or_(M.c.idx.is_(None), pp_col.is_(None)), member_col)),
                sure_col,
            ).select_from(u.outerjoin(M, and_(M.c.kind == kind_col, M.c.member == member_col)))
        )
    if not parts:
        return None
    # OR'ed per pain point, kind and chunk in the database (hundreds of rows, not thousands);
    # members without a number stay one row each.
    u = union_all(parts).subquery("p")
    pp_, kind_, chunk_, bits_, member_, sure_ = (u.c[k] for k in range(6))
    stmt: Select[Any] = select(pp_, kind_, chunk_, func.bit_or(bits_), member_, sure_).group_by(
        pp_, kind_, chunk_, member_, sure_
    )
    return stmt


class MemberSets:
    """Distinct members per (pain point, kind) from `presence_rows` (thousands of rows: the
    pain point ids arrive as the driver gives them and become uuids once each): the sure
    sets, and the candidates of partial hours not read raw."""

    def __init__(self) -> None:
        self.bits: dict[tuple[Any, str, int], int] = {}
        self.extra: dict[tuple[Any, str], set[str]] = {}
        self.maybe_bits: dict[tuple[Any, str, int], int] = {}
        self.maybe_extra: dict[tuple[Any, str], set[str]] = {}
        # Candidates of every pain point: kind → member id → (chunk, bit), None unnumbered.
        self.anyone: dict[str, dict[str, tuple[int, int] | None]] = {}

    def add(self, rows: Iterable[Any]) -> None:
        for pp, kind, chunk, b, member, sure in rows:
            if pp is None:
                self.anyone.setdefault(kind, {})[member] = None if chunk is None else (chunk, b)
            elif member is not None:
                (self.extra if sure else self.maybe_extra).setdefault((pp, kind), set()).add(member)
            else:
                bits = self.bits if sure else self.maybe_bits
                key = (pp, kind, chunk)
                bits[key] = bits.get(key, 0) | b

    def covered(self, wanted: set[uuid.UUID]) -> bool:
        """Whether every candidate of the wanted pain points is in its sure set (then the
        ranges the candidates stand for add no one to them)."""
        out = [k[:2] for k, b in self.maybe_bits.items() if b & ~self.bits.get(k, 0)]
        out += [k for k, m in self.maybe_extra.items() if not m <= self.extra.get(k, set())]
        return not any(_uuid(pp) in wanted for pp, _ in out)

    def newcomers(self, wanted: set[uuid.UUID]) -> dict[str, set[uuid.UUID]]:
        """The candidates of every pain point (`presence_rows`' `anyone`) missing from the
        sure set of at least one wanted pain point, by kind: only their observations in
        those ranges can add anyone. Checked against the members all wanted pain points
        share (an AND of their bits, an intersection of their unnumbered ids)."""
        if not self.anyone:
            return {}
        shared: dict[tuple[str, int], int] = {}
        sharing: dict[tuple[str, int], int] = {}
        for (pp, kind, chunk), b in self.bits.items():
            if _uuid(pp) in wanted:
                shared[kind, chunk] = shared.get((kind, chunk), -1) & b
                sharing[kind, chunk] = sharing.get((kind, chunk), 0) + 1
        shared_extra: dict[str, set[str]] = {}
        sharing_extra: dict[str, int] = {}
        for (pp, kind), m in self.extra.items():
            if _uuid(pp) in wanted:
                shared_extra[kind] = shared_extra[kind] & m if kind in shared_extra else set(m)
                sharing_extra[kind] = sharing_extra.get(kind, 0) + 1
        n = len(wanted)
        out: dict[str, set[uuid.UUID]] = {}
        for kind, members in self.anyone.items():
            everyone = shared_extra.get(kind, set()) if sharing_extra.get(kind) == n else set()
            for member, numbered in members.items():
                if numbered is None:
                    new = member not in everyone
                else:
                    chunk, bit = numbered
                    common = shared.get((kind, chunk), 0) if sharing.get((kind, chunk)) == n else 0
                    new = not common & bit
                if new:
                    out.setdefault(kind, set()).add(uuid.UUID(member))
        return out

    def counts(self) -> dict[tuple[uuid.UUID, str], int]:
        counts: dict[tuple[Any, str], int] = {k: len(v) for k, v in self.extra.items()}
        for (pp, kind, _), b in self.bits.items():
            counts[pp, kind] = counts.get((pp, kind), 0) + b.bit_count()
        return {(_uuid(pp), kind): n for (pp, kind), n in counts.items()}


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


# --- totals -----------------------------------------------------------------------------------


def raw_distinct_observations(f: Filters, ranges: Bounds) -> Select[Any]:
    """Counted observations with at least one matching tag: a streaming count with EXISTS,
    not a COUNT(DISTINCT) that must sort every observation id of the window."""
    tagged = (
        select(sa.literal(1))
        .select_from(T.join(P, P.c.id == T.c.pain_point_id))
        .where(T.c.observation_id == OB.c.id, *pain_point_conditions(f))
        .exists()
    )

    def build(s: Any, e: Any) -> Select[Any]:
        return (
            select(func.count().label("n"))
            .select_from(OB)
            .where(*observation_conditions(f), _range(OB.c.observed_at, s, e), tagged)
        )

    r = _per_range(ranges, build)
    return select(func.coalesce(func.sum(r.c.n), 0))


def rollup_distinct_observations(sl: Slice, cur: Split, *, hourly: bool = False) -> Select[Any]:
    TT = TH if hourly else TT_
    kind, value = sl.totals
    conds = [TT.c.dim == sl.dim, TT.c.dim_value == sl.value, TT.c.kind == kind]
    if value is not None:
        conds.append(TT.c.value == value)
    return select(func.coalesce(func.sum(TT.c.n), 0)).where(*conds, _when(TT, cur, hourly))


def raw_observations_by_stage(f: Filters, ranges: Bounds) -> Select[Any]:
    r = _tag_rows(f, ranges, P.c.stage_id.label("stage_id"), OB.c.id.label("oid"))
    return select(r.c.stage_id, func.count(sa.distinct(r.c.oid))).group_by(r.c.stage_id)


def rollup_observations_by_stage(sl: Slice, cur: Split) -> Select[Any]:
    """(stage id as hex, count) over whole days and the whole hours of the edge days."""
    parts: list[Select[Any]] = []
    for TT, hourly in ((TT_, False), (TH, True)):
        parts.append(
            select(TT.c.value.label("value"), TT.c.n.label("n")).where(
                TT.c.dim == sl.dim,
                TT.c.dim_value == sl.value,
                TT.c.kind == "s",
                _when(TT, cur, hourly),
            )
        )
    u = union_all(parts).subquery("s")
    return select(u.c.value, func.sum(u.c.n)).group_by(u.c.value)


def raw_customers_observed(f: Filters, ranges: Bounds) -> Select[Any]:
    conds: list[ColumnElement[bool]] = [_in_ranges(V.c.started_at, ranges)]
    if f.site_id is not None:
        conds.append(V.c.site_id == f.site_id)
    if f.channel is not None:
        conds.append(V.c.channel == f.channel)
    return select(func.coalesce(func.sum(V.c.customers_observed), 0)).where(*conds)


def rollup_customers_observed(sl: Slice, cur: Split, *, hourly: bool = False) -> Select[Any]:
    VD = VH if hourly else VD_
    dim, value = sl.visits
    return select(func.coalesce(func.sum(VD.c.customers), 0)).where(
        VD.c.dim == dim, VD.c.dim_value == value, _when(VD, cur, hourly)
    )


# --- details, timeline, window counts ---------------------------------------------------------


def pain_point_details(ids: set[uuid.UUID]) -> Any:
    return (
        select(
            col(PainPoint.id),
            col(PainPoint.title),
            col(PainPoint.journey_id),
            col(PainPoint.layer),
            col(Stage.id),
            col(Stage.name),
            col(Stage.position),
        )
        .join(Stage, col(Stage.id) == col(PainPoint.stage_id))
        .where(col(PainPoint.id).in_(ids))
    )


def utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, as text YYYY-MM-DD on both databases."""
    if dialect == "sqlite":
        return func.substr(column, 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def raw_daily_counts(pain_point_id: uuid.UUID, ranges: Ranges, dialect: str) -> Select[Any]:
    def build(s: datetime | None, e: datetime | None) -> Select[Any]:
        return (
            select(OB.c.observed_at.label("at"))
            .select_from(T.join(OB, OB.c.id == T.c.observation_id))
            .where(
                _unindexed(T.c.pain_point_id) == pain_point_id,
                OB.c.deleted_at.is_(None),
                _range(OB.c.observed_at, s, e),
            )
        )

    r = _per_range(ranges, build)
    day = utc_day(r.c.at, dialect)
    return select(day.label("day"), func.count()).group_by(day)


def rollup_daily_counts(pain_point_id: uuid.UUID, s: Split, *, hourly: bool = False) -> Select[Any]:
    D = H if hourly else D_
    return select(D.c.day, D.c.n).where(
        D.c.pain_point_id == pain_point_id,
        D.c.dim == "a",
        D.c.dim_value == "",
        _when(D, s, hourly),
    )


def sum_per_pain_point(parts: Sequence[Select[Any]]) -> Select[Any]:
    """The measures of several parts (days, blocks, hours, raw rows) added up per pain point
    in the database: one row per pain point reaches Python."""
    u = union_all(parts).subquery("m")
    ts = UTCDateTime()
    return select(
        u.c.k,
        u.c.pain_point_id,
        func.sum(u.c.frequency).label("frequency"),
        func.sum(u.c.previous_frequency).label("previous_frequency"),
        func.sum(u.c.severity_sum).label("severity_sum"),
        func.sum(u.c.minutes).label("minutes"),
        sa.type_coerce(func.min(u.c.first_seen), ts).label("first_seen"),
        sa.type_coerce(func.max(u.c.last_seen), ts).label("last_seen"),
    ).group_by(u.c.k, u.c.pain_point_id)


def union_all(parts: Sequence[Any]) -> Any:
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


# --- statements built once per shape ----------------------------------------------------------
#
# Between two reads of the same backlog only the raw ranges' instants move with the clock; the
# rollup parts (blocks, days, hours) change when an hour passes or a mark appears. Building a
# statement here makes thousands of SQLAlchemy expression objects and SQLAlchemy then walks
# them for its cache key: that cost about as much Python as the rest of a read. So the
# backlog's statements are built once per shape — filters, slice, whole days and hours, the
# number and weights of the raw ranges — with the raw instants as named parameters (`slots`,
# `slot_values`), and reused: with them SQLAlchemy's cache key and compiled form, and the
# driver's prepared statement.

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _by_shape(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """`fn` memoised on its arguments (all hashable shapes: filters, slices, splits without
    their raw ranges, counts) and on the rollup constants that shape statements (the property
    test shrinks them)."""

    # ~0.5 MiB per shape with its compiled forms; shapes change every hour, so the shapes in
    # use are those of the last hour's distinct filters and windows.
    @functools.lru_cache(maxsize=128)
    def cached(consts: Any, *args: Any, **kwargs: Any) -> _R:
        return fn(*args, **kwargs)

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        named: dict[str, Any] = kwargs
        return cached((rollup.SPANS, rollup.HOUR_SPANS, rollup.CHUNK), *args, **named)

    return wrapper


def shape(s: Split) -> Split:
    """The split without its raw ranges (they are parameters: `slots`)."""
    return replace(s, raw=()) if s.raw else s


def slots(prefix: str, n: int) -> tuple[tuple[Any, Any], ...]:
    """n raw ranges as bind parameters `{prefix}{i}s` / `{prefix}{i}e`."""
    ts = UTCDateTime()
    return tuple(
        (sa.bindparam(f"{prefix}{i}s", type_=ts), sa.bindparam(f"{prefix}{i}e", type_=ts))
        for i in range(n)
    )


def slot_values(prefix: str, ranges: Ranges) -> dict[str, datetime]:
    """The values of `slots(prefix, len(ranges))`."""
    out: dict[str, datetime] = {}
    for i, (s, e) in enumerate(ranges):
        out[f"{prefix}{i}s"] = s
        out[f"{prefix}{i}e"] = e
    return out


@_by_shape
def raw_statement(f: Filters, n_cur: int, n_prev: int) -> Select[Any]:
    """`raw_per_pain_point` over slots 'c' (current) and 'p' (previous), start `start`."""
    start = sa.bindparam("start", type_=UTCDateTime())
    return raw_per_pain_point(f, slots("c", n_cur), slots("p", n_prev), start)


@_by_shape
def measures_statement(
    f: Filters,
    sl: Slice,
    cur: Split,
    prev: Split,
    weights: tuple[tuple[int, int], ...],
    *,
    total: bool,
    stages: bool,
) -> Select[Any] | None:
    """The rollup path's measures (`sum_per_pain_point`): whole days, whole hours and the
    weighted raw ranges, slots 'w' (`weights`: each range's (cur, prev))."""
    parts: list[Select[Any]] = []
    if cur.lo is not None or prev.lo is not None:
        parts += rollup_per_pain_point(f, sl, cur, prev)
    if cur.hours or prev.hours:
        parts += rollup_per_pain_point(f, sl, cur, prev, hourly=True)
    if weights:
        bounds = slots("w", len(weights))
        ranges = [(s, e, c, p) for (s, e), (c, p) in zip(bounds, weights, strict=True)]
        parts += raw_weighted_per_pain_point(f, ranges, total=total, stages=stages)
    return sum_per_pain_point(parts) if parts else None


@_by_shape
def presence_statement(
    f: Filters,
    sl: Slice,
    cur: Split,
    n_raw: int,
    candidates: tuple[tuple[date, int], ...] = (),
    candidate_days: tuple[date, ...] = (),
    n_anyone: int = 0,
    n_newcomers: int = 0,
) -> Select[Any] | None:
    """`presence_rows` with its raw ranges as slots 'r', `anyone` as slots 'a' and
    `newcomers` as slots 'n'."""
    raw, anyone, newcomers = slots("r", n_raw), slots("a", n_anyone), slots("n", n_newcomers)
    return presence_rows(f, sl, cur, raw, candidates, candidate_days, anyone, newcomers)


@_by_shape
def scalars_statement(
    f: Filters,
    sl: Slice | None,
    cur: Split,
    n_raw: int,
    *,
    totals: Literal["rollup", "rollup-counted", "raw"],
) -> tuple[Select[Any], int]:
    """[total observations parts…, customers observed parts…] as one row of scalar
    subqueries, and how many of the columns are total parts. `totals`: 'rollup' (the rollups
    and, `n_raw` slots 'c', the raw rows), 'rollup-counted' (the raw part already counted by
    the measures' scan), 'raw' (everything raw: one slot 'x')."""
    raw = slots("c", n_raw)
    parts: list[Any] = []
    if totals == "raw" or sl is None:
        parts.append(raw_distinct_observations(f, slots("x", 1)))
    else:
        parts.append(rollup_distinct_observations(sl, cur))
        if cur.hours:
            parts.append(rollup_distinct_observations(sl, cur, hourly=True))
        if raw and totals == "rollup":
            parts.append(raw_distinct_observations(f, raw))
    n_totals = len(parts)
    if sl is not None and cur.lo is not None:
        parts.append(rollup_customers_observed(sl, cur))
    if sl is not None and cur.hours:
        parts.append(rollup_customers_observed(sl, cur, hourly=True))
    if raw:
        parts.append(raw_customers_observed(f, raw))
    return select(*[stmt.scalar_subquery() for stmt in parts]), n_totals


@_by_shape
def stages_statement(sl: Slice, cur: Split) -> Select[Any]:
    """`rollup_observations_by_stage` (the heatmap's observations per stage)."""
    return rollup_observations_by_stage(sl, cur)


@dataclass(frozen=True)
class CountWindow:
    """One pain point's window for `window_count_statement`, split like the backlog's."""

    key: int
    pain_point_id: uuid.UUID
    split: Split

    @property
    def shape(self) -> tuple[bool, int]:
        """Whole days or not, how many days' hours."""
        s = self.split
        return (s.lo is not None, len(s.hours))

    @property
    def parts(self) -> int:
        days, hours = self.shape
        return int(days) + int(hours > 0)


@_by_shape
def window_count_statement(shapes: tuple[tuple[bool, int], ...]) -> Select[Any]:
    """(i, n) rows, to be added up per i, counting the non-deleted observations tagging the
    pain point of window i (`CountWindow.shape`s; values from `window_count_values`) in its
    whole days, from the daily rollup except the marked ones (`skip`, shared), and in its
    whole hours, from the hourly rollup. Its raw ranges are `window_raw_statement`'s. The
    windows' instants are parameters, so the statement serves every hour with the same shape."""
    skip = sa.bindparam("skip", expanding=True, type_=D.c.day.type)
    parts: list[Any] = []
    for i, (days, n_hours) in enumerate(shapes):
        key = sa.literal_column(str(i), sa.Integer()).label("i")
        pain_point = sa.bindparam(f"q{i}", type_=D.c.pain_point_id.type)
        if days:
            parts.append(
                select(key, func.sum(D.c.n).label("n")).where(
                    D.c.pain_point_id == pain_point,
                    D.c.dim == "a",
                    D.c.dim_value == "",
                    D.c.day >= sa.bindparam(f"d{i}l", type_=D.c.day.type),
                    D.c.day < sa.bindparam(f"d{i}h", type_=D.c.day.type),
                    D.c.day.notin_(skip),
                )
            )
        if n_hours:
            # Each hour named (IN, not a range): the primary key (…, day, hour, pain point)
            # then finds the pain point's rows by look-ups instead of scanning every pain
            # point's rows of the hours (~2,000 index entries per edge day at 10M).
            hours = [
                and_(
                    H.c.day == sa.bindparam(f"h{i}_{j}d", type_=H.c.day.type),
                    H.c.hour.in_(sa.bindparam(f"h{i}_{j}h", expanding=True, type_=sa.Integer())),
                )
                for j in range(n_hours)
            ]
            parts.append(
                select(key, func.sum(H.c.n).label("n")).where(
                    H.c.pain_point_id == pain_point,
                    H.c.dim == "a",
                    H.c.dim_value == "",
                    or_(*hours),
                )
            )
    u = union_all(parts).subquery("w")
    return select(u.c.i, func.sum(u.c.n)).group_by(u.c.i)


def window_count_values(windows: Sequence[CountWindow], skip: Iterable[date]) -> dict[str, Any]:
    """The parameters of `window_count_statement` for these windows and marked days."""
    out: dict[str, Any] = {"skip": sorted(skip)}
    for i, w in enumerate(windows):
        s = w.split
        out[f"q{i}"] = w.pain_point_id
        if s.lo is not None:
            out[f"d{i}l"], out[f"d{i}h"] = s.lo, s.hi
        for j, (d, a, b) in enumerate(s.hours):
            out[f"h{i}_{j}d"], out[f"h{i}_{j}h"] = d, list(range(a, b))
    return out


@_by_shape
def window_raw_statement(n: int) -> Select[Any]:
    """(k, pain point, n): the non-deleted observations in raw range k (slots 'x') tagging
    each of the pain points `pain_points`, one scan per range however many windows hold it
    (the regression windows share the marked hours)."""
    parts = [
        select(
            sa.literal_column(str(k), sa.Integer()).label("k"),
            T.c.pain_point_id,
            func.count().label("n"),
        )
        .select_from(T.join(OB, OB.c.id == T.c.observation_id))
        .where(
            _unindexed(T.c.pain_point_id).in_(
                sa.bindparam("pain_points", expanding=True, type_=T.c.pain_point_id.type)
            ),
            OB.c.deleted_at.is_(None),
            OB.c.observed_at >= s,
            OB.c.observed_at < e,
        )
        .group_by(T.c.pain_point_id)
        for k, (s, e) in enumerate(slots("x", n))
    ]
    out: Select[Any] = union_all(parts)
    return out
