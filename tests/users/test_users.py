"""User management by admins, the last-admin rule, ETags, audit (SPEC §4)."""

from __future__ import annotations

import uuid

from tests.factories import Factory
from tests.helpers import assert_problem


def _new(email: str = "", **extra: object) -> dict[str, object]:
    return {
        "email": email or f"u-{uuid.uuid4().hex[:8]}@example.com",
        "password": "long enough password",
        "role": "observer",
        "name": "Pat",
        **extra,
    }


def test_only_admins_create_and_patch_users(factory: Factory) -> None:
    manager, observer = factory.bearer("manager"), factory.bearer("observer")
    assert_problem(manager.client.post("/api/v1/users", json=_new()), 403)
    assert_problem(observer.client.post("/api/v1/users", json=_new()), 403)
    assert_problem(manager.client.patch(f"/api/v1/users/{observer.id}", json={"name": "x"}), 403)


def test_list_users_for_managers_and_admins_only(factory: Factory) -> None:
    manager, observer = factory.bearer("manager"), factory.bearer("observer")
    r = manager.client.get("/api/v1/users")
    assert r.status_code == 200
    emails = [u["email"] for u in r.json()["items"]]
    assert emails == sorted(emails)
    assert "password_hash" not in r.text
    assert_problem(observer.client.get("/api/v1/users"), 403)


def test_users_list_paginates_without_gaps(factory: Factory) -> None:
    admin = factory.bearer("admin")
    for _ in range(5):
        factory.user()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = admin.client.get("/api/v1/users", params=params).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6


def test_bad_cursor_and_limits_are_422(factory: Factory) -> None:
    admin = factory.bearer("admin")
    assert_problem(
        admin.client.get("/api/v1/users", params={"cursor": "garbage!!"}), 422, field="cursor"
    )
    assert_problem(admin.client.get("/api/v1/users", params={"limit": 0}), 422, field="limit")
    assert_problem(admin.client.get("/api/v1/users", params={"limit": 501}), 422, field="limit")


def test_create_user_rules(factory: Factory) -> None:
    admin = factory.bearer("admin")
    body = _new("New.Person@Example.com")
    r = admin.client.post("/api/v1/users", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "new.person@example.com"
    assert_problem(admin.client.post("/api/v1/users", json=_new("NEW.person@example.com")), 409)
    assert_problem(
        admin.client.post("/api/v1/users", json=_new("not-an-email")), 422, field="email"
    )
    assert_problem(
        admin.client.post("/api/v1/users", json=_new(password="short")), 422, field="password"
    )
    assert_problem(admin.client.post("/api/v1/users", json=_new(role="king")), 422, field="role")


def test_idempotent_user_create(factory: Factory) -> None:
    admin, other_admin = factory.bearer("admin"), factory.bearer("admin")
    body = _new(id=str(uuid.uuid4()))
    assert admin.client.post("/api/v1/users", json=body).status_code == 201
    assert admin.client.post("/api/v1/users", json=body).status_code == 200
    assert_problem(admin.client.post("/api/v1/users", json={**body, "role": "manager"}), 409)
    assert_problem(other_admin.client.post("/api/v1/users", json=body), 409)


def test_last_active_admin_cannot_be_demoted_or_deactivated(factory: Factory) -> None:
    admin = factory.bearer("admin")
    assert_problem(admin.client.patch(f"/api/v1/users/{admin.id}", json={"role": "manager"}), 409)
    assert_problem(admin.client.patch(f"/api/v1/users/{admin.id}", json={"active": False}), 409)
    second = factory.bearer("admin")
    r = admin.client.patch(f"/api/v1/users/{second.id}", json={"active": False})
    assert r.status_code == 200
    # `second` is inactive now, so `admin` is again the last active admin.
    assert_problem(admin.client.patch(f"/api/v1/users/{admin.id}", json={"role": "observer"}), 409)
    assert (
        admin.client.patch(f"/api/v1/users/{second.id}", json={"active": True}).status_code == 200
    )
    assert (
        admin.client.patch(f"/api/v1/users/{admin.id}", json={"role": "manager"}).status_code == 200
    )


def test_etag_and_if_match(factory: Factory) -> None:
    admin = factory.bearer("admin")
    target = factory.user()
    r = admin.client.get(f"/api/v1/users/{target.id}")
    etag = r.headers["etag"]
    r = admin.client.patch(
        f"/api/v1/users/{target.id}", json={"name": "Renamed"}, headers={"If-Match": etag}
    )
    assert r.status_code == 200
    assert r.headers["etag"] != etag
    stale = admin.client.patch(
        f"/api/v1/users/{target.id}", json={"name": "Again"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    assert admin.client.get(f"/api/v1/users/{target.id}").json()["name"] == "Renamed"
    assert_problem(admin.client.get(f"/api/v1/users/{uuid.uuid4()}"), 404)


def test_admin_password_reset_works_and_ends_sessions(factory: Factory) -> None:
    admin = factory.bearer("admin")
    target = factory.browser()
    r = admin.client.patch(f"/api/v1/users/{target.id}", json={"password": "reset by the admin"})
    assert r.status_code == 200
    assert_problem(target.client.get("/api/v1/me"), 401)


def test_audit_lists_privileged_changes_newest_first(factory: Factory) -> None:
    admin = factory.bearer("admin")
    made = admin.client.post("/api/v1/users", json=_new()).json()
    admin.client.patch(
        f"/api/v1/users/{made['id']}", json={"role": "manager", "password": "another password"}
    )
    items = admin.client.get("/api/v1/audit", params={"target_id": made["id"]}).json()["items"]
    assert [e["action"] for e in items] == ["user.update", "user.create"]
    assert items[0]["actor_id"] == admin.id
    assert items[0]["details"] == {"role": "manager", "password": "changed"}
    assert "another password" not in str(items)
    page = admin.client.get("/api/v1/audit", params={"limit": 1}).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    nxt = admin.client.get(
        "/api/v1/audit", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert nxt["items"][0]["id"] != page["items"][0]["id"]
    assert_problem(factory.bearer("manager").client.get("/api/v1/audit"), 403)
