from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Select
from sqlmodel import Session, col

from app.auth.principal import Principal
from app.core.csv import csv_response, wants_csv
from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page, keyset_page, time_key, uuid_key
from app.core.schemas import WindowBound
from app.deps import CurrentUser, EngineDep, SessionDep
from app.models import Channel, Observation
from app.observations import service
from app.observations.schemas import ObservationCreate, ObservationPublic, ObservationUpdate
from app.observations.writelock import run_write

router = APIRouter(prefix="/observations", tags=["observations"])

CSV_COLUMNS = [
    "id",
    "journey_id",
    "visit_id",
    "site_id",
    "channel",
    "observed_at",
    "note",
    "customer_goal",
    "customer_quote",
    "customer_minutes_lost",
    "pain_points",
    "location_lat",
    "location_lon",
    "location_accuracy_m",
    "attachment_ids",
    "observer_id",
    "created_at",
    "updated_at",
]
# Newest logged first, on (created_at, id): both are immutable, so a row never moves across
# a cursor (an edited observed_at would), and rows inserted while a client pages land before
# its first page: pages neither skip nor repeat a row.
ORDER = [
    time_key(col(Observation.created_at), "created_at", desc=True),
    uuid_key(col(Observation.id), desc=True),
]


def _etag(obs: Observation | service.NewObservation) -> str:
    return make_etag(obs.id, obs.updated_at)


def _csv_rows(engine: Any, stmt: Select[Any]) -> Iterator[list[Any]]:
    # Its own session: the request's closes before the body streams. Keyset batches keep
    # memory flat however many rows match.
    with Session(engine) as session:
        cursor = None
        while True:
            rows, cursor = keyset_page(session, stmt, ORDER, limit=500, cursor=cursor)
            for p in service.public_many(session, rows):
                loc = p.location
                yield [
                    p.id,
                    p.journey_id,
                    p.visit_id,
                    p.site_id,
                    p.channel,
                    p.observed_at,
                    p.note,
                    p.customer_goal,
                    p.customer_quote,
                    p.customer_minutes_lost,
                    ";".join(f"{t.pain_point_id}:{t.severity}" for t in p.pain_points),
                    loc.lat if loc else None,
                    loc.lon if loc else None,
                    loc.accuracy_m if loc else None,
                    ";".join(str(a) for a in p.attachment_ids),
                    p.observer_id,
                    p.created_at,
                    p.updated_at,
                ]
            session.expunge_all()
            if cursor is None:
                return


@router.get(
    "",
    operation_id="list_observations",
    summary="List observations, newest logged first (observers: their own); CSV on request",
    response_model=Page[ObservationPublic],
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON page, or every matching row as CSV"}
    },
)
def list_observations(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    principal: CurrentUser,
    journey_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
    pain_point_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
    channel: Channel | None = None,
    observer_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    from_: Annotated[WindowBound | None, Query(alias="from")] = None,
    to: WindowBound | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words to find in note, goal or quote.")
    ] = None,
    untriaged: Annotated[
        bool | None, Query(description="true: only observations without tags.")
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv streams every row.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Any:
    filters = service.Filters(
        journey_id=journey_id,
        stage_id=stage_id,
        pain_point_id=pain_point_id,
        site_id=site_id,
        channel=channel,
        observer_id=observer_id,
        visit_id=visit_id,
        start=from_,
        end=to,
        q=q,
        untriaged=untriaged,
    )
    stmt = service.filtered(session, principal.user, filters)
    if wants_csv(request, format):
        return csv_response(CSV_COLUMNS, _csv_rows(engine, stmt), "observations.csv")
    rows, nxt = keyset_page(session, stmt, ORDER, limit=limit, cursor=cursor)
    return Page[ObservationPublic](items=service.public_many(session, rows), next_cursor=nxt)


@router.post(
    "",
    operation_id="create_observation",
    summary="Log an observation (idempotent by client id)",
    status_code=201,
    response_model=ObservationPublic,
    responses={
        200: {"model": ObservationPublic, "description": "Replay of an equivalent create"},
        409: {"description": "The id exists with other content or another observer"},
        410: {"description": "The id belongs to a deleted observation: never revived"},
    },
)
async def create_observation(data: ObservationCreate, request: Request) -> Response:
    def work(session: Session, principal: Principal) -> tuple[int, str, bytes]:
        result = service.create(session, data=data, user=principal.user)
        obs = result.observation
        if isinstance(obs, service.NewObservation):
            public = service.to_public(obs, result.tags, data.attachment_ids)
        else:  # a replay: what is stored now
            public = service.public_many(session, [obs])[0]
        return 201 if result.created else 200, _etag(obs), public.model_dump_json().encode()

    status, etag, body = await run_write(request, work)
    return Response(body, status_code=status, media_type="application/json", headers={"ETag": etag})


@router.get("/{observation_id}", operation_id="get_observation", summary="Get an observation")
def get_observation(
    observation_id: uuid.UUID, session: SessionDep, principal: CurrentUser, response: Response
) -> ObservationPublic:
    obs = service.get_visible(session, principal.user, observation_id)
    response.headers["ETag"] = _etag(obs)
    return service.public_many(session, [obs])[0]


@router.patch(
    "/{observation_id}",
    operation_id="update_observation",
    summary="Change an observation (observers: their own, for 24 h); tag untriaged ones",
    response_model=ObservationPublic,
)
async def update_observation(
    observation_id: uuid.UUID, data: ObservationUpdate, request: Request
) -> Response:
    def work(session: Session, principal: Principal) -> tuple[str, bytes]:
        obs = service.get_visible(session, principal.user, observation_id)
        check_if_match(request, _etag(obs))
        obs = service.update(session, obs=obs, data=data, user=principal.user)
        return _etag(obs), service.public_many(session, [obs])[0].model_dump_json().encode()

    etag, body = await run_write(request, work)
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.delete(
    "/{observation_id}",
    operation_id="delete_observation",
    summary="Delete an observation (soft: it leaves every list, count and export)",
    status_code=204,
)
async def delete_observation(observation_id: uuid.UUID, request: Request) -> Response:
    def work(session: Session, principal: Principal) -> None:
        obs = service.get_visible(session, principal.user, observation_id)
        check_if_match(request, _etag(obs))
        service.soft_delete(session, obs=obs, user=principal.user)

    await run_write(request, work)
    return Response(status_code=204)
