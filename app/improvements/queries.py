"""Aggregate SQL for improvements: effect windows, backlog links, regression counts. Core
statements that run alike on SQLite and PostgreSQL; window bounds are computed in Python and
bound as parameters (no dialect-specific date arithmetic)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlmodel import col

from app.models import (
    Improvement,
    ImprovementPainPoint,
    ImprovementStatus,
    Observation,
    ObservationTag,
    PainPoint,
    PainPointStatus,
)


def survivor_id() -> ColumnElement[Any]:
    """A pain point's surviving id: itself, or the one it was merged into."""
    return case(
        (col(PainPoint.status) == PainPointStatus.merged, col(PainPoint.merged_into_id)),
        else_=col(PainPoint.id),
    )


def linked_pain_points(improvement_ids: Collection[uuid.UUID]) -> Select[Any]:
    """(improvement_id, surviving pain point id) for each link. Merges re-point links, but a
    link left on a merged id still reads as the survivor."""
    return (
        select(col(ImprovementPainPoint.improvement_id), survivor_id().label("pain_point_id"))
        .join(PainPoint, col(PainPoint.id) == col(ImprovementPainPoint.pain_point_id))
        .where(col(ImprovementPainPoint.improvement_id).in_(improvement_ids))
    )


def improvements_linked_to(pain_point_id: uuid.UUID) -> Select[Any]:
    """Ids of improvements linked to the pain point (or to one merged into it)."""
    return (
        select(col(ImprovementPainPoint.improvement_id))
        .join(PainPoint, col(PainPoint.id) == col(ImprovementPainPoint.pain_point_id))
        .where(survivor_id() == pain_point_id)
    )


def _tagged_pain_points(survivors: Collection[uuid.UUID]) -> Select[Any]:
    """The survivors and every pain point merged into them: tags are re-pointed on merge, so
    the second half is a safety net that costs one index probe."""
    return select(col(PainPoint.id)).where(
        sa.or_(
            col(PainPoint.id).in_(survivors),
            col(PainPoint.merged_into_id).in_(survivors),
        )
    )


@dataclass(frozen=True)
class EffectCounts:
    before: int
    after: int


def effect_counts(
    session: Any,
    survivors: Collection[uuid.UUID],
    *,
    start: datetime,
    split: datetime,
    end: datetime,
) -> EffectCounts:
    """Distinct non-deleted observations tagging any of `survivors` in [start, split) and in
    [split, end) — one query; an observation with two matching tags counts once."""
    if not survivors:
        return EffectCounts(0, 0)
    o, t = Observation, ObservationTag
    observed = col(o.observed_at)
    stmt = (
        select(
            func.count(sa.distinct(case((observed < split, col(o.id))))),
            func.count(sa.distinct(case((observed >= split, col(o.id))))),
        )
        .select_from(o)
        .join(t, col(t.observation_id) == col(o.id))
        .where(
            col(o.deleted_at).is_(None),
            observed >= start,
            observed < end,
            col(t.pain_point_id).in_(_tagged_pain_points(survivors)),
        )
    )
    before, after = session.execute(stmt).one()
    return EffectCounts(int(before), int(after))


def backlog_links(pain_point_ids: Collection[uuid.UUID] | None) -> Select[Any]:
    """(surviving pain point id, improvement id, title, status, done_at, verified_at) for
    every non-dropped improvement linked to one of the given pain points (None: to any);
    creation order."""
    survivor = survivor_id()
    return (
        select(
            survivor.label("pain_point_id"),
            col(Improvement.id),
            col(Improvement.title),
            col(Improvement.status),
            col(Improvement.done_at),
            col(Improvement.verified_at),
        )
        .select_from(ImprovementPainPoint)
        .join(PainPoint, col(PainPoint.id) == col(ImprovementPainPoint.pain_point_id))
        .join(Improvement, col(Improvement.id) == col(ImprovementPainPoint.improvement_id))
        .where(
            true() if pain_point_ids is None else survivor.in_(pain_point_ids),
            col(Improvement.status) != ImprovementStatus.dropped,
        )
        .order_by(col(Improvement.created_at), col(Improvement.id))
    )
