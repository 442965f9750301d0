from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.core.http import check_if_match, make_etag
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.deps import AdminUser, ManagerUser, SessionDep
from app.models import User
from app.users import service
from app.users.schemas import UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


def user_etag(user: User) -> str:
    return make_etag(user.id, user.updated_at)


@router.get("", operation_id="list_users", summary="List users (managers and admins)")
def list_users(
    session: SessionDep, _: ManagerUser, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[UserPublic]:
    rows, nxt = service.list_users(session, limit=limit, cursor=cursor)
    return Page(items=[UserPublic.model_validate(u) for u in rows], next_cursor=nxt)


@router.post(
    "",
    operation_id="create_user",
    summary="Create a user (admins)",
    status_code=201,
    responses={200: {"model": UserPublic, "description": "Replay of an earlier identical create"}},
)
def create_user(
    data: UserCreate, session: SessionDep, admin: AdminUser, response: Response
) -> UserPublic:
    user, created = service.create(session, data=data, actor=admin.user)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = user_etag(user)
    return UserPublic.model_validate(user)


@router.get("/{user_id}", operation_id="get_user", summary="Get a user (admins)")
def get_user(
    user_id: uuid.UUID, session: SessionDep, _: AdminUser, response: Response
) -> UserPublic:
    user = service.get(session, user_id)
    response.headers["ETag"] = user_etag(user)
    return UserPublic.model_validate(user)


@router.patch(
    "/{user_id}",
    operation_id="update_user",
    summary="Change a user's name, role, status or password (admins)",
)
def update_user(
    user_id: uuid.UUID,
    data: UserUpdate,
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    response: Response,
) -> UserPublic:
    user = service.get(session, user_id)
    check_if_match(request, user_etag(user))
    user = service.update(session, user=user, data=data, actor=admin.user)
    response.headers["ETag"] = user_etag(user)
    return UserPublic.model_validate(user)
