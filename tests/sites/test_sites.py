"""Sites (SPEC §5)."""

from __future__ import annotations

import uuid

from tests.factories import Factory, site
from tests.helpers import assert_problem


def test_sites_crud_roles_and_uniqueness(factory: Factory) -> None:
    manager, observer = factory.bearer("manager"), factory.bearer("observer")
    s = site(manager, name="Leeds High Street")
    assert s["kind"] == "store"
    assert s["archived"] is False
    assert_problem(manager.client.post("/api/v1/sites", json={"name": "Leeds High Street"}), 409)
    assert_problem(observer.client.post("/api/v1/sites", json={"name": "Mine"}), 403)
    assert observer.client.get(f"/api/v1/sites/{s['id']}").json()["name"] == "Leeds High Street"
    r = manager.client.patch(
        f"/api/v1/sites/{s['id']}", json={"archived": True, "address": "1 Briggate"}
    )
    assert r.status_code == 200
    assert r.json()["address"] == "1 Briggate"
    assert observer.client.get("/api/v1/sites", params={"archived": False}).json()["items"] == []
    assert_problem(observer.client.patch(f"/api/v1/sites/{s['id']}", json={"name": "x"}), 403)
    assert_problem(manager.client.get(f"/api/v1/sites/{uuid.uuid4()}"), 404)
    other = site(manager)
    assert_problem(
        manager.client.patch(f"/api/v1/sites/{other['id']}", json={"name": "Leeds High Street"}),
        409,
    )


def test_site_create_is_idempotent(factory: Factory) -> None:
    manager = factory.bearer("manager")
    body = {"id": str(uuid.uuid4()), "name": "Call centre", "kind": "call centre"}
    assert manager.client.post("/api/v1/sites", json=body).status_code == 201
    assert manager.client.post("/api/v1/sites", json=body).status_code == 200
    assert_problem(manager.client.post("/api/v1/sites", json={**body, "kind": "store"}), 409)
