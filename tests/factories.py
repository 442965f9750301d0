"""Builders for users and authenticated clients. Rows are inserted through the services
(never hand-written SQL) so tests see what the API would have made."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.principal import Principal
from app.auth.schemas import TokenCreate
from app.auth.service import create_token
from app.models import Role, TokenScope, User
from app.users.schemas import UserCreate
from app.users.service import create

DEFAULT_PASSWORD = "correct horse battery"


@dataclass
class Actor:
    user: User
    client: TestClient
    password: str = DEFAULT_PASSWORD

    @property
    def id(self) -> str:
        return str(self.user.id)


class Factory:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def user(
        self, role: Role | str = Role.observer, *, email: str | None = None, name: str | None = None
    ) -> User:
        with Session(self.app.state.write_engine, expire_on_commit=False) as session:
            user, _ = create(
                session,
                data=UserCreate(
                    email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                    password=DEFAULT_PASSWORD,
                    role=Role(role),
                    name=name,
                ),
                actor=None,
            )
            session.commit()
        return user

    def token(self, user: User, scope: TokenScope | str = TokenScope.write) -> str:
        with Session(self.app.state.write_engine, expire_on_commit=False) as session:
            _, secret = create_token(
                session,
                Principal(user=user, via="session"),
                TokenCreate(name="test", scope=TokenScope(scope)),
            )
            session.commit()
        assert secret is not None
        return secret

    def bearer(
        self, role: Role | str = Role.observer, *, scope: TokenScope | str = "write"
    ) -> Actor:
        """A client acting as a new user of `role` through a bearer token."""
        user = self.user(role)
        client = TestClient(self.app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {self.token(user, scope)}"
        return Actor(user=user, client=client)

    def browser(self, role: Role | str = Role.observer) -> Actor:
        """A client signed in with the session cookie, sending its CSRF token like the app."""
        user = self.user(role)
        client = TestClient(self.app, raise_server_exceptions=False)
        r = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return Actor(user=user, client=client)

    # Catalogue and field builders: all through the HTTP API, each asserting its 201.

    def journey(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        stages: Sequence[str] | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """A journey with `stages` in order (default Arrive, Queue, Pay, Leave); `actor` must
        be a manager or admin."""
        return journey(actor, name=name, stages=stages, description=description)

    def stage(
        self, actor: Actor, journey_id: str, *, name: str | None = None, position: int | None = None
    ) -> dict[str, Any]:
        """A stage inserted into a journey (default: last)."""
        return stage(actor, journey_id, name=name, position=position)

    def site(self, actor: Actor, *, name: str | None = None, **fields: Any) -> dict[str, Any]:
        """A site (kind "store" unless given); `fields`: kind, address, id."""
        return site(actor, name=name, **fields)

    def visit(self, actor: Actor, **fields: Any) -> dict[str, Any]:
        """A visit by `actor`; `fields`: started_at (default 2026-11-20T09:00Z), site_id, …"""
        return visit(actor, **fields)

    def pain_point(
        self, actor: Actor, stage_id: str, title: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A new pain point (asserts 201, not a duplicate); `fields`: description, layer, id."""
        return pain_point(actor, stage_id, title, **fields)


def _created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def journey(
    actor: Actor,
    *,
    name: str | None = None,
    stages: Sequence[str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """A journey with stages through the API (the actor must be a manager or admin)."""
    names = ["Arrive", "Queue", "Pay", "Leave"] if stages is None else list(stages)
    body = {
        "name": name or f"Journey {uuid.uuid4().hex[:6]}",
        "description": description,
        "stages": [{"name": s} for s in names],
    }
    return _created(actor.client.post("/api/v1/journeys", json=body))


def stage(
    actor: Actor, journey_id: str, *, name: str | None = None, position: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name or f"Stage {uuid.uuid4().hex[:6]}"}
    if position is not None:
        body["position"] = position
    return _created(actor.client.post(f"/api/v1/journeys/{journey_id}/stages", json=body))


def site(actor: Actor, *, name: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": name or f"Store {uuid.uuid4().hex[:6]}", "kind": "store", **fields}
    return _created(actor.client.post("/api/v1/sites", json=body))


def visit(actor: Actor, **fields: Any) -> dict[str, Any]:
    body = {"started_at": "2026-11-20T09:00:00Z", **fields}
    return _created(actor.client.post("/api/v1/visits", json=body))


def pain_point(
    actor: Actor, stage_id: str, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"title": title or f"Pain {uuid.uuid4().hex[:6]}", "stage_id": stage_id, **extra}
    return _created(actor.client.post("/api/v1/pain-points", json=body))
