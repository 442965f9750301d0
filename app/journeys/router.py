from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import CurrentUser, ManagerUser, SessionDep
from app.journeys import service
from app.journeys.schemas import (
    JourneyCreate,
    JourneyPublic,
    JourneyUpdate,
    StageCreate,
    StagePublic,
    StageUpdate,
)
from app.models import Stage

router = APIRouter(tags=["journeys"])


def _etag(j: JourneyPublic) -> str:
    return make_etag(j.id, j.updated_at)


def _stage_etag(s: Stage) -> str:
    return make_etag(s.id, s.updated_at, s.position)


@router.get("/journeys", operation_id="list_journeys", summary="List journeys with their stages")
def list_journeys(
    session: SessionDep,
    _: CurrentUser,
    archived: bool | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[JourneyPublic]:
    items, nxt = service.list_journeys(session, archived=archived, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=nxt)


@router.post(
    "/journeys",
    operation_id="create_journey",
    summary="Create a journey, optionally with its stages (managers)",
    status_code=201,
    responses={200: {"model": JourneyPublic, "description": "Replay of an identical create"}},
)
def create_journey(
    data: JourneyCreate, session: SessionDep, manager: ManagerUser, response: Response
) -> JourneyPublic:
    journey, created = service.create(session, data=data, user=manager.user)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(journey)
    return journey


@router.get("/journeys/{journey_id}", operation_id="get_journey", summary="Get a journey")
def get_journey(
    journey_id: uuid.UUID, session: SessionDep, _: CurrentUser, response: Response
) -> JourneyPublic:
    journey = service.get_public(session, journey_id)
    response.headers["ETag"] = _etag(journey)
    return journey


@router.patch(
    "/journeys/{journey_id}",
    operation_id="update_journey",
    summary="Rename, describe or archive a journey (managers)",
)
def update_journey(
    journey_id: uuid.UUID,
    data: JourneyUpdate,
    request: Request,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> JourneyPublic:
    check_if_match(request, _etag(service.get_public(session, journey_id)))
    journey = service.get(session, journey_id)
    service.update_journey(session, journey=journey, data=data, user=manager.user)
    result = service.get_public(session, journey_id)
    response.headers["ETag"] = _etag(result)
    return result


@router.post(
    "/journeys/{journey_id}/stages",
    operation_id="create_stage",
    summary="Insert a stage; later stages shift (managers)",
    status_code=201,
    responses={200: {"model": StagePublic, "description": "Replay of an identical create"}},
)
def create_stage(
    journey_id: uuid.UUID,
    data: StageCreate,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> StagePublic:
    stage, created = service.create_stage(
        session, journey_id=journey_id, data=data, user=manager.user
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _stage_etag(stage)
    return StagePublic.model_validate(stage)


@router.get("/stages/{stage_id}", operation_id="get_stage", summary="Get a stage")
def get_stage(
    stage_id: uuid.UUID, session: SessionDep, _: CurrentUser, response: Response
) -> StagePublic:
    stage = service.get_stage(session, stage_id)
    response.headers["ETag"] = _stage_etag(stage)
    return StagePublic.model_validate(stage)


@router.patch(
    "/stages/{stage_id}", operation_id="update_stage", summary="Rename or move a stage (managers)"
)
def update_stage(
    stage_id: uuid.UUID,
    data: StageUpdate,
    request: Request,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> StagePublic:
    stage = service.get_stage(session, stage_id)
    check_if_match(request, _stage_etag(stage))
    stage = service.update_stage(session, stage=stage, data=data, user=manager.user)
    response.headers["ETag"] = _stage_etag(stage)
    return StagePublic.model_validate(stage)


@router.delete(
    "/stages/{stage_id}",
    operation_id="delete_stage",
    summary="Delete a stage without pain points (managers); 409 otherwise",
    status_code=204,
)
def delete_stage(stage_id: uuid.UUID, session: SessionDep, manager: ManagerUser) -> None:
    service.delete_stage(session, stage=service.get_stage(session, stage_id), user=manager.user)
