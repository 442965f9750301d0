"""GET /backlog (JSON or CSV), GET /journeys/{id}/heatmap, GET /pain-points/{id}/timeline."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel

from app.backlog import rollup, service
from app.backlog.queries import Filters
from app.backlog.schemas import Backlog, BacklogSort, Bucket, Heatmap, TimelinePoint
from app.core.csv import csv_response, wants_csv
from app.core.pagination import LimitQuery
from app.core.schemas import WindowBound
from app.deps import CurrentUser, SessionDep
from app.models import Channel, Layer

router = APIRouter(tags=["backlog"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
LayerFilter = Literal["customer", "frontstage", "backstage", "support", "unspecified"]
assert {*LayerFilter.__args__} == {*(m.value for m in Layer), "unspecified"}  # type: ignore[attr-defined]


def _refresher(request: Request, background: BackgroundTasks) -> service.Refresh:
    """Dirty past days met by a read are recomputed after its response is sent."""
    engine = request.app.state.write_engine

    def schedule() -> None:
        background.add_task(rollup.refresh_pending, engine)

    return schedule


def _json(model: BaseModel) -> Response:
    """The response model serialised once (FastAPI would dump, validate and serialise it
    again: ~2 ms for a 50-item backlog); background tasks still run after it."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


FromQuery = Annotated[
    WindowBound | None, Query(alias="from", description="Window start, inclusive.")
]
ToQuery = Annotated[WindowBound | None, Query(description="Window end, exclusive (default now).")]


@router.get(
    "/backlog",
    operation_id="get_backlog",
    summary="Pain points ranked for a window and filters; CSV on request",
    response_model=Backlog,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The backlog, or every item as CSV"},
        422: {"description": "Invalid window or filter.", **_PROBLEM},
    },
)
def get_backlog(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: CurrentUser,
    from_: FromQuery = None,
    to: ToQuery = None,
    journey_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
    channel: Channel | None = None,
    layer: Annotated[
        LayerFilter | None, Query(description="`unspecified`: pain points without a layer.")
    ] = None,
    observer_id: uuid.UUID | None = None,
    sort: BacklogSort = BacklogSort.frequency,
    limit: LimitQuery = 50,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv returns every item.")
    ] = None,
) -> Any:
    start, end = service.window(from_, to)
    f = Filters(
        journey_id=journey_id,
        site_id=site_id,
        channel=channel.value if channel else None,
        observer_id=observer_id,
        stage_id=stage_id,
        layer=layer,
    )
    if wants_csv(request, format):
        refresh = _refresher(request, background)
        result = service.backlog(session, f, start, end, sort, None, refresh)
        return csv_response(service.CSV_COLUMNS, service.csv_rows(result), "backlog.csv")
    return _json(
        service.backlog(session, f, start, end, sort, limit, _refresher(request, background))
    )


@router.get(
    "/journeys/{journey_id}/heatmap",
    operation_id="get_journey_heatmap",
    summary="Where in a journey the pain concentrates, stage by stage",
    response_model=Heatmap,
    responses={
        404: {"description": "No such journey.", **_PROBLEM},
        422: {"description": "Invalid window or filter.", **_PROBLEM},
    },
)
def get_journey_heatmap(
    request: Request,
    background: BackgroundTasks,
    journey_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentUser,
    from_: FromQuery = None,
    to: ToQuery = None,
    site_id: uuid.UUID | None = None,
    channel: Channel | None = None,
    observer_id: uuid.UUID | None = None,
) -> Any:
    start, end = service.window(from_, to)
    ch = channel.value if channel else None
    f = Filters(site_id=site_id, channel=ch, observer_id=observer_id)
    return _json(
        service.heatmap(session, journey_id, f, start, end, _refresher(request, background))
    )


@router.get(
    "/pain-points/{pain_point_id}/timeline",
    operation_id="get_pain_point_timeline",
    summary="A pain point's frequency per day, week or month (UTC buckets)",
    response_model=list[TimelinePoint],
    responses={
        404: {"description": "No such pain point.", **_PROBLEM},
        422: {"description": "Invalid window or bucket.", **_PROBLEM},
    },
)
def get_pain_point_timeline(
    request: Request,
    background: BackgroundTasks,
    pain_point_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentUser,
    from_: FromQuery = None,
    to: ToQuery = None,
    bucket: Bucket = Bucket.week,
) -> list[TimelinePoint]:
    start, end = service.window(from_, to)
    refresh = _refresher(request, background)
    return service.timeline(session, pain_point_id, start, end, bucket, refresh)


__all__ = ["Response", "router"]
