"""More user-management rules: validation names the field, ETags chain, deactivation, audit."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import DEFAULT_PASSWORD, Factory
from tests.helpers import assert_problem


def _new(email: str = "", **extra: object) -> dict[str, object]:
    return {
        "email": email or f"u-{uuid.uuid4().hex[:8]}@example.com",
        "password": "long enough password",
        "role": "observer",
        **extra,
    }


SOME_ID = "3f1e2d4c-5b6a-4789-9abc-def012345678"


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_created_user_can_sign_in_and_name_defaults(app: FastAPI, factory: Factory) -> None:
    admin = factory.bearer("admin")
    r = admin.client.post("/api/v1/users", json=_new("pat.lee@example.com", role="manager"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "pat.lee"
    assert body["role"] == "manager"
    assert body["active"] is True
    assert body["created_at"].endswith("Z")
    assert r.headers["etag"]
    login = TestClient(app).post(
        "/api/v1/auth/login",
        json={"email": "pat.lee@example.com", "password": "long enough password"},
    )
    assert login.status_code == 200
    assert login.json()["user"]["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a b@example.com"}, "email"),
        ({"email": "nobody@localhost"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        # Within the limit as sent, beyond it once lower-cased ('İ' becomes two characters).
        ({"email": "\u0130" * 240 + "@x.co"}, "email"),
        ({"password": "123456789"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_create_user_validation_names_the_field(
    factory: Factory, payload: dict[str, object], field: str
) -> None:
    admin = factory.bearer("admin")
    assert_problem(admin.client.post("/api/v1/users", json={**_new(), **payload}), 422, field)


def test_ten_character_password_is_enough(factory: Factory) -> None:
    admin = factory.bearer("admin")
    assert admin.client.post("/api/v1/users", json=_new(password="0123456789")).status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": "short"}, "password"),
        ({"role": "owner"}, "role"),
        ({"active": "maybe"}, "active"),
        ({"email": "new@example.com"}, "email"),
    ],
)
def test_patch_validation_names_the_field(
    factory: Factory, payload: dict[str, object], field: str
) -> None:
    admin = factory.bearer("admin")
    target = factory.user()
    r = admin.client.patch(f"/api/v1/users/{target.id}", json=payload)
    assert_problem(r, 422, field=field)


def test_duplicate_email_is_409_whatever_the_case(factory: Factory) -> None:
    admin = factory.bearer("admin")
    existing = factory.user()
    assert_problem(admin.client.post("/api/v1/users", json=_new(existing.email.upper())), 409)
    assert_problem(admin.client.post("/api/v1/users", json=_new(f"  {existing.email} ")), 409)
    emails = [u["email"] for u in admin.client.get("/api/v1/users").json()["items"]]
    assert emails.count(existing.email) == 1


def test_idempotent_create_by_the_same_admin_with_a_new_email_is_409(factory: Factory) -> None:
    admin = factory.bearer("admin")
    uid = str(uuid.uuid4())
    first = admin.client.post("/api/v1/users", json=_new(id=uid))
    assert first.status_code == 201
    again = admin.client.post(
        "/api/v1/users", json={**_new(id=uid), "email": first.json()["email"]}
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert_problem(admin.client.post("/api/v1/users", json=_new(id=uid)), 409)
    r = admin.client.post(
        "/api/v1/users", json={**_new(id=uid), "email": first.json()["email"], "password": "x" * 12}
    )
    assert_problem(r, 409)
    users = admin.client.get("/api/v1/users").json()["items"]
    assert [u["id"] for u in users].count(uid) == 1


def test_managers_see_users_but_cannot_get_or_patch_one(factory: Factory) -> None:
    manager = factory.browser("manager")
    target = factory.user()
    ids = [u["id"] for u in manager.client.get("/api/v1/users").json()["items"]]
    assert str(target.id) in ids
    assert_problem(manager.client.patch(f"/api/v1/users/{target.id}", json={"role": "admin"}), 403)
    assert_problem(manager.client.post("/api/v1/users", json=_new(role="admin")), 403)
    assert manager.client.get("/api/v1/me").json()["role"] == "manager"


def test_deactivation_ends_sessions_and_tokens_and_reactivation_restores_tokens(
    app: FastAPI, factory: Factory
) -> None:
    admin = factory.bearer("admin")
    browser = factory.browser("manager")
    secret = browser.client.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()[
        "token"
    ]
    bearer = TestClient(app, raise_server_exceptions=False)
    bearer.headers["Authorization"] = f"Bearer {secret}"
    assert bearer.get("/api/v1/me").status_code == 200
    r = admin.client.patch(f"/api/v1/users/{browser.id}", json={"active": False})
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert_problem(browser.client.get("/api/v1/me"), 401)
    assert_problem(bearer.get("/api/v1/me"), 401)
    assert (
        admin.client.patch(f"/api/v1/users/{browser.id}", json={"active": True}).status_code == 200
    )
    assert bearer.get("/api/v1/me").status_code == 200
    assert_problem(browser.client.get("/api/v1/me"), 401)  # the session stays ended
    assert (
        browser.client.post(
            "/api/v1/auth/login", json={"email": browser.user.email, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )


def test_last_admin_rule_counts_only_active_admins_and_allows_self_demotion_otherwise(
    factory: Factory,
) -> None:
    admin = factory.browser("admin")
    other = factory.user("admin")
    patch = admin.client.patch
    assert patch(f"/api/v1/users/{other.id}", json={"role": "manager"}).status_code == 200
    assert_problem(patch(f"/api/v1/users/{admin.id}", json={"role": "manager"}), 409)
    assert_problem(patch(f"/api/v1/users/{admin.id}", json={"role": "admin", "active": False}), 409)
    assert patch(f"/api/v1/users/{other.id}", json={"role": "admin"}).status_code == 200
    r = patch(f"/api/v1/users/{admin.id}", json={"role": "observer"})
    assert r.status_code == 200
    assert_problem(patch(f"/api/v1/users/{other.id}", json={"name": "x"}), 403)  # at once
    assert admin.client.get("/api/v1/me").json()["role"] == "observer"


def test_patch_of_unknown_user_is_404(factory: Factory) -> None:
    admin = factory.bearer("admin")
    assert_problem(admin.client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"name": "x"}), 404)
    assert_problem(admin.client.patch("/api/v1/users/42", json={"name": "x"}), 422, "user_id")


def test_etags_chain_from_patch_to_patch(factory: Factory) -> None:
    admin = factory.bearer("admin")
    target = factory.user()
    etag = admin.client.get(f"/api/v1/users/{target.id}").headers["etag"]
    for name in ("One", "Two", "Three"):
        r = admin.client.patch(
            f"/api/v1/users/{target.id}", json={"name": name}, headers={"If-Match": etag}
        )
        assert r.status_code == 200, r.text
        etag = r.headers["etag"]
        assert admin.client.get(f"/api/v1/users/{target.id}").headers["etag"] == etag
    r = admin.client.patch(
        f"/api/v1/users/{target.id}", json={"name": "Four"}, headers={"If-Match": f"W/{etag}"}
    )
    assert r.status_code == 200
    r = admin.client.patch(
        f"/api/v1/users/{target.id}", json={"name": "Five"}, headers={"If-Match": '"nope", *'}
    )
    assert r.status_code == 200
    stale = admin.client.patch(
        f"/api/v1/users/{target.id}", json={"role": "admin"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    assert admin.client.get(f"/api/v1/users/{target.id}").json()["role"] == "observer"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "é",
        _cursor({"email": "a"}),
        _cursor(["a@example.com"]),
        _cursor([{"a": 1}, SOME_ID]),
        _cursor(["a@example.com", 2]),
        _cursor(["a@example.com", "not-a-uuid"]),
        _cursor([None, None]),
        _cursor([["a"], SOME_ID]),
    ],
)
def test_users_cursor_that_was_not_issued_is_422(factory: Factory, cursor: str) -> None:
    manager = factory.bearer("manager")
    r = manager.client.get("/api/v1/users", params={"cursor": cursor})
    assert_problem(r, 422, field="cursor")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(["2026-01-01T00:00:00", SOME_ID]),  # naive: not one we issued
        _cursor(["yesterday", SOME_ID]),
        _cursor([1, 2]),
        _cursor([True, SOME_ID]),
    ],
)
def test_audit_cursor_that_was_not_issued_is_422(factory: Factory, cursor: str) -> None:
    admin = factory.bearer("admin")
    r = admin.client.get("/api/v1/audit", params={"cursor": cursor})
    assert_problem(r, 422, field="cursor")


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/audit", "/api/v1/tokens"])
@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_limits_outside_1_to_500_are_422(factory: Factory, path: str, limit: str) -> None:
    admin = factory.bearer("admin")
    assert_problem(admin.client.get(path, params={"limit": limit}), 422, field="limit")


def test_limit_500_and_1_are_accepted(factory: Factory) -> None:
    admin = factory.bearer("admin")
    assert admin.client.get("/api/v1/users", params={"limit": 500}).status_code == 200
    page = admin.client.get("/api/v1/users", params={"limit": 1}).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"] is None  # the admin is the only user


def test_audit_records_user_and_token_changes_with_actor(factory: Factory) -> None:
    admin = factory.browser("admin")
    made = admin.client.post("/api/v1/users", json=_new(role="manager")).json()
    admin.client.patch(f"/api/v1/users/{made['id']}", json={"active": False})
    tok = admin.client.post("/api/v1/tokens", json={"name": "bi", "scope": "read"}).json()
    admin.client.delete(f"/api/v1/tokens/{tok['id']}")
    admin.client.post(
        "/api/v1/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a new long password"},
    )
    items = admin.client.get("/api/v1/audit").json()["items"]
    mine = [e for e in items if e["actor_id"] == admin.id]
    assert [e["action"] for e in mine] == [
        "user.password",
        "token.revoke",
        "token.create",
        "user.update",
        "user.create",
    ]
    assert mine[3]["details"] == {"active": False}
    assert mine[4]["details"]["role"] == "manager"
    assert "long enough password" not in str(items)
    assert "a new long password" not in str(items)
    assert set(mine[0]) == {"id", "at", "actor_id", "action", "target_type", "target_id", "details"}
    ats = [e["at"] for e in items]
    assert all(a.endswith("Z") for a in ats)
    assert ats == sorted(ats, reverse=True)


def test_audit_pages_walk_every_event_once_newest_first(factory: Factory) -> None:
    admin = factory.bearer("admin")
    for _ in range(4):
        admin.client.post("/api/v1/users", json=_new())
    full = admin.client.get("/api/v1/audit").json()["items"]
    seen: list[dict[str, object]] = []
    cursor = None
    for _ in range(20):
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = admin.client.get("/api/v1/audit", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in seen] == [e["id"] for e in full]
    assert len(full) >= 6  # the admin, its token, four users


def test_audit_is_for_admins_only(factory: Factory) -> None:
    for role in ("observer", "manager"):
        assert_problem(factory.bearer(role).client.get("/api/v1/audit"), 403)
    assert_problem(TestClient(factory.app).get("/api/v1/audit"), 401)
