"""More token rules: hashing at rest, scopes on every unsafe method, expiry, replays."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlmodel import Session, col

from app.auth.principal import Principal
from app.auth.schemas import TokenCreate
from app.auth.service import create_token
from app.models import ApiToken, TokenScope
from tests.factories import Factory
from tests.helpers import assert_problem


def _bearer(app: FastAPI, secret: str) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {secret}"
    return c


def test_only_the_sha256_of_the_secret_is_stored(factory: Factory, db: Session) -> None:
    admin = factory.bearer("admin")
    r = admin.client.post("/api/v1/tokens", json={"name": "ci", "scope": "write"})
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    assert len(secret) >= 40
    row = db.execute(
        text("SELECT * FROM api_tokens WHERE token_hash = :h"),
        {"h": hashlib.sha256(secret.encode()).hexdigest()},
    ).one()
    assert secret not in " ".join(str(v) for v in row)
    stored = db.get(ApiToken, uuid.UUID(r.json()["id"]))
    assert stored is not None
    assert stored.user_id == admin.user.id
    # The audit trail names the token but never holds its secret.
    audit = admin.client.get("/api/v1/audit", params={"action": "token.create"}).json()["items"]
    assert audit[0]["target_id"] == r.json()["id"]
    assert secret not in str(audit)


def test_every_create_gets_a_new_secret(factory: Factory) -> None:
    manager = factory.bearer("manager")
    a = manager.client.post("/api/v1/tokens", json={"name": "a", "scope": "read"}).json()
    b = manager.client.post("/api/v1/tokens", json={"name": "a", "scope": "read"}).json()
    assert a["token"] != b["token"]
    assert a["id"] != b["id"]


def test_read_scope_refuses_patch_and_delete_too(app: FastAPI, factory: Factory) -> None:
    admin = factory.bearer("admin")
    target = factory.user()
    made = admin.client.post("/api/v1/tokens", json={"name": "ro", "scope": "read"}).json()
    ro = _bearer(app, made["token"])
    assert ro.get("/api/v1/users").status_code == 200
    assert_problem(ro.patch(f"/api/v1/users/{target.id}", json={"name": "x"}), 403)
    assert_problem(ro.delete(f"/api/v1/tokens/{made['id']}"), 403)
    assert ro.get("/api/v1/me").status_code == 200  # it did not revoke itself
    rw = admin.client.post("/api/v1/tokens", json={"name": "rw", "scope": "write"}).json()
    r = _bearer(app, rw["token"]).patch(f"/api/v1/users/{target.id}", json={"name": "x"})
    assert r.status_code == 200


def test_token_acts_with_its_owners_current_role(app: FastAPI, factory: Factory) -> None:
    manager = factory.bearer("manager")
    admin = factory.bearer("admin")
    made = manager.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()
    client = _bearer(app, made["token"])
    assert client.get("/api/v1/users").status_code == 200
    admin.client.patch(f"/api/v1/users/{manager.id}", json={"role": "observer"})
    assert_problem(client.get("/api/v1/users"), 403)


def test_token_expiring_later_works_until_then(app: FastAPI, factory: Factory) -> None:
    manager = factory.bearer("manager")
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    made = manager.client.post(
        "/api/v1/tokens", json={"name": "t", "scope": "read", "expires_at": later}
    ).json()
    assert made["expires_at"].endswith("Z")
    assert _bearer(app, made["token"]).get("/api/v1/me").status_code == 200


def test_expiry_exactly_now_or_past_is_422(factory: Factory) -> None:
    manager = factory.bearer("manager")
    for delta in (timedelta(0), timedelta(days=-400)):
        when = (datetime.now(UTC) + delta).isoformat()
        r = manager.client.post(
            "/api/v1/tokens", json={"name": "t", "scope": "read", "expires_at": when}
        )
        assert_problem(r, 422, field="expires_at")
    assert len(manager.client.get("/api/v1/tokens").json()["items"]) == 1  # the factory's


def test_token_body_limits(factory: Factory) -> None:
    manager = factory.bearer("manager")
    tokens = "/api/v1/tokens"
    assert_problem(manager.client.post(tokens, json={"name": "", "scope": "read"}), 422, "name")
    r = manager.client.post(tokens, json={"name": "x" * 201, "scope": "read"})
    assert_problem(r, 422, "name")
    r = manager.client.post(tokens, json={"name": "x", "scope": "read", "owner": "me"})
    assert_problem(r, 422, "owner")
    assert_problem(manager.client.post(tokens, json={"name": "x"}), 422, "scope")


def test_idempotent_replay_with_the_same_instant_in_another_offset(factory: Factory) -> None:
    manager = factory.bearer("manager")
    tid = str(uuid.uuid4())
    when = datetime.now(UTC).replace(microsecond=123456) + timedelta(days=3)
    body = {"id": tid, "name": "t", "scope": "write", "expires_at": when.isoformat()}
    assert manager.client.post("/api/v1/tokens", json=body).status_code == 201
    shifted = when.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    again = manager.client.post("/api/v1/tokens", json={**body, "expires_at": shifted})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == tid
    assert "token" not in again.json()
    later = (when + timedelta(seconds=1)).isoformat()
    assert_problem(manager.client.post("/api/v1/tokens", json={**body, "expires_at": later}), 409)
    assert_problem(manager.client.post("/api/v1/tokens", json={**body, "scope": "read"}), 409)
    assert len(manager.client.get("/api/v1/tokens").json()["items"]) == 2  # factory's + this


def test_list_shows_only_own_tokens_and_paginates(factory: Factory) -> None:
    manager, other = factory.bearer("manager"), factory.bearer("manager")
    made = [
        manager.client.post("/api/v1/tokens", json={"name": f"t{i}", "scope": "read"}).json()
        for i in range(4)
    ]
    other.client.post("/api/v1/tokens", json={"name": "theirs", "scope": "read"})
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = manager.client.get("/api/v1/tokens", params=params).json()
        seen += [t["id"] for t in page["items"]]
        assert all("token" not in t for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5  # four made here plus the factory's own
    assert {m["id"] for m in made} <= set(seen)
    assert_problem(manager.client.get("/api/v1/tokens", params={"cursor": "@@"}), 422, "cursor")


def test_admin_revoke_of_anothers_token_takes_effect(app: FastAPI, factory: Factory) -> None:
    owner, admin = factory.bearer("manager"), factory.bearer("admin")
    made = owner.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()
    client = _bearer(app, made["token"])
    assert client.get("/api/v1/me").status_code == 200
    assert admin.client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    assert_problem(client.get("/api/v1/me"), 401)
    assert admin.client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204  # already
    assert_problem(admin.client.delete("/api/v1/tokens/not-a-uuid"), 422, "token_id")


def test_last_used_at_is_set_by_writes_too(app: FastAPI, factory: Factory, db: Session) -> None:
    manager = factory.bearer("manager")
    made = manager.client.post("/api/v1/tokens", json={"name": "w", "scope": "write"}).json()
    before = datetime.now(UTC)
    r = _bearer(app, made["token"]).post("/api/v1/tokens", json={"name": "x", "scope": "read"})
    assert r.status_code == 201
    used = db.scalar(
        select(col(ApiToken.last_used_at)).where(col(ApiToken.id) == uuid.UUID(made["id"]))
    )
    assert used is not None
    assert used >= before - timedelta(seconds=1)


def test_concurrent_creates_with_one_id_store_one_token(app: FastAPI, factory: Factory) -> None:
    """A client retrying a create while the first attempt is still in flight: both requests
    look the id up before either commits; the second must answer as a replay, not a 500."""
    user = factory.user("manager")
    principal = Principal(user=user, via="token")
    data = TokenCreate(id=uuid.uuid4(), name="retry", scope=TokenScope.read)
    first = Session(app.state.write_engine, expire_on_commit=False)
    _, secret = create_token(first, principal, data)
    assert secret is not None
    outcome: list[object] = []

    def second() -> None:
        with Session(app.state.write_engine, expire_on_commit=False) as s:
            try:
                got, again = create_token(s, principal, data)
                s.commit()
                outcome.append((got.id, again))
            except Exception as exc:  # pragma: no cover - the failure being tested for
                outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)  # PostgreSQL: waiting on the primary key; SQLite: on the write lock
    first.commit()
    first.close()
    thread.join(30)
    assert outcome == [(data.id, None)]
    with Session(app.state.engine) as s:
        assert s.get(ApiToken, data.id) is not None
