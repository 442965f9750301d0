"""Sign-in, sessions, CSRF, Origin checks and throttling (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlmodel import col

from app.auth.principal import SESSION_COOKIE
from app.models import AuthSession, User
from tests.factories import DEFAULT_PASSWORD, Factory
from tests.helpers import assert_problem


def _login(
    client: TestClient,
    email: str,
    password: str = DEFAULT_PASSWORD,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"email": email, "password": password}
    return client.post("/api/v1/auth/login", json=body, headers=headers)


def test_login_sets_httponly_lax_cookie_and_returns_csrf(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user("observer")
    r = _login(client, user.email.upper())  # emails are case-insensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["email"] == user.email
    assert "password_hash" not in body["user"]
    assert len(body["csrf_token"]) >= 32
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie
    assert client.get("/api/v1/me").json()["id"] == str(user.id)


def test_cookie_is_secure_over_https(app: FastAPI, factory: Factory) -> None:
    user = factory.user()
    with TestClient(app, base_url="https://testserver") as c:
        r = _login(c, user.email)
        assert r.status_code == 200
        assert "Secure" in r.headers["set-cookie"]


def test_session_is_stored_hashed(client: TestClient, factory: Factory, db) -> None:  # type: ignore[no-untyped-def]
    user = factory.user()
    _login(client, user.email)
    secret = client.cookies[SESSION_COOKIE]
    hashes = db.scalars(
        select(col(AuthSession.token_hash)).where(col(AuthSession.user_id) == user.id)
    ).all()
    assert len(hashes) == 1
    assert secret not in hashes[0]


def test_wrong_password_unknown_email_and_deactivated_are_401(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    assert_problem(_login(client, user.email, "wrong password!"), 401)
    assert_problem(_login(client, "nobody@example.com"), 401)
    admin = factory.bearer("admin")
    assert admin.client.patch(f"/api/v1/users/{user.id}", json={"active": False}).status_code == 200
    assert_problem(_login(client, user.email), 401)


def test_logout_ends_the_session_at_once(factory: Factory) -> None:
    actor = factory.browser()
    assert actor.client.get("/api/v1/me").status_code == 200
    stolen = actor.client.cookies[SESSION_COOKIE]
    assert actor.client.post("/api/v1/auth/logout").status_code == 204
    actor.client.cookies.set(SESSION_COOKIE, stolen)
    assert_problem(actor.client.get("/api/v1/me"), 401)


def test_unsafe_cookie_requests_need_the_csrf_token(factory: Factory) -> None:
    actor = factory.browser()
    good = actor.client.headers.pop("X-CSRF-Token")
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "another long password"}
    assert_problem(actor.client.post("/api/v1/me/password", json=body), 403)
    r = actor.client.post("/api/v1/me/password", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert_problem(r, 403)
    r = actor.client.post("/api/v1/me/password", json=body, headers={"X-CSRF-Token": good})
    assert r.status_code == 204, r.text
    # Safe methods need no token.
    assert actor.client.get("/api/v1/me").status_code == 200


def test_cross_origin_requests_are_refused(factory: Factory, client: TestClient) -> None:
    actor = factory.browser()
    r = actor.client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert_problem(r, 403)
    r = actor.client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
    assert r.status_code == 204
    user = factory.user()
    assert_problem(_login(client, user.email, headers={"Origin": "https://evil.example"}), 403)


def test_bearer_requests_need_no_csrf(factory: Factory) -> None:
    actor = factory.bearer("observer")
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "another long password"}
    assert actor.client.post("/api/v1/me/password", json=body).status_code == 204


def test_account_throttle_spares_other_accounts_on_the_same_address(
    client: TestClient, factory: Factory
) -> None:
    victim, colleague = factory.user(), factory.user()
    for _ in range(5):
        assert _login(client, victim.email, "wrong password!").status_code == 401
    r = _login(client, victim.email)  # even the right password waits
    body = assert_problem(r, 429)
    assert int(r.headers["retry-after"]) >= 1
    assert "account" in body["detail"]
    assert _login(client, colleague.email).status_code == 200


def test_address_throttle_is_looser_and_spans_accounts(
    make_app: Callable[..., FastAPI], factory: Factory
) -> None:
    app = make_app(login_address_limit=8)
    users = [Factory(app).user() for _ in range(5)]
    with TestClient(app) as c:
        statuses = [
            _login(c, u.email, "wrong password!").status_code for u in users for _ in range(2)
        ]
        assert statuses[:8] == [401] * 8
        assert statuses[8:] == [429, 429]
        assert_problem(_login(c, users[0].email), 429)


def test_deactivated_user_loses_sessions_and_tokens_at_once(factory: Factory) -> None:
    browser = factory.browser()
    token_actor = factory.bearer("manager")
    admin = factory.bearer("admin")
    for target in (browser, token_actor):
        r = admin.client.patch(f"/api/v1/users/{target.user.id}", json={"active": False})
        assert r.status_code == 200, r.text
        assert_problem(target.client.get("/api/v1/me"), 401)


def test_role_change_takes_effect_at_once(factory: Factory) -> None:
    actor = factory.bearer("manager")
    admin = factory.bearer("admin")
    assert actor.client.get("/api/v1/users").status_code == 200
    admin.client.patch(f"/api/v1/users/{actor.user.id}", json={"role": "observer"})
    assert_problem(actor.client.get("/api/v1/users"), 403)


def test_password_change_rules(factory: Factory, app: FastAPI) -> None:
    actor = factory.browser()
    other_device = TestClient(app)
    assert _login(other_device, actor.user.email).status_code == 200
    r = actor.client.post(
        "/api/v1/me/password", json={"current_password": "not it at all", "new_password": "x" * 12}
    )
    assert_problem(r, 422, field="current_password")
    r = actor.client.post(
        "/api/v1/me/password", json={"current_password": DEFAULT_PASSWORD, "new_password": "short"}
    )
    assert_problem(r, 422, field="new_password")
    r = actor.client.post(
        "/api/v1/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert r.status_code == 204
    assert actor.client.get("/api/v1/me").status_code == 200  # this session stays
    assert_problem(other_device.get("/api/v1/me"), 401)  # the other one ended
    fresh = TestClient(app)
    assert_problem(_login(fresh, actor.user.email), 401)
    assert _login(fresh, actor.user.email, "a brand new passphrase").status_code == 200


def test_me_requires_authentication(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/me"), 401)


def test_user_row_never_exposes_hash(factory: Factory, db) -> None:  # type: ignore[no-untyped-def]
    actor = factory.bearer("admin")
    body = actor.client.get("/api/v1/me").json()
    assert set(body) == {"id", "email", "name", "role", "active", "created_at", "updated_at"}
    stored = db.get(User, actor.user.id)
    assert stored.password_hash.startswith("$argon2id$")
