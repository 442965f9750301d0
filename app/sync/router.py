from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from app.auth.principal import Principal
from app.core.errors import Invalid
from app.observations.writelock import run_write
from app.sync import service
from app.sync.schemas import MAX_ITEMS, SyncRequest, SyncResponse

router = APIRouter(tags=["sync"])


@router.post(
    "/sync",
    operation_id="sync_outbox",
    summary="Create pain points, visits and observations from an offline outbox, item by item",
    response_model=SyncResponse,
    responses={
        413: {"description": "A body over 16 MiB"},
        422: {"description": "Not a sync object, or more than 1,000 items in all"},
    },
    # The body is read by the endpoint itself (see service.parse); documented here.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SyncRequest.model_json_schema()}},
        }
    },
)
async def sync_outbox(request: Request) -> Response:
    raw = await request.body()

    def work(session: Session, principal: Principal) -> bytes:
        with service.collector_paused():
            return _work(session, principal)

    def _work(session: Session, principal: Principal) -> bytes:
        # Parsed on the worker thread, after authentication (a 401 comes before a 422).
        body, valid = service.parse(raw)
        total = len(body.pain_points) + len(body.visits) + len(body.observations)
        if total > MAX_ITEMS:
            # A limit on list sizes like any other (SPEC §3): a 422 naming the longest list.
            sizes = {k: len(getattr(body, k)) for k in ("pain_points", "visits", "observations")}
            raise Invalid(
                max(sizes, key=lambda k: sizes[k]),
                f"{total} items sent; a sync takes at most {MAX_ITEMS} in all. "
                "Send the rest in another batch.",
            )
        results = service.run(session, body=body, user=principal.user, observations_valid=valid)
        return service.encode(results)

    return Response(await run_write(request, work), media_type="application/json")
