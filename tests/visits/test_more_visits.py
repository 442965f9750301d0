"""Visits, further: list filters and keyset pagination, what observers and managers see,
replays judged on the payload (not its spelling), If-Match, and validation field names."""

from __future__ import annotations

import uuid
from typing import Any

from app.models import Role
from tests.factories import Actor, Factory, site, visit
from tests.helpers import assert_problem


def _ids(actor: Actor, **params: Any) -> list[str]:
    r = actor.client.get("/api/v1/visits", params=params)
    assert r.status_code == 200, r.text
    return [v["id"] for v in r.json()["items"]]


def test_filters_and_visibility(factory: Factory) -> None:
    manager, alice, bob = (
        factory.bearer(Role.manager),
        factory.bearer(Role.observer),
        factory.bearer(Role.observer),
    )
    leeds, york = site(manager), site(manager)
    a1 = visit(alice, site_id=leeds["id"], started_at="2026-11-18T09:00:00Z")["id"]
    a2 = visit(alice, site_id=york["id"], started_at="2026-11-19T09:00:00Z")["id"]
    b1 = visit(bob, site_id=leeds["id"], started_at="2026-11-20T09:00:00Z")["id"]
    # Newest first; observers see only their own, even when asking for someone else's.
    assert _ids(manager) == [b1, a2, a1]
    assert _ids(alice) == [a2, a1]
    assert _ids(alice, observer_id=bob.id) == []
    assert _ids(manager, observer_id=alice.id) == [a2, a1]
    assert _ids(manager, site_id=leeds["id"]) == [b1, a1]
    # from is inclusive, to exclusive; bare dates mean 00:00 UTC.
    assert _ids(manager, **{"from": "2026-11-19T09:00:00Z"}) == [b1, a2]
    assert _ids(manager, to="2026-11-19T09:00:00Z") == [a1]
    assert _ids(manager, **{"from": "2026-11-19", "to": "2026-11-20"}) == [a2]
    assert_problem(manager.client.get("/api/v1/visits", params={"from": "yesterday"}), 422, "from")
    assert_problem(manager.client.get("/api/v1/visits", params={"site_id": "x"}), 422, "site_id")


def test_keyset_pagination_is_stable_under_inserts(factory: Factory) -> None:
    alice = factory.bearer(Role.observer)
    made = [visit(alice, started_at=f"2026-11-{10 + i:02d}T09:00:00Z")["id"] for i in range(5)]
    # Two visits at the same instant are ordered by id, never skipped or repeated.
    made.append(visit(alice, started_at="2026-11-14T09:00:00Z")["id"])
    expected = _ids(alice, limit=500)
    assert set(expected) == set(made)
    page = alice.client.get("/api/v1/visits", params={"limit": 2}).json()
    seen = [v["id"] for v in page["items"]]
    visit(alice, started_at="2026-11-30T09:00:00Z")  # newer than the cursor: not in later pages
    while page["next_cursor"]:
        page = alice.client.get(
            "/api/v1/visits", params={"limit": 2, "cursor": page["next_cursor"]}
        ).json()
        seen += [v["id"] for v in page["items"]]
    assert seen == expected


def test_replay_with_another_spelling_of_the_same_instant_is_200(factory: Factory) -> None:
    alice, manager = factory.bearer(Role.observer), factory.bearer(Role.manager)
    body = {"id": str(uuid.uuid4()), "started_at": "2026-11-20T10:00:00+01:00", "purpose": "walk"}
    first = alice.client.post("/api/v1/visits", json=body)
    assert first.status_code == 201
    assert first.headers["etag"]
    same = alice.client.post(
        "/api/v1/visits", json={**body, "started_at": "2026-11-20T09:00:00Z", "notes": ""}
    )
    assert same.status_code == 200
    assert same.json() == first.json()
    assert_problem(alice.client.post("/api/v1/visits", json={**body, "purpose": "other"}), 409)
    # Even a manager cannot take over someone's id.
    assert_problem(manager.client.post("/api/v1/visits", json=body), 409)
    assert len(_ids(manager)) == 1


def test_patch_if_match_and_managers_edit_any(factory: Factory) -> None:
    alice, manager = factory.bearer(Role.observer), factory.bearer(Role.manager)
    v = visit(alice, channel="phone")
    url = f"/api/v1/visits/{v['id']}"
    etag = alice.client.get(url).headers["etag"]
    r = alice.client.patch(url, json={"notes": "busy"}, headers={"If-Match": etag})
    assert r.status_code == 200
    assert r.json()["notes"] == "busy"
    assert_problem(alice.client.patch(url, json={"notes": "x"}, headers={"If-Match": etag}), 412)
    r = manager.client.patch(url, json={"channel": None, "customers_observed": 0})
    assert r.status_code == 200
    assert (r.json()["channel"], r.json()["customers_observed"]) == (None, 0)
    assert r.json()["observer_id"] == alice.id


def test_validation_names_fields(factory: Factory) -> None:
    alice = factory.bearer(Role.observer)
    c = alice.client
    r = c.post(
        "/api/v1/visits",
        json={"started_at": "2026-11-20T10:00:00Z", "ended_at": "2026-11-20T09:00:00Z"},
    )
    assert_problem(r, 422, "ended_at")
    assert_problem(c.post("/api/v1/visits", json={}), 422, "started_at")
    assert_problem(
        c.post(
            "/api/v1/visits", json={"started_at": "2026-11-20T10:00:00Z", "purpose": "p" * 1001}
        ),
        422,
        "purpose",
    )
    assert_problem(
        c.post("/api/v1/visits", json={"started_at": "2026-11-20T10:00:00Z", "observer_id": "x"}),
        422,
        "observer_id",
    )
    v = visit(alice)
    url = f"/api/v1/visits/{v['id']}"
    assert_problem(c.patch(url, json={"started_at": None}), 422, "started_at")
    assert_problem(
        c.patch(
            url, json={"started_at": "2026-11-21T00:00:00Z", "ended_at": "2026-11-20T12:00:00Z"}
        ),
        422,
        "ended_at",
    )
    assert_problem(c.patch(url, json={"site_id": str(uuid.uuid4())}), 422, "site_id")
    assert_problem(c.get("/api/v1/visits/not-a-uuid"), 422, "visit_id")
    assert_problem(c.get(f"/api/v1/visits/{uuid.uuid4()}"), 404)
