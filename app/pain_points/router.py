from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import CurrentUser, ManagerUser, SessionDep
from app.models import PainPoint, PainPointStatus
from app.pain_points import service
from app.pain_points.schemas import (
    PainPointCreate,
    PainPointMerge,
    PainPointPublic,
    PainPointUpdate,
)

router = APIRouter(prefix="/pain-points", tags=["pain-points"])


def _etag(pp: PainPoint) -> str:
    return make_etag(pp.id, pp.updated_at)


@router.get(
    "",
    operation_id="list_pain_points",
    summary="List pain points: by all-time observation count, or by similarity to ?q=",
)
def list_pain_points(
    session: SessionDep,
    _: CurrentUser,
    journey_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
    status: PainPointStatus = PainPointStatus.open,
    q: Annotated[
        str | None, Query(max_length=200, description="Typo-tolerant title search.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[PainPointPublic]:
    items, nxt = service.search(
        session,
        journey_id=journey_id,
        stage_id=stage_id,
        status=status,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=items, next_cursor=nxt)


@router.post(
    "",
    operation_id="create_pain_point",
    summary="Create a pain point (anyone); a duplicate title answers the existing one",
    status_code=201,
    responses={
        200: {
            "model": PainPointPublic,
            "description": "Replay, or an open pain point with the same title in the stage",
        }
    },
)
def create_pain_point(
    data: PainPointCreate, session: SessionDep, principal: CurrentUser, response: Response
) -> PainPointPublic:
    pp, created = service.create(session, data=data, user=principal.user)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(pp)
    return service.public_one(session, pp)


@router.get(
    "/{pain_point_id}",
    operation_id="get_pain_point",
    summary="Get a pain point (aliases and merged ids answer with the survivor)",
)
def get_pain_point(
    pain_point_id: uuid.UUID, session: SessionDep, _: CurrentUser, response: Response
) -> PainPointPublic:
    pp = service.get(session, pain_point_id)
    response.headers["ETag"] = _etag(pp)
    return service.public_one(session, pp)


@router.patch(
    "/{pain_point_id}",
    operation_id="update_pain_point",
    summary="Edit, move within the journey, or archive a pain point (managers)",
)
def update_pain_point(
    pain_point_id: uuid.UUID,
    data: PainPointUpdate,
    request: Request,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> PainPointPublic:
    pp = service.get(session, pain_point_id)
    check_if_match(request, _etag(pp))
    pp = service.update_pain_point(session, pp=pp, data=data, user=manager.user)
    response.headers["ETag"] = _etag(pp)
    return service.public_one(session, pp)


@router.post(
    "/{pain_point_id}/merge",
    operation_id="merge_pain_point",
    summary="Merge into another pain point of the same journey (managers); answers the survivor",
)
def merge_pain_point(
    pain_point_id: uuid.UUID,
    data: PainPointMerge,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> PainPointPublic:
    survivor = service.merge(
        session, source_id=pain_point_id, into_id=data.into_id, user=manager.user
    )
    response.headers["ETag"] = _etag(survivor)
    return service.public_one(session, survivor)
