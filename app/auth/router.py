from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.auth import service
from app.auth.principal import SESSION_COOKIE, same_origin
from app.auth.schemas import (
    LoginRequest,
    LoginResponse,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenPublic,
)
from app.core.errors import Forbidden, Unauthorized
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.security import csrf_token
from app.deps import CurrentUser, ManagerUser, SessionDep, SettingsDep
from app.users.schemas import UserPublic

router = APIRouter(tags=["auth"])


@router.post("/auth/login", operation_id="login_user", summary="Sign in; sets the session cookie")
def login(
    data: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> LoginResponse:
    if not same_origin(request):
        raise Forbidden("Cross-origin request refused.")
    address = request.client.host if request.client else "unknown"
    result = service.login(
        session, settings, email=data.email, password=data.password, address=address
    )
    if result is None:
        session.commit()  # the failure must be remembered although this request fails
        raise Unauthorized("Wrong email or password, or the account is deactivated.")
    user, secret = result
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return LoginResponse(
        user=UserPublic.model_validate(user), csrf_token=csrf_token(settings.secret, secret)
    )


@router.post("/auth/logout", operation_id="logout_user", summary="Sign out", status_code=204)
def logout(principal: CurrentUser, session: SessionDep, response: Response) -> None:
    if principal.session_secret:
        service.logout(session, principal.session_secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", operation_id="get_me", summary="The signed-in user")
def get_me(principal: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(principal.user)


@router.post(
    "/me/password", operation_id="change_password", summary="Change your password", status_code=204
)
def change_password(data: PasswordChange, principal: CurrentUser, session: SessionDep) -> None:
    service.change_password(
        session, principal, current=data.current_password, new=data.new_password
    )


@router.post(
    "/tokens",
    operation_id="create_token",
    summary="Create an API token (the secret is shown once)",
    status_code=201,
    responses={
        200: {
            "model": TokenPublic,
            "description": "Replay of an earlier identical create; no secret",
        }
    },
)
def create_token(
    data: TokenCreate, principal: ManagerUser, session: SessionDep, response: Response
) -> TokenCreated | TokenPublic:
    token, secret = service.create_token(session, principal, data)
    response.headers["Cache-Control"] = "no-store"
    if secret is None:
        response.status_code = 200
        return TokenPublic.model_validate(token)
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=secret)


@router.get("/tokens", operation_id="list_tokens", summary="Your API tokens (never their secrets)")
def list_tokens(
    principal: CurrentUser, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[TokenPublic]:
    rows, nxt = service.list_tokens(session, principal, limit=limit, cursor=cursor)
    return Page(items=[TokenPublic.model_validate(t) for t in rows], next_cursor=nxt)


@router.delete(
    "/tokens/{token_id}",
    operation_id="delete_token",
    summary="Revoke an API token",
    status_code=204,
)
def delete_token(token_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> None:
    service.revoke_token(session, principal, token_id)
