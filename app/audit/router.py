from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEventPublic
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import AdminUser, SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", operation_id="list_audit_events", summary="List privileged changes, newest first")
def list_audit_events(
    session: SessionDep,
    _: AdminUser,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: uuid.UUID | None = None,
) -> Page[AuditEventPublic]:
    rows, nxt = service.list_events(
        session,
        limit=limit,
        cursor=cursor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        actor_id=actor_id,
    )
    return Page(
        items=[AuditEventPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=nxt,
    )
