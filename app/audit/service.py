"""Recording and listing privileged changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.core.pagination import keyset_page, time_key, uuid_key
from app.models import AuditEvent, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: object | None,
    **details: Any,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            details={k: _jsonable(v) for k, v in details.items()},
        )
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):  # ISO 8601 in UTC with Z, like every output (SPEC §3)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def list_events(
    session: Session,
    *,
    limit: int,
    cursor: str | None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> tuple[list[AuditEvent], str | None]:
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(col(AuditEvent.action) == action)
    if target_type:
        stmt = stmt.where(col(AuditEvent.target_type) == target_type)
    if target_id:
        stmt = stmt.where(col(AuditEvent.target_id) == target_id)
    if actor_id:
        stmt = stmt.where(col(AuditEvent.actor_id) == actor_id)
    c = AuditEvent.__table__.c  # type: ignore[attr-defined]
    return keyset_page(
        session,
        stmt,
        [time_key(c.at, "at", desc=True), uuid_key(c.id, desc=True)],
        limit=limit,
        cursor=cursor,
    )
