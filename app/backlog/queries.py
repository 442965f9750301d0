"""SQLAlchemy Core statements behind the backlog, heatmap and timeline (raw tables).

Every statement counts an observation when it is not deleted, lies in the window and matches the
observation filters; tags always point at a canonical pain point (aliases resolve on write and
merges re-point tags, keeping one tag per observation), so one tag row = one observation of one
pain point and `count(*)` over tags is the distinct-observation frequency.

Performance (measured with bench/backlog.py, see its README section): these statements scan
the raw rows of the window and of the previous window through covering indexes
(app/models/rollups.py). That is exact by construction under merges, stage moves, archives,
deletes, edits and late observations, but it is far from the 50 ms target at 1M observations:
the per-pain-point aggregate reads every tag of both windows (≈1.4M rows at 1M observations
over 180 days) and PostgreSQL sorts them for the DISTINCT site/observer counts. The planned
next step is a daily rollup: whole UTC days from a rollup table, the partial days at the
window's edges from these raw statements (same shape, narrower range)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, case, func, select, type_coerce
from sqlmodel import col

from app.models import Observation, ObservationTag, PainPoint, PainPointStatus, Stage, Visit
from app.models.base import UTCDateTime

OB = Observation.__table__  # type: ignore[attr-defined]
T = ObservationTag.__table__  # type: ignore[attr-defined]
P = PainPoint.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Filters:
    """The backlog's filters: observation filters and pain point filters."""

    journey_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    channel: str | None = None
    observer_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    layer: str | None = None  # "unspecified" = no layer


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


def _joined(f: Filters, start: datetime, end: datetime) -> tuple[Any, list[ColumnElement[bool]]]:
    src = T.join(OB, OB.c.id == T.c.observation_id).join(P, P.c.id == T.c.pain_point_id)
    conds = [
        *observation_conditions(f),
        *pain_point_conditions(f),
        OB.c.observed_at >= start,
        OB.c.observed_at < end,
    ]
    return src, conds


def per_pain_point(f: Filters, prev_from: datetime, start: datetime, end: datetime) -> Select[Any]:
    """One row per pain point with a tag in [prev_from, end): current-window measures (from
    `start`) and the previous window's frequency, in one scan."""
    src, conds = _joined(f, prev_from, end)
    cur = OB.c.observed_at >= start
    ts = UTCDateTime()
    return (
        select(
            T.c.pain_point_id,
            func.count(case((cur, 1))).label("frequency"),
            func.count(case((~cur, 1))).label("previous_frequency"),
            func.coalesce(func.sum(case((cur, T.c.severity))), 0).label("severity_sum"),
            func.coalesce(
                func.sum(case((cur, func.coalesce(OB.c.customer_minutes_lost, 0)))), 0
            ).label("minutes"),
            func.count(sa.distinct(case((cur, OB.c.site_id)))).label("sites"),
            func.count(sa.distinct(case((cur, OB.c.observer_id)))).label("observers"),
            type_coerce(func.min(case((cur, OB.c.observed_at))), ts).label("first_seen"),
            type_coerce(func.max(case((cur, OB.c.observed_at))), ts).label("last_seen"),
        )
        .select_from(src)
        .where(*conds)
        .group_by(T.c.pain_point_id)
    )


def distinct_observations(f: Filters, start: datetime, end: datetime) -> Select[Any]:
    """Counted observations with at least one matching tag: a streaming count with EXISTS,
    not a COUNT(DISTINCT) that must sort every observation id of the window."""
    tagged = (
        select(sa.literal(1))
        .select_from(T.join(P, P.c.id == T.c.pain_point_id))
        .where(T.c.observation_id == OB.c.id, *pain_point_conditions(f))
        .exists()
    )
    return (
        select(func.count())
        .select_from(OB)
        .where(
            *observation_conditions(f), OB.c.observed_at >= start, OB.c.observed_at < end, tagged
        )
    )


def observations_by_stage(f: Filters, start: datetime, end: datetime) -> Select[Any]:
    src, conds = _joined(f, start, end)
    return (
        select(P.c.stage_id, func.count(sa.distinct(OB.c.id)))
        .select_from(src)
        .where(*conds)
        .group_by(P.c.stage_id)
    )


def customers_observed(f: Filters, start: datetime, end: datetime) -> Select[Any]:
    conds: list[ColumnElement[bool]] = [
        col(Visit.started_at) >= start,
        col(Visit.started_at) < end,
    ]
    if f.site_id is not None:
        conds.append(col(Visit.site_id) == f.site_id)
    if f.channel is not None:
        conds.append(col(Visit.channel) == f.channel)
    return select(func.coalesce(func.sum(col(Visit.customers_observed)), 0)).where(*conds)


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


def daily_counts(
    pain_point_id: uuid.UUID, start: datetime, end: datetime, dialect: str
) -> Select[Any]:
    day = utc_day(OB.c.observed_at, dialect)
    return (
        select(day.label("day"), func.count())
        .select_from(T.join(OB, OB.c.id == T.c.observation_id))
        .where(
            and_(
                T.c.pain_point_id == pain_point_id,
                OB.c.deleted_at.is_(None),
                OB.c.observed_at >= start,
                OB.c.observed_at < end,
            )
        )
        .group_by(day)
    )
