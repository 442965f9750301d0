"""Sites, further: pagination, validation field names, If-Match, audit."""

from __future__ import annotations

from typing import Any

from app.models import Role
from tests.factories import Factory, site
from tests.helpers import assert_problem


def test_pagination_by_name(factory: Factory) -> None:
    manager, observer = factory.bearer(Role.manager), factory.bearer(Role.observer)
    for name in ("York", "Leeds", "Hull", "Bath", "Ely"):
        site(manager, name=name)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = observer.client.get("/api/v1/sites", params=params).json()
        seen += [s["name"] for s in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["Bath", "Ely", "Hull", "Leeds", "York"]


def test_validation_if_match_and_audit(factory: Factory) -> None:
    manager, admin = factory.bearer(Role.manager), factory.bearer(Role.admin)
    c = manager.client
    assert_problem(c.post("/api/v1/sites", json={}), 422, "name")
    assert_problem(c.post("/api/v1/sites", json={"name": "x" * 201}), 422, "name")
    assert_problem(c.post("/api/v1/sites", json={"name": "x", "kind": "k" * 101}), 422, "kind")
    s = site(manager, name="Leeds", address="1 Briggate")
    url = f"/api/v1/sites/{s['id']}"
    assert_problem(c.patch(url, json={"name": None}), 422, "name")
    assert_problem(c.patch(url, json={"archived": "sometimes"}), 422, "archived")
    etag = c.get(url).headers["etag"]
    assert c.patch(url, json={"kind": "branch"}, headers={"If-Match": etag}).status_code == 200
    assert_problem(c.patch(url, json={"kind": "store"}, headers={"If-Match": etag}), 412)
    assert c.get(url).json()["kind"] == "branch"
    events = admin.client.get(
        "/api/v1/audit", params={"target_type": "site", "target_id": s["id"]}
    ).json()["items"]
    assert [e["action"] for e in events] == ["site.update", "site.create"]
    assert events[0]["details"] == {"kind": "branch"}
