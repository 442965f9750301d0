from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import CurrentUser, ManagerUser, SessionDep
from app.improvements import service
from app.improvements.schemas import (
    ImprovementCreate,
    ImprovementEffect,
    ImprovementPublic,
    ImprovementUpdate,
)
from app.models import ImprovementStatus, utcnow

router = APIRouter(prefix="/improvements", tags=["improvements"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only managers and admins manage improvements.", **_PROBLEM},
    422: {
        "description": "Invalid input, an unknown pain point (pain_point_ids.N), an owner "
        "who is not an active user, or a timestamp the status does not hold.",
        **_PROBLEM,
    },
}

EFFECT_DESCRIPTION = f"""
Observation frequency in two equal windows around `done_at`: **before** is
`[done_at − window_days, done_at)`, **after** is `[done_at, done_at + window_days)`. An
observation counts when it is not deleted and tags any linked pain point (merged and alias
pain points count as their survivor); one that tags two linked pain points counts once.
`per_week = frequency × 7 / window_days`; `change = (after.per_week − before.per_week) /
before.per_week`, null when the before frequency is 0.

**enough_data** is true only when all of these hold:

1. the after window has ended (`now ≥ done_at + window_days`);
2. the two windows together hold at least {service.MIN_OBSERVATIONS} observations;
3. an exact two-sided test of equal rates rejects at α = {service.ALPHA}: with equal windows,
   if the rate did not change, each of the n = before + after observations falls in the after
   window with probability ½, so `after.frequency ~ Binomial(n, ½)` (the conditional test for
   two Poisson rates). `p_value` is that test's exact two-sided p-value.

So `enough_data: true` means the change is larger than chance would explain; `false` means the
data cannot tell yet (too early, too few observations, or a difference within noise).
Answers 409 while the improvement has no `done_at` (not yet done, reopened, or dropped).
"""


def _etag(imp: ImprovementPublic) -> str:
    # The links are part of the representation (a merge re-points them without an edit).
    return make_etag(imp.id, imp.updated_at, *imp.pain_point_ids)


@router.get(
    "",
    operation_id="list_improvements",
    summary="List improvements, newest first; filter by status or pain point",
)
def list_improvements(
    session: SessionDep,
    _: CurrentUser,
    status: ImprovementStatus | None = None,
    pain_point_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Improvements linked to this pain point (aliases and merged ids "
            "resolve to the survivor)."
        ),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ImprovementPublic]:
    items, nxt = service.list_improvements(
        session, status=status, pain_point_id=pain_point_id, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=nxt)


@router.post(
    "",
    operation_id="create_improvement",
    summary="Create an improvement linked to pain points (managers)",
    status_code=201,
    responses={
        200: {"model": ImprovementPublic, "description": "Replay of the same create"},
        409: {"description": "The id exists with other content.", **_PROBLEM},
        **_WRITE_ERRORS,
    },
)
def create_improvement(
    data: ImprovementCreate, session: SessionDep, manager: ManagerUser, response: Response
) -> ImprovementPublic:
    imp, created = service.create(session, data=data, user=manager.user)
    out = service.public_one(session, imp)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(out)
    return out


@router.get(
    "/{improvement_id}",
    operation_id="get_improvement",
    summary="Get an improvement",
    responses={404: {"description": "No such improvement.", **_PROBLEM}},
)
def get_improvement(
    improvement_id: uuid.UUID, session: SessionDep, _: CurrentUser, response: Response
) -> ImprovementPublic:
    out = service.public_one(session, service.get(session, improvement_id))
    response.headers["ETag"] = _etag(out)
    return out


@router.patch(
    "/{improvement_id}",
    operation_id="update_improvement",
    summary="Edit an improvement or move it along the workflow (managers)",
    responses={
        404: {"description": "No such improvement.", **_PROBLEM},
        409: {"description": "A status move the workflow does not allow.", **_PROBLEM},
        412: {"description": "If-Match names a stale ETag.", **_PROBLEM},
        **_WRITE_ERRORS,
    },
)
def update_improvement(
    improvement_id: uuid.UUID,
    data: ImprovementUpdate,
    request: Request,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> ImprovementPublic:
    imp = service.get(session, improvement_id, for_update=True)
    check_if_match(request, _etag(service.public_one(session, imp)))
    imp = service.update(session, imp=imp, data=data, user=manager.user)
    out = service.public_one(session, imp)
    response.headers["ETag"] = _etag(out)
    return out


@router.get(
    "/{improvement_id}/effect",
    operation_id="get_improvement_effect",
    summary="Pain frequency per week before and after the improvement was done",
    description=EFFECT_DESCRIPTION,
    responses={
        404: {"description": "No such improvement.", **_PROBLEM},
        409: {"description": "The improvement has no done_at yet.", **_PROBLEM},
    },
)
def get_improvement_effect(
    improvement_id: uuid.UUID,
    session: SessionDep,
    _: CurrentUser,
    window_days: Annotated[
        int, Query(ge=1, le=365, description="Length of each window in days, 1–365.")
    ] = service.DEFAULT_WINDOW_DAYS,
) -> ImprovementEffect:
    imp = service.get(session, improvement_id)
    return service.effect(session, imp, window_days=window_days, now=utcnow())
