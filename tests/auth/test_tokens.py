"""API tokens: shown once, stored hashed, scopes, expiry, revocation (SPEC §4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col

from app.models import ApiToken
from tests.factories import Factory
from tests.helpers import assert_problem


def _bearer(app: FastAPI, secret: str) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {secret}"
    return c


def test_create_token_shows_secret_once_and_stores_hash(app: FastAPI, factory: Factory, db) -> None:  # type: ignore[no-untyped-def]
    manager = factory.browser("manager")
    r = manager.client.post("/api/v1/tokens", json={"name": "BI", "scope": "read"})
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["token"]
    assert secret.startswith("gmb_")
    assert created["prefix"] == secret[: len(created["prefix"])]
    assert r.headers["cache-control"] == "no-store"
    stored = db.get(ApiToken, uuid.UUID(created["id"]))
    assert stored.token_hash != secret
    assert secret not in stored.token_hash
    listed = manager.client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    assert "token" not in listed["items"][0]
    assert secret not in manager.client.get("/api/v1/tokens").text
    assert _bearer(app, secret).get("/api/v1/me").json()["id"] == manager.id


def test_observers_cannot_create_tokens(factory: Factory) -> None:
    observer = factory.browser("observer")
    assert_problem(observer.client.post("/api/v1/tokens", json={"name": "x", "scope": "read"}), 403)


def test_read_scope_allows_only_safe_methods(app: FastAPI, factory: Factory) -> None:
    manager = factory.bearer("manager")
    secret = manager.client.post("/api/v1/tokens", json={"name": "ro", "scope": "read"}).json()[
        "token"
    ]
    ro = _bearer(app, secret)
    assert ro.get("/api/v1/me").status_code == 200
    assert_problem(ro.post("/api/v1/tokens", json={"name": "x", "scope": "read"}), 403)


def test_expired_and_revoked_tokens_are_401(app: FastAPI, factory: Factory, db) -> None:  # type: ignore[no-untyped-def]
    manager = factory.bearer("manager")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    made = manager.client.post(
        "/api/v1/tokens", json={"name": "t", "scope": "write", "expires_at": soon}
    ).json()
    client = _bearer(app, made["token"])
    assert client.get("/api/v1/me").status_code == 200
    db.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == uuid.UUID(made["id"]))
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.commit()
    assert_problem(client.get("/api/v1/me"), 401)

    other = manager.client.post("/api/v1/tokens", json={"name": "u", "scope": "write"}).json()
    client = _bearer(app, other["token"])
    assert client.get("/api/v1/me").status_code == 200
    assert manager.client.delete(f"/api/v1/tokens/{other['id']}").status_code == 204
    assert_problem(client.get("/api/v1/me"), 401)
    revoked = manager.client.get("/api/v1/tokens").json()["items"]
    assert any(t["id"] == other["id"] and t["revoked_at"] for t in revoked)


def test_expiry_in_the_past_is_422(factory: Factory) -> None:
    manager = factory.bearer("manager")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = manager.client.post(
        "/api/v1/tokens", json={"name": "t", "scope": "read", "expires_at": past}
    )
    assert_problem(r, 422, field="expires_at")
    r = manager.client.post(
        "/api/v1/tokens", json={"name": "t", "scope": "read", "expires_at": "2030-01-01T00:00:00"}
    )
    assert_problem(r, 422, field="expires_at")
    assert_problem(
        manager.client.post("/api/v1/tokens", json={"name": "t", "scope": "admin"}),
        422,
        field="scope",
    )


def test_someone_elses_token_is_404_but_admins_may_revoke(factory: Factory) -> None:
    owner, stranger, admin = (
        factory.bearer("manager"),
        factory.bearer("manager"),
        factory.bearer("admin"),
    )
    made = owner.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()
    assert_problem(stranger.client.delete(f"/api/v1/tokens/{made['id']}"), 404)
    assert_problem(stranger.client.delete(f"/api/v1/tokens/{uuid.uuid4()}"), 404)
    assert admin.client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    events = admin.client.get("/api/v1/audit", params={"action": "token.revoke"}).json()["items"]
    assert events[0]["target_id"] == made["id"]


def test_idempotent_token_create(factory: Factory) -> None:
    manager = factory.bearer("manager")
    tid = str(uuid.uuid4())
    first = manager.client.post("/api/v1/tokens", json={"id": tid, "name": "t", "scope": "read"})
    assert first.status_code == 201
    again = manager.client.post("/api/v1/tokens", json={"id": tid, "name": "t", "scope": "read"})
    assert again.status_code == 200
    assert "token" not in again.json()  # the secret is never shown twice
    assert_problem(
        manager.client.post("/api/v1/tokens", json={"id": tid, "name": "other", "scope": "read"}),
        409,
    )
    other_user = factory.bearer("manager")
    assert_problem(
        other_user.client.post("/api/v1/tokens", json={"id": tid, "name": "t", "scope": "read"}),
        409,
    )


def test_last_used_at_is_recorded(app: FastAPI, factory: Factory) -> None:
    manager = factory.bearer("manager")
    made = manager.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()
    assert made["last_used_at"] is None
    _bearer(app, made["token"]).get("/api/v1/me")
    listed = {t["id"]: t for t in manager.client.get("/api/v1/tokens").json()["items"]}
    assert listed[made["id"]]["last_used_at"] is not None
