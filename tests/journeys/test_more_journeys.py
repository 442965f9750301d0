"""Journeys and stages, further: stage idempotency, roles on stage writes, ETags and If-Match on
stages, moves at the edges, pagination, the archived filter, audit, and null/limit validation."""

from __future__ import annotations

import uuid
from typing import Any

from app.models import Role
from tests.factories import Actor, Factory, journey
from tests.helpers import assert_problem


def _order(actor: Actor, journey_id: str) -> list[str]:
    body = actor.client.get(f"/api/v1/journeys/{journey_id}").json()
    assert [s["position"] for s in body["stages"]] == list(range(len(body["stages"])))
    return [s["name"] for s in body["stages"]]


def _stage(j: dict[str, Any], name: str) -> str:
    return str(next(s["id"] for s in j["stages"] if s["name"] == name))


def test_stage_writes_are_for_managers_and_reads_for_everyone(factory: Factory) -> None:
    manager, observer = factory.bearer(Role.manager), factory.bearer(Role.observer)
    j = journey(manager, stages=["A", "B"])
    a = _stage(j, "A")
    assert_problem(observer.client.patch(f"/api/v1/stages/{a}", json={"name": "Z"}), 403)
    assert_problem(observer.client.delete(f"/api/v1/stages/{a}"), 403)
    r = observer.client.get(f"/api/v1/stages/{a}")
    assert r.status_code == 200
    assert r.json() == j["stages"][0]
    assert r.headers["etag"]
    browser = factory.browser(Role.admin)
    r = browser.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "C"})
    assert r.status_code == 201, r.text
    assert _order(observer, j["id"]) == ["A", "B", "C"]


def test_create_stage_is_idempotent_and_404s_on_unknown_journey(factory: Factory) -> None:
    manager, other = factory.bearer(Role.manager), factory.bearer(Role.manager)
    j = journey(manager, stages=["A"])
    body = {"id": str(uuid.uuid4()), "name": "B", "position": 0}
    first = manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json=body)
    assert first.status_code == 201
    again = manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert _order(manager, j["id"]) == ["B", "A"]
    assert_problem(
        manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={**body, "name": "C"}),
        409,
    )
    assert_problem(
        other.client.post(f"/api/v1/journeys/{uuid.uuid4()}/stages", json={"name": "X"}), 404
    )


def test_a_replayed_create_is_judged_on_what_was_sent_and_by_whom(factory: Factory) -> None:
    """SPEC §3: 200 only for the same user and an equivalent payload, whatever happened to the
    resource since; 409 otherwise."""
    manager, other = factory.bearer(Role.manager), factory.bearer(Role.manager)
    j = journey(manager, stages=["A"])
    url = f"/api/v1/journeys/{j['id']}/stages"
    body = {"id": str(uuid.uuid4()), "name": "B", "position": 0}
    assert manager.client.post(url, json=body).status_code == 201
    assert_problem(other.client.post(url, json=body), 409)
    assert_problem(manager.client.post(url, json={**body, "position": 1}), 409)
    # The stage is renamed and the journey grows: the original create still replays as 200.
    r = manager.client.patch(f"/api/v1/stages/{body['id']}", json={"name": "Queue"})
    assert r.status_code == 200
    assert manager.client.post(url, json=body).status_code == 200

    jbody = {"id": str(uuid.uuid4()), "name": "Phone help", "stages": [{"name": "IVR"}]}
    assert manager.client.post("/api/v1/journeys", json=jbody).status_code == 201
    more = manager.client.post(f"/api/v1/journeys/{jbody['id']}/stages", json={"name": "Hold"})
    assert more.status_code == 201
    assert manager.client.post("/api/v1/journeys", json=jbody).status_code == 200

    sbody = {"id": str(uuid.uuid4()), "name": "Leeds", "kind": "store"}
    assert manager.client.post("/api/v1/sites", json=sbody).status_code == 201
    r = manager.client.patch(f"/api/v1/sites/{sbody['id']}", json={"address": "1 Briggate"})
    assert r.status_code == 200
    assert manager.client.post("/api/v1/sites", json=sbody).status_code == 200
    assert_problem(other.client.post("/api/v1/sites", json=sbody), 409)


def test_moves_at_the_edges_and_rename_conflicts(factory: Factory) -> None:
    manager = factory.bearer(Role.manager)
    j = journey(manager, stages=["A", "B", "C", "D"])
    a, d = _stage(j, "A"), _stage(j, "D")
    assert manager.client.patch(f"/api/v1/stages/{a}", json={"position": 3}).json()["position"] == 3
    assert _order(manager, j["id"]) == ["B", "C", "D", "A"]
    # Beyond the end means last; moving to where it already is changes nothing.
    assert (
        manager.client.patch(f"/api/v1/stages/{d}", json={"position": 50}).json()["position"] == 3
    )
    assert _order(manager, j["id"]) == ["B", "C", "A", "D"]
    assert manager.client.patch(f"/api/v1/stages/{d}", json={"position": 3}).status_code == 200
    assert _order(manager, j["id"]) == ["B", "C", "A", "D"]
    assert_problem(manager.client.patch(f"/api/v1/stages/{a}", json={"name": "B"}), 409)
    # A failed rename moves nothing.
    assert_problem(
        manager.client.patch(f"/api/v1/stages/{a}", json={"name": "B", "position": 0}), 409
    )
    assert _order(manager, j["id"]) == ["B", "C", "A", "D"]
    # The same stage name is fine in another journey.
    assert journey(manager, stages=["A", "B"])["stages"][0]["name"] == "A"


def test_stage_etag_changes_when_a_neighbour_moves_it(factory: Factory) -> None:
    manager = factory.bearer(Role.manager)
    j = journey(manager, stages=["A", "B"])
    b = _stage(j, "B")
    etag = manager.client.get(f"/api/v1/stages/{b}").headers["etag"]
    journey_etag = manager.client.get(f"/api/v1/journeys/{j['id']}").headers["etag"]
    manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "First", "position": 0})
    assert manager.client.get(f"/api/v1/stages/{b}").json()["position"] == 2
    assert manager.client.get(f"/api/v1/journeys/{j['id']}").headers["etag"] != journey_etag
    stale = manager.client.patch(
        f"/api/v1/stages/{b}", json={"name": "Bee"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    fresh = manager.client.get(f"/api/v1/stages/{b}").headers["etag"]
    r = manager.client.patch(
        f"/api/v1/stages/{b}", json={"name": "Bee"}, headers={"If-Match": fresh}
    )
    assert r.status_code == 200
    assert r.headers["etag"] != fresh


def test_delete_stage_shifts_and_unknown_is_404(factory: Factory) -> None:
    manager = factory.bearer(Role.manager)
    j = journey(manager, stages=["A", "B", "C"])
    assert manager.client.delete(f"/api/v1/stages/{_stage(j, 'A')}").status_code == 204
    assert _order(manager, j["id"]) == ["B", "C"]
    assert_problem(manager.client.get(f"/api/v1/stages/{_stage(j, 'A')}"), 404)
    assert_problem(manager.client.delete(f"/api/v1/stages/{_stage(j, 'A')}"), 404)
    assert_problem(manager.client.patch(f"/api/v1/stages/{uuid.uuid4()}", json={"name": "x"}), 404)


def test_list_pagination_and_archived_filter(factory: Factory) -> None:
    manager, observer = factory.bearer(Role.manager), factory.bearer(Role.observer)
    made = [journey(manager, name=f"J{i:02d}", stages=["S"]) for i in range(5)]
    manager.client.patch(f"/api/v1/journeys/{made[1]['id']}", json={"archived": True})
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = observer.client.get("/api/v1/journeys", params=params).json()
        assert len(page["items"]) <= 2
        seen += [j["name"] for j in page["items"]]
        assert all(j["stages"][0]["name"] == "S" for j in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"J{i:02d}" for i in range(5)]
    active = observer.client.get("/api/v1/journeys", params={"archived": "false"}).json()
    assert [j["name"] for j in active["items"]] == ["J00", "J02", "J03", "J04"]
    assert_problem(observer.client.get("/api/v1/journeys", params={"limit": 0}), 422, "limit")
    assert_problem(observer.client.get("/api/v1/journeys", params={"limit": 501}), 422, "limit")
    assert_problem(observer.client.get("/api/v1/journeys", params={"archived": "maybe"}), 422)


def test_validation_names_fields(factory: Factory) -> None:
    manager = factory.bearer(Role.manager)
    j = journey(manager, stages=["A"])
    c = manager.client
    assert_problem(c.patch(f"/api/v1/journeys/{j['id']}", json={"name": None}), 422, "name")
    assert_problem(c.patch(f"/api/v1/journeys/{j['id']}", json={"archived": None}), 422, "archived")
    assert_problem(c.patch(f"/api/v1/journeys/{j['id']}", json={"colour": "red"}), 422, "colour")
    a = _stage(j, "A")
    assert_problem(c.patch(f"/api/v1/stages/{a}", json={"position": -1}), 422, "position")
    assert_problem(c.patch(f"/api/v1/stages/{a}", json={"name": None}), 422, "name")
    assert_problem(
        c.post("/api/v1/journeys", json={"name": "x", "description": "d" * 4001}),
        422,
        "description",
    )
    too_many = [{"name": f"S{i}"} for i in range(51)]
    assert_problem(
        c.post("/api/v1/journeys", json={"name": "x", "stages": too_many}), 422, "stages"
    )
    assert_problem(
        c.post("/api/v1/journeys", json={"name": "x", "stages": [{}]}), 422, "stages.0.name"
    )
    r = c.post(
        "/api/v1/journeys", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 422)


def test_every_change_is_audited(factory: Factory) -> None:
    manager, admin = factory.bearer(Role.manager), factory.bearer(Role.admin)
    j = journey(manager, stages=["A", "B"])
    manager.client.patch(f"/api/v1/journeys/{j['id']}", json={"description": "returns"})
    s = manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "C"}).json()
    manager.client.patch(f"/api/v1/stages/{s['id']}", json={"position": 0})
    manager.client.delete(f"/api/v1/stages/{s['id']}")
    events = admin.client.get("/api/v1/audit", params={"limit": 50}).json()["items"]
    mine = [(e["action"], e["target_id"]) for e in events if e["actor_id"] == manager.id]
    assert ("journey.create", j["id"]) in mine
    assert ("journey.update", j["id"]) in mine
    for action in ("stage.create", "stage.update", "stage.delete"):
        assert (action, s["id"]) in mine
