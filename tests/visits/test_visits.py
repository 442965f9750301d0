"""Visits: own for observers, all for managers; idempotent creates (SPEC §5)."""

from __future__ import annotations

import uuid

from tests.factories import Factory, site
from tests.helpers import assert_problem


def _visit(**extra: object) -> dict[str, object]:
    return {
        "started_at": "2026-11-20T09:00:00+01:00",
        "channel": "in_person",
        "customers_observed": 12,
        **extra,
    }


def test_visit_lifecycle_and_visibility(factory: Factory) -> None:
    manager, alice, bob = (
        factory.bearer("manager"),
        factory.bearer("observer"),
        factory.bearer("observer"),
    )
    s = site(manager)
    r = alice.client.post("/api/v1/visits", json=_visit(site_id=s["id"]))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["observer_id"] == alice.id
    assert v["started_at"] == "2026-11-20T08:00:00Z"
    assert_problem(bob.client.get(f"/api/v1/visits/{v['id']}"), 404)
    assert_problem(bob.client.patch(f"/api/v1/visits/{v['id']}", json={"notes": "x"}), 404)
    assert manager.client.get(f"/api/v1/visits/{v['id']}").status_code == 200
    assert bob.client.get("/api/v1/visits").json()["items"] == []
    assert [x["id"] for x in manager.client.get("/api/v1/visits").json()["items"]] == [v["id"]]
    r = alice.client.patch(
        f"/api/v1/visits/{v['id']}",
        json={"ended_at": "2026-11-20T10:30:00Z", "customers_observed": 40},
    )
    assert r.status_code == 200
    assert r.json()["customers_observed"] == 40
    r = alice.client.patch(f"/api/v1/visits/{v['id']}", json={"ended_at": "2026-11-20T07:00:00Z"})
    assert_problem(r, 422, field="ended_at")


def test_visit_validation(factory: Factory) -> None:
    alice = factory.bearer("observer")
    assert_problem(
        alice.client.post("/api/v1/visits", json=_visit(customers_observed=-1)),
        422,
        field="customers_observed",
    )
    assert_problem(
        alice.client.post("/api/v1/visits", json=_visit(started_at="2026-11-20T09:00:00")),
        422,
        field="started_at",
    )
    assert_problem(
        alice.client.post("/api/v1/visits", json=_visit(channel="pigeon")), 422, field="channel"
    )
    assert_problem(
        alice.client.post("/api/v1/visits", json=_visit(site_id=str(uuid.uuid4()))),
        422,
        field="site_id",
    )


def test_visit_create_is_idempotent(factory: Factory) -> None:
    alice, bob = factory.bearer("observer"), factory.bearer("observer")
    body = _visit(id=str(uuid.uuid4()))
    assert alice.client.post("/api/v1/visits", json=body).status_code == 201
    assert alice.client.post("/api/v1/visits", json=body).status_code == 200
    assert_problem(alice.client.post("/api/v1/visits", json={**body, "customers_observed": 3}), 409)
    assert_problem(bob.client.post("/api/v1/visits", json=body), 409)
