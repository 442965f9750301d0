from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.schemas import WindowBound
from app.deps import CurrentUser, SessionDep
from app.models import Visit
from app.visits import service
from app.visits.schemas import VisitCreate, VisitPublic, VisitUpdate

router = APIRouter(prefix="/visits", tags=["visits"])


def _etag(visit: Visit) -> str:
    return make_etag(visit.id, visit.updated_at)


@router.get(
    "", operation_id="list_visits", summary="List visits (observers: their own), newest first"
)
def list_visits(
    session: SessionDep,
    principal: CurrentUser,
    observer_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
    from_: Annotated[WindowBound | None, Query(alias="from")] = None,
    to: WindowBound | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[VisitPublic]:
    rows, nxt = service.list_visits(
        session,
        principal.user,
        observer_id=observer_id,
        site_id=site_id,
        start=from_,
        end=to,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[VisitPublic.model_validate(v) for v in rows], next_cursor=nxt)


@router.post(
    "",
    operation_id="create_visit",
    summary="Start (or log) a visit; the observer is the caller",
    status_code=201,
    responses={200: {"model": VisitPublic, "description": "Replay of an identical create"}},
)
def create_visit(
    data: VisitCreate, session: SessionDep, principal: CurrentUser, response: Response
) -> VisitPublic:
    visit, created = service.create(session, data=data, user=principal.user)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(visit)
    return VisitPublic.model_validate(visit)


@router.get("/{visit_id}", operation_id="get_visit", summary="Get a visit")
def get_visit(
    visit_id: uuid.UUID, session: SessionDep, principal: CurrentUser, response: Response
) -> VisitPublic:
    visit = service.get_visible(session, principal.user, visit_id)
    response.headers["ETag"] = _etag(visit)
    return VisitPublic.model_validate(visit)


@router.patch("/{visit_id}", operation_id="update_visit", summary="End or correct a visit")
def update_visit(
    visit_id: uuid.UUID,
    data: VisitUpdate,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    response: Response,
) -> VisitPublic:
    visit = service.get_visible(session, principal.user, visit_id)
    check_if_match(request, _etag(visit))
    visit = service.update(session, visit=visit, data=data)
    response.headers["ETag"] = _etag(visit)
    return VisitPublic.model_validate(visit)
