"""Journeys and ordered stages (SPEC §5)."""

from __future__ import annotations

import uuid

from tests.factories import Factory, journey, pain_point
from tests.helpers import assert_problem


def _names(j: dict) -> list[str]:  # type: ignore[type-arg]
    assert [s["position"] for s in j["stages"]] == list(range(len(j["stages"])))
    return [s["name"] for s in j["stages"]]


def test_create_with_stages_and_read_back(factory: Factory) -> None:
    manager, observer = factory.bearer("manager"), factory.bearer("observer")
    j = journey(manager, name="Return an item", stages=["Arrive", "Explain", "Refund"])
    assert _names(j) == ["Arrive", "Explain", "Refund"]
    got = observer.client.get(f"/api/v1/journeys/{j['id']}")
    assert got.status_code == 200
    assert got.headers["etag"]
    assert got.json() == j
    listed = observer.client.get("/api/v1/journeys").json()["items"]
    assert [x["id"] for x in listed] == [j["id"]]


def test_observers_cannot_manage(factory: Factory) -> None:
    observer = factory.bearer("observer")
    assert_problem(observer.client.post("/api/v1/journeys", json={"name": "X"}), 403)
    j = journey(factory.bearer("manager"))
    assert_problem(observer.client.patch(f"/api/v1/journeys/{j['id']}", json={"name": "Y"}), 403)
    assert_problem(
        observer.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "Y"}), 403
    )


def test_unique_names(factory: Factory) -> None:
    manager = factory.bearer("manager")
    j = journey(manager, name="Buy in store")
    assert_problem(manager.client.post("/api/v1/journeys", json={"name": "Buy in store"}), 409)
    r = manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "Queue"})
    assert_problem(r, 409)
    r = manager.client.post(
        "/api/v1/journeys", json={"name": "Dup", "stages": [{"name": "A"}, {"name": "A"}]}
    )
    assert_problem(r, 422, field="stages.1.name")


def test_insert_shifts_and_move_and_delete_keep_positions_contiguous(factory: Factory) -> None:
    manager = factory.bearer("manager")
    j = journey(manager, stages=["A", "B", "C"])
    r = manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "X", "position": 1})
    assert r.status_code == 201
    assert r.json()["position"] == 1
    x = r.json()["id"]
    assert _names(manager.client.get(f"/api/v1/journeys/{j['id']}").json()) == ["A", "X", "B", "C"]
    manager.client.post(f"/api/v1/journeys/{j['id']}/stages", json={"name": "Z", "position": 99})
    assert _names(manager.client.get(f"/api/v1/journeys/{j['id']}").json()) == [
        "A",
        "X",
        "B",
        "C",
        "Z",
    ]
    assert manager.client.patch(f"/api/v1/stages/{x}", json={"position": 3}).status_code == 200
    assert _names(manager.client.get(f"/api/v1/journeys/{j['id']}").json()) == [
        "A",
        "B",
        "C",
        "X",
        "Z",
    ]
    assert (
        manager.client.patch(
            f"/api/v1/stages/{x}", json={"position": 0, "name": "First"}
        ).status_code
        == 200
    )
    assert _names(manager.client.get(f"/api/v1/journeys/{j['id']}").json()) == [
        "First",
        "A",
        "B",
        "C",
        "Z",
    ]
    b = next(s for s in j["stages"] if s["name"] == "B")
    assert manager.client.delete(f"/api/v1/stages/{b['id']}").status_code == 204
    assert _names(manager.client.get(f"/api/v1/journeys/{j['id']}").json()) == [
        "First",
        "A",
        "C",
        "Z",
    ]


def test_stage_delete_is_409_while_pain_points_belong(factory: Factory) -> None:
    manager = factory.bearer("manager")
    j = journey(manager)
    stage = j["stages"][0]["id"]
    pain_point(manager, stage, "Door too heavy")
    assert_problem(manager.client.delete(f"/api/v1/stages/{stage}"), 409)
    assert_problem(manager.client.delete(f"/api/v1/stages/{uuid.uuid4()}"), 404)


def test_a_stage_whose_pain_points_were_merged_away_can_be_deleted(factory: Factory) -> None:
    manager = factory.bearer("manager")
    j = journey(manager)
    first, second = j["stages"][0]["id"], j["stages"][1]["id"]
    gone = pain_point(manager, first, "Door too heavy")
    kept = pain_point(manager, second, "Heavy door")
    r = manager.client.post(f"/api/v1/pain-points/{gone['id']}/merge", json={"into_id": kept["id"]})
    assert r.status_code == 200, r.text
    assert manager.client.delete(f"/api/v1/stages/{first}").status_code == 204
    # The alias still resolves to the survivor, which kept its stage.
    resolved = manager.client.get(f"/api/v1/pain-points/{gone['id']}").json()
    assert resolved["id"] == kept["id"]
    assert resolved["stage_id"] == second


def test_patch_archive_and_if_match(factory: Factory) -> None:
    manager = factory.bearer("manager")
    j = journey(manager)
    etag = manager.client.get(f"/api/v1/journeys/{j['id']}").headers["etag"]
    r = manager.client.patch(
        f"/api/v1/journeys/{j['id']}", json={"archived": True}, headers={"If-Match": etag}
    )
    assert r.status_code == 200
    assert r.json()["archived"] is True
    stale = manager.client.patch(
        f"/api/v1/journeys/{j['id']}", json={"name": "Q"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    assert manager.client.get("/api/v1/journeys", params={"archived": False}).json()["items"] == []
    assert (
        len(manager.client.get("/api/v1/journeys", params={"archived": True}).json()["items"]) == 1
    )


def test_idempotent_create(factory: Factory) -> None:
    manager, other = factory.bearer("manager"), factory.bearer("manager")
    body = {
        "id": str(uuid.uuid4()),
        "name": "Phone help",
        "stages": [{"name": "IVR"}, {"name": "Hold"}],
    }
    assert manager.client.post("/api/v1/journeys", json=body).status_code == 201
    again = manager.client.post("/api/v1/journeys", json=body)
    assert again.status_code == 200
    assert _names(again.json()) == ["IVR", "Hold"]
    assert_problem(manager.client.post("/api/v1/journeys", json={**body, "name": "Other"}), 409)
    assert_problem(other.client.post("/api/v1/journeys", json=body), 409)


def test_validation_errors_name_fields(factory: Factory) -> None:
    manager = factory.bearer("manager")
    assert_problem(manager.client.post("/api/v1/journeys", json={"name": ""}), 422, field="name")
    r = manager.client.post("/api/v1/journeys", json={"name": "x", "stages": [{"name": "a" * 201}]})
    assert_problem(r, 422, field="stages.0.name")
    assert_problem(manager.client.get("/api/v1/journeys/not-a-uuid"), 422, field="journey_id")
    assert_problem(manager.client.get(f"/api/v1/journeys/{uuid.uuid4()}"), 404)
