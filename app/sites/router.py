from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import CurrentUser, ManagerUser, SessionDep
from app.models import Site
from app.sites import service
from app.sites.schemas import SiteCreate, SitePublic, SiteUpdate

router = APIRouter(prefix="/sites", tags=["sites"])


def _etag(site: Site) -> str:
    return make_etag(site.id, site.updated_at)


@router.get("", operation_id="list_sites", summary="List sites")
def list_sites(
    session: SessionDep,
    _: CurrentUser,
    archived: bool | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SitePublic]:
    rows, nxt = service.list_sites(session, archived=archived, limit=limit, cursor=cursor)
    return Page(items=[SitePublic.model_validate(s) for s in rows], next_cursor=nxt)


@router.post(
    "",
    operation_id="create_site",
    summary="Create a site (managers)",
    status_code=201,
    responses={200: {"model": SitePublic, "description": "Replay of an identical create"}},
)
def create_site(
    data: SiteCreate, session: SessionDep, manager: ManagerUser, response: Response
) -> SitePublic:
    site, created = service.create(session, data=data, user=manager.user)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(site)
    return SitePublic.model_validate(site)


@router.get("/{site_id}", operation_id="get_site", summary="Get a site")
def get_site(
    site_id: uuid.UUID, session: SessionDep, _: CurrentUser, response: Response
) -> SitePublic:
    site = service.get(session, site_id)
    response.headers["ETag"] = _etag(site)
    return SitePublic.model_validate(site)


@router.patch(
    "/{site_id}", operation_id="update_site", summary="Change or archive a site (managers)"
)
def update_site(
    site_id: uuid.UUID,
    data: SiteUpdate,
    request: Request,
    session: SessionDep,
    manager: ManagerUser,
    response: Response,
) -> SitePublic:
    site = service.get(session, site_id)
    check_if_match(request, _etag(site))
    site = service.update(session, site=site, data=data, user=manager.user)
    response.headers["ETag"] = _etag(site)
    return SitePublic.model_validate(site)
