"""The ranked backlog, the journey heatmap and the pain point timeline (SPEC §5).

Definitions are exact (SPEC §5 "Backlog"): aggregates come from SQL (queries.py), ranking,
shares and tie-breaks are done here over the per-pain-point rows (hundreds, not millions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.backlog import queries
from app.backlog.queries import Filters
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


def ranked_rows(
    session: Session, f: Filters, start: datetime, end: datetime, sort: BacklogSort
) -> list[Row]:
    prev_from = start - (end - start)
    agg = list(session.execute(queries.per_pain_point(f, prev_from, start, end)))
    current = {a.pain_point_id: a for a in agg if a.frequency > 0}
    rows: list[Row] = []
    if current:
        for pid, title, jid, layer, sid, sname, spos in session.execute(
            queries.pain_point_details(set(current))
        ):
            a = current[pid]
            rows.append(
                Row(
                    id=pid,
                    title=title,
                    journey_id=jid,
                    layer=layer,
                    stage=StageRef(id=sid, name=sname, position=spos),
                    frequency=int(a.frequency),
                    previous_frequency=int(a.previous_frequency),
                    severity_sum=int(a.severity_sum),
                    minutes=int(a.minutes),
                    sites=int(a.sites),
                    observers=int(a.observers),
                    first_seen=a.first_seen,
                    last_seen=a.last_seen,
                )
            )
    rows.sort(key=lambda r: sort_key(sort, r))
    return rows


def _improvements(
    session: Session, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[ImprovementRef]], set[uuid.UUID]]:
    from app.improvements.service import for_backlog, regressions

    return for_backlog(session, ids), regressions(session, ids, utcnow())


def backlog(
    session: Session,
    f: Filters,
    start: datetime,
    end: datetime,
    sort: BacklogSort,
    limit: int | None,
) -> Backlog:
    rows = ranked_rows(session, f, start, end, sort)
    total_mentions = sum(r.frequency for r in rows)
    total_obs = int(session.execute(queries.distinct_observations(f, start, end)).scalar_one())
    customers = int(session.execute(queries.customers_observed(f, start, end)).scalar_one())
    shown = rows if limit is None else rows[:limit]
    imps, regressed = _improvements(session, [r.id for r in shown])
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
    prev_from = start - (end - start)
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
    session: Session, journey_id: uuid.UUID, f: Filters, start: datetime, end: datetime
) -> Heatmap:
    journey = session.get(Journey, journey_id)
    if journey is None:
        raise NotFound("No such journey.")
    f = Filters(
        journey_id=journey_id, site_id=f.site_id, channel=f.channel, observer_id=f.observer_id
    )
    rows = ranked_rows(session, f, start, end, BacklogSort.frequency)
    by_stage_obs = {
        sid: int(n) for sid, n in session.execute(queries.observations_by_stage(f, start, end))
    }
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
                observations=by_stage_obs.get(st.id, 0),
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
    session: Session, pain_point_id: uuid.UUID, start: datetime, end: datetime, bucket: Bucket
) -> list[TimelinePoint]:
    from app.pain_points.service import get as get_pain_point

    pp = get_pain_point(session, pain_point_id)
    dialect = session.get_bind().dialect.name
    counts: dict[datetime, int] = {}
    for day, n in session.execute(queries.daily_counts(pp.id, start, end, dialect)):
        b = bucket_start(datetime.combine(date.fromisoformat(day), time(0), tzinfo=UTC), bucket)
        counts[b] = counts.get(b, 0) + int(n)
    out: list[TimelinePoint] = []
    cursor = bucket_start(start, bucket)
    while cursor < end:
        out.append(TimelinePoint(start=cursor, frequency=counts.get(cursor, 0)))
        cursor = _next(cursor, bucket)
    return out
