"""Visits: one gemba walk by one observer. Observers see their own; managers see all."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.core.errors import Conflict, Invalid, NotFound
from app.core.idempotency import payload_hash
from app.core.pagination import keyset_page, time_key, uuid_key
from app.models import Site, User, Visit, new_id, utcnow
from app.visits.schemas import VisitCreate, VisitUpdate


def get_visible(session: Session, user: User, visit_id: uuid.UUID) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None or (visit.observer_id != user.id and not user.is_manager):
        raise NotFound("No such visit.")
    return visit


def _check_site(session: Session, site_id: uuid.UUID | None) -> None:
    if site_id is not None and session.get(Site, site_id) is None:
        raise Invalid("site_id", "no such site")


def create(session: Session, *, data: VisitCreate, user: User) -> tuple[Visit, bool]:
    digest = payload_hash(data)
    if data.id is not None:
        existing = session.get(Visit, data.id)
        if existing is not None:
            if existing.observer_id == user.id and existing.payload_hash == digest:
                return existing, False
            raise Conflict("A visit with this id already exists with other content.")
    _check_site(session, data.site_id)
    visit = Visit(
        id=data.id or new_id(),
        observer_id=user.id,
        site_id=data.site_id,
        channel=data.channel,
        started_at=data.started_at,
        ended_at=data.ended_at,
        customers_observed=data.customers_observed,
        purpose=data.purpose,
        notes=data.notes,
        payload_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(visit)
            session.flush()
    except IntegrityError:
        # A concurrent replay of the same create won the race.
        session.expunge(visit)
        existing = session.get(Visit, visit.id)
        if (
            existing is not None
            and existing.observer_id == user.id
            and existing.payload_hash == digest
        ):
            return existing, False
        raise Conflict("A visit with this id already exists with other content.") from None
    return visit, True


def update(session: Session, *, visit: Visit, data: VisitUpdate) -> Visit:
    changes = data.model_dump(exclude_unset=True)
    if "site_id" in changes:
        _check_site(session, data.site_id)
    for key, value in changes.items():
        if key in {"started_at", "purpose", "notes"} and value is None:
            raise Invalid(key, "may not be null")
        setattr(visit, key, value)
    if visit.ended_at is not None and visit.ended_at < visit.started_at:
        raise Invalid("ended_at", "must not be before started_at")
    visit.updated_at = utcnow()
    session.add(visit)
    session.flush()
    return visit


def list_visits(
    session: Session,
    user: User,
    *,
    observer_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Visit], str | None]:
    stmt = select(Visit)
    if not user.is_manager:
        stmt = stmt.where(col(Visit.observer_id) == user.id)
    if observer_id is not None:
        stmt = stmt.where(col(Visit.observer_id) == observer_id)
    if site_id is not None:
        stmt = stmt.where(col(Visit.site_id) == site_id)
    if start is not None:
        stmt = stmt.where(col(Visit.started_at) >= start)
    if end is not None:
        stmt = stmt.where(col(Visit.started_at) < end)
    keys = [
        time_key(col(Visit.started_at), "started_at", desc=True),
        uuid_key(col(Visit.id), desc=True),
    ]
    return keyset_page(session, stmt, keys, limit=limit, cursor=cursor)
