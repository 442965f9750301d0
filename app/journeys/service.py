"""Journeys and their ordered stages. Positions stay 0…n−1 after every insert, move and delete."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.audit.service import record
from app.core.errors import Conflict, Invalid, NotFound
from app.core.idempotency import payload_hash
from app.core.pagination import SortKey, keyset_page, uuid_key
from app.journeys.schemas import (
    JourneyCreate,
    JourneyPublic,
    JourneyUpdate,
    StageCreate,
    StagePublic,
    StageUpdate,
)
from app.models import Journey, PainPoint, PainPointStatus, Stage, User, new_id, utcnow


def stages_of(session: Session, journey_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Stage]]:
    out: dict[uuid.UUID, list[Stage]] = defaultdict(list)
    if journey_ids:
        stmt = (
            select(Stage)
            .where(col(Stage.journey_id).in_(journey_ids))
            .order_by(col(Stage.journey_id), col(Stage.position))
        )
        for stage in session.scalars(stmt):
            out[stage.journey_id].append(stage)
    return out


def public(journey: Journey, stages: list[Stage]) -> JourneyPublic:
    return JourneyPublic(
        id=journey.id,
        name=journey.name,
        description=journey.description,
        archived=journey.archived,
        stages=[StagePublic.model_validate(s) for s in stages],
        created_at=journey.created_at,
        updated_at=journey.updated_at,
    )


def get(session: Session, journey_id: uuid.UUID, *, for_update: bool = False) -> Journey:
    stmt = select(Journey).where(col(Journey.id) == journey_id)
    if for_update:
        stmt = stmt.with_for_update()
    journey = session.scalars(stmt).first()
    if journey is None:
        raise NotFound("No such journey.")
    return journey


def get_public(session: Session, journey_id: uuid.UUID) -> JourneyPublic:
    journey = get(session, journey_id)
    return public(journey, stages_of(session, [journey.id])[journey.id])


def list_journeys(
    session: Session, *, archived: bool | None, limit: int, cursor: str | None
) -> tuple[list[JourneyPublic], str | None]:
    stmt = select(Journey)
    if archived is not None:
        stmt = stmt.where(col(Journey.archived) == archived)
    keys = [SortKey(col(Journey.name), "name"), uuid_key(col(Journey.id))]
    rows, nxt = keyset_page(session, stmt, keys, limit=limit, cursor=cursor)
    stages = stages_of(session, [j.id for j in rows])
    return [public(j, stages[j.id]) for j in rows], nxt


def _flush_unique(session: Session, what: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"{what} already exists.") from None


def create(session: Session, *, data: JourneyCreate, user: User) -> tuple[JourneyPublic, bool]:
    digest = payload_hash(data)
    if data.id is not None:
        existing = session.get(Journey, data.id)
        if existing is not None:
            current = get_public(session, existing.id)
            same = existing.created_by == user.id and (
                existing.payload_hash == digest
                if existing.payload_hash
                # created before digests were kept: compare what is stored
                else (
                    existing.name == data.name
                    and existing.description == data.description
                    and [(s.name, s.description) for s in current.stages]
                    == [(s.name, s.description) for s in data.stages]
                )
            )
            if same:
                return current, False
            raise Conflict("A journey with this id already exists with other content.")
    names = [s.name for s in data.stages]
    if len(set(names)) != len(names):
        dup = next(i for i, n in enumerate(names) if names.index(n) != i)
        raise Invalid(f"stages.{dup}.name", "stage names must be unique in a journey")
    journey = Journey(
        id=data.id or new_id(),
        name=data.name,
        description=data.description,
        created_by=user.id,
        payload_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(journey)
            session.flush()
    except IntegrityError:
        raise Conflict("A journey with this name or id already exists.") from None
    stages = [
        Stage(
            journey_id=journey.id,
            name=s.name,
            description=s.description,
            position=i,
            created_by=user.id,
        )
        for i, s in enumerate(data.stages)
    ]
    session.add_all(stages)
    session.flush()
    record(session, user, "journey.create", "journey", journey.id, name=journey.name)
    return public(journey, stages), True


def update_journey(
    session: Session, *, journey: Journey, data: JourneyUpdate, user: User
) -> Journey:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(journey, key, value)
    journey.updated_at = utcnow()
    session.add(journey)
    _flush_unique(session, "A journey with this name")
    record(session, user, "journey.update", "journey", journey.id, **changes)
    return journey


def _touch(session: Session, journey_id: uuid.UUID) -> None:
    session.execute(
        update(Journey).where(col(Journey.id) == journey_id).values(updated_at=utcnow())
    )


def _stage_count(session: Session, journey_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Stage).where(col(Stage.journey_id) == journey_id)
    return session.scalar(stmt) or 0


def _shift(session: Session, journey_id: uuid.UUID, lo: int, hi: int | None, delta: int) -> None:
    """Adds `delta` to the positions in [lo, hi] (hi None: to the end)."""
    cond = [col(Stage.journey_id) == journey_id, col(Stage.position) >= lo]
    if hi is not None:
        cond.append(col(Stage.position) <= hi)
    session.execute(update(Stage).where(*cond).values(position=col(Stage.position) + delta))


def create_stage(
    session: Session, *, journey_id: uuid.UUID, data: StageCreate, user: User
) -> tuple[Stage, bool]:
    get(session, journey_id, for_update=True)  # serialises concurrent position changes
    digest = payload_hash(data)
    if data.id is not None:
        existing = session.get(Stage, data.id)
        if existing is not None:
            same = existing.journey_id == journey_id and (
                existing.created_by == user.id and existing.payload_hash == digest
                if existing.payload_hash
                # created before digests were kept: compare what is stored
                else (existing.name == data.name and existing.description == data.description)
            )
            if same:
                return existing, False
            raise Conflict("A stage with this id already exists with other content.")
    count = _stage_count(session, journey_id)
    position = count if data.position is None else min(data.position, count)
    _shift(session, journey_id, position, None, 1)
    stage = Stage(
        id=data.id or new_id(),
        journey_id=journey_id,
        name=data.name,
        description=data.description,
        position=position,
        created_by=user.id,
        payload_hash=digest,
    )
    session.add(stage)
    _flush_unique(session, "A stage with this name in this journey")
    _touch(session, journey_id)
    record(session, user, "stage.create", "stage", stage.id, journey_id=journey_id, name=stage.name)
    return stage, True


def get_stage(session: Session, stage_id: uuid.UUID) -> Stage:
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound("No such stage.")
    return stage


def update_stage(session: Session, *, stage: Stage, data: StageUpdate, user: User) -> Stage:
    get(session, stage.journey_id, for_update=True)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if data.position is not None and data.position != stage.position:
        target = min(data.position, _stage_count(session, stage.journey_id) - 1)
        old = stage.position
        if target > old:
            _shift(session, stage.journey_id, old + 1, target, -1)
        elif target < old:
            _shift(session, stage.journey_id, target, old - 1, 1)
        session.refresh(stage)
        stage.position = target
    if data.name is not None:
        stage.name = data.name
    if data.description is not None:
        stage.description = data.description
    stage.updated_at = utcnow()
    session.add(stage)
    _flush_unique(session, "A stage with this name in this journey")
    _touch(session, stage.journey_id)
    record(session, user, "stage.update", "stage", stage.id, **changes)
    return stage


def delete_stage(session: Session, *, stage: Stage, user: User) -> None:
    get(session, stage.journey_id, for_update=True)
    used = session.scalar(
        select(func.count())
        .select_from(PainPoint)
        .where(
            col(PainPoint.stage_id) == stage.id,
            col(PainPoint.status) != PainPointStatus.merged,
        )
    )
    if used:
        raise Conflict(f"{used} pain point(s) belong to this stage; move or merge them first.")
    # Pain points merged away live on only as aliases of their survivor: they follow it, so a
    # merge never pins a stage for good.
    survivor = aliased(PainPoint)
    session.execute(
        update(PainPoint)
        .where(col(PainPoint.stage_id) == stage.id)
        .values(
            stage_id=select(col(survivor.stage_id))
            .where(col(survivor.id) == col(PainPoint.merged_into_id))
            .scalar_subquery()
        )
    )
    position, journey_id = stage.position, stage.journey_id
    session.delete(stage)
    session.flush()
    _shift(session, journey_id, position + 1, None, -1)
    _touch(session, journey_id)
    record(session, user, "stage.delete", "stage", stage.id, journey_id=journey_id, name=stage.name)
