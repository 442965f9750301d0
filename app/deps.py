"""Annotated dependency aliases: every endpoint declares who may call it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth.principal import Principal, authenticate
from app.core.config import Settings
from app.core.errors import Forbidden
from app.core.http import SAFE_METHODS
from app.models import Role


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    state = request.app.state
    engine = state.engine if request.method in SAFE_METHODS else state.write_engine
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep) -> Principal:
    return authenticate(request, session)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _require(*roles: Role) -> object:
    def dependency(principal: PrincipalDep) -> Principal:
        if principal.user.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return principal

    return Depends(dependency)


CurrentUser = Annotated[Principal, Depends(get_principal)]
ManagerUser = Annotated[Principal, _require(Role.manager, Role.admin)]
AdminUser = Annotated[Principal, _require(Role.admin)]
