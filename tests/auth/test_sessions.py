"""Sessions, CSRF on every unsafe method, Origin checks, throttling windows (SPEC §4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select, update
from sqlmodel import Session, col

from app.auth.principal import SESSION_COOKIE
from app.models import AuthSession, LoginFailure, User, utcnow
from tests.factories import DEFAULT_PASSWORD, Actor, Factory
from tests.helpers import assert_problem

LOGIN = "/api/v1/auth/login"


def _login(
    client: TestClient, email: str, password: str = DEFAULT_PASSWORD, **kw: object
) -> Response:
    return client.post(LOGIN, json={"email": email, "password": password}, **kw)  # type: ignore[arg-type]


def _unsafe_requests(admin: Actor, factory: Factory) -> list[tuple[str, str, dict[str, object]]]:
    """One POST, one PATCH and one DELETE an admin may make."""
    target = factory.user()
    token_id = factory.bearer("manager")  # a token the admin may revoke
    made = token_id.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()
    return [
        ("POST", "/api/v1/tokens", {"json": {"name": "csrf", "scope": "read"}}),
        ("PATCH", f"/api/v1/users/{target.id}", {"json": {"name": "Renamed"}}),
        ("DELETE", f"/api/v1/tokens/{made['id']}", {}),
    ]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_csrf_is_required_on_every_unsafe_cookie_method(factory: Factory, method: str) -> None:
    admin = factory.browser("admin")
    good = admin.client.headers.pop("X-CSRF-Token")
    _, path, kw = next(r for r in _unsafe_requests(admin, factory) if r[0] == method)
    assert_problem(admin.client.request(method, path, **kw), 403)  # type: ignore[arg-type]
    r = admin.client.request(method, path, headers={"X-CSRF-Token": "f" * 64}, **kw)  # type: ignore[arg-type]
    assert_problem(r, 403)
    # The refused requests changed nothing: the right token still gets a first-time answer.
    r = admin.client.request(method, path, headers={"X-CSRF-Token": good}, **kw)  # type: ignore[arg-type]
    assert r.status_code in (200, 201, 204), r.text
    if method == "DELETE":
        events = admin.client.get("/api/v1/audit", params={"action": "token.revoke"}).json()
        assert len(events["items"]) == 1


def test_csrf_token_of_another_session_is_refused(factory: Factory) -> None:
    one, two = factory.browser("admin"), factory.browser("admin")
    r = one.client.post(
        "/api/v1/tokens",
        json={"name": "x", "scope": "read"},
        headers={"X-CSRF-Token": two.client.headers["X-CSRF-Token"]},
    )
    assert_problem(r, 403)


def test_non_ascii_csrf_header_is_403_not_500(factory: Factory) -> None:
    actor = factory.browser()
    r = actor.client.post("/api/v1/auth/logout", headers=[(b"X-CSRF-Token", b"\xe9t\xe9")])
    assert_problem(r, 403)
    assert actor.client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://testserver:8080", "https://testserver", "null", "http://["],
)
def test_foreign_or_malformed_origin_is_403(factory: Factory, origin: str) -> None:
    actor = factory.browser()
    assert_problem(actor.client.post("/api/v1/auth/logout", headers={"Origin": origin}), 403)
    assert actor.client.get("/api/v1/me").status_code == 200  # still signed in
    user = factory.user()
    assert_problem(
        _login(TestClient(actor.client.app), user.email, headers={"Origin": origin}), 403
    )


def test_own_origin_passes_over_https(app: FastAPI, factory: Factory) -> None:
    user = factory.user()
    with TestClient(app, base_url="https://testserver") as c:
        assert_problem(_login(c, user.email, headers={"Origin": "http://testserver"}), 403)
        r = _login(c, user.email, headers={"Origin": "https://testserver"})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        r = c.post("/api/v1/auth/logout", headers={"Origin": "https://testserver"})
        assert r.status_code == 204


def test_bearer_requests_ignore_origin_and_csrf(factory: Factory) -> None:
    manager = factory.bearer("manager")
    r = manager.client.post(
        "/api/v1/tokens",
        json={"name": "x", "scope": "read"},
        headers={"X-CSRF-Token": "wrong"},
    )
    assert r.status_code == 201, r.text


def test_logout_clears_the_cookie_and_other_sessions_survive(
    factory: Factory, app: FastAPI
) -> None:
    actor = factory.browser()
    laptop = TestClient(app)
    assert _login(laptop, actor.user.email).status_code == 200
    r = actor.client.post("/api/v1/auth/logout")
    assert r.status_code == 204
    assert r.content == b""
    assert SESSION_COOKIE in r.headers["set-cookie"]
    assert_problem(actor.client.get("/api/v1/me"), 401)
    assert laptop.get("/api/v1/me").status_code == 200


def test_logout_needs_a_session(client: TestClient) -> None:
    assert_problem(client.post("/api/v1/auth/logout"), 401)


def test_expired_session_is_401(factory: Factory, db: Session) -> None:
    actor = factory.browser()
    db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == actor.user.id)  # type: ignore[arg-type]
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    assert_problem(actor.client.get("/api/v1/me"), 401)


def test_forged_cookie_and_malformed_authorization_are_401(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "forged")
    assert_problem(client.get("/api/v1/me"), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer gmb_nothing"}), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer "}), 401)


def test_login_validates_its_body(client: TestClient) -> None:
    assert_problem(client.post(LOGIN, json={"email": "a@b.co"}), 422, field="password")
    r = client.post(LOGIN, json={"email": "a@b.co", "password": "x", "remember": True})
    assert_problem(r, 422, field="remember")
    assert_problem(client.post(LOGIN, json={"email": "x" * 255, "password": "p"}), 422, "email")


def test_login_email_that_grows_when_lowercased_is_401_not_500(client: TestClient) -> None:
    # 'İ'.lower() is two characters: within the 254-character limit before, beyond it after.
    assert_problem(_login(client, "\u0130" * 240 + "@x.co"), 401)


def test_deactivated_user_with_right_password_counts_as_failure(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    admin = factory.bearer("admin")
    admin.client.patch(f"/api/v1/users/{user.id}", json={"active": False})
    for _ in range(5):
        assert_problem(_login(client, user.email), 401)
    assert_problem(_login(client, user.email), 429)


def test_account_throttle_is_case_insensitive_and_ends_after_the_window(
    client: TestClient, factory: Factory, db: Session
) -> None:
    user = factory.user()
    for i in range(5):
        email = user.email.upper() if i % 2 else user.email
        assert _login(client, email, "wrong password!").status_code == 401
    r = _login(client, user.email)
    assert_problem(r, 429)
    assert 1 <= int(r.headers["retry-after"]) <= 61
    db.execute(update(LoginFailure).values(at=utcnow() - timedelta(seconds=61)))
    db.commit()
    assert _login(client, user.email).status_code == 200


def test_four_failures_do_not_throttle(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    for _ in range(4):
        assert _login(client, user.email, "wrong password!").status_code == 401
    assert _login(client, user.email).status_code == 200


def test_address_throttle_spares_other_addresses(
    make_app: object, factory: Factory, db: Session
) -> None:
    app = make_app(login_address_limit=3)  # type: ignore[operator]
    users = [factory.user() for _ in range(4)]
    with TestClient(app, raise_server_exceptions=False) as c:
        for u in users[:3]:
            assert _login(c, u.email, "wrong password!").status_code == 401
        r = _login(c, users[3].email)
        body = assert_problem(r, 429)
        assert "address" in body["detail"]
        assert int(r.headers["retry-after"]) >= 1
    # The same account from another address is not held back by that address's failures.
    db.execute(update(LoginFailure).values(address="203.0.113.9"))
    db.commit()
    with TestClient(app, raise_server_exceptions=False) as c:
        assert _login(c, users[3].email).status_code == 200


def test_failed_logins_store_no_password(client: TestClient, factory: Factory, db: Session) -> None:
    user = factory.user()
    _login(client, user.email, "my secret guess 123")
    stored = db.execute(select(LoginFailure)).all()
    assert len(stored) == 1
    assert stored[0][0].email == user.email
    assert "my secret guess" not in str([row[0].model_dump() for row in stored])


def test_me_reflects_the_current_user(factory: Factory, db: Session) -> None:
    actor = factory.browser("manager")
    body = actor.client.get("/api/v1/me").json()
    assert body["id"] == actor.id
    assert body["role"] == "manager"
    assert body["created_at"].endswith("Z")
    stored = db.get(User, uuid.UUID(actor.id))
    assert stored is not None
    assert body["email"] == stored.email


def test_inactive_owner_is_refused_even_if_a_session_survived(
    factory: Factory, db: Session
) -> None:
    """Deactivation deletes sessions, but every request checks `active` as well: a user made
    inactive by any other path (another process, a manual fix) is locked out at once too."""
    actor = factory.browser()
    assert actor.client.get("/api/v1/me").status_code == 200
    db.execute(update(User).where(col(User.id) == actor.user.id).values(active=False))
    db.commit()
    assert_problem(actor.client.get("/api/v1/me"), 401)
