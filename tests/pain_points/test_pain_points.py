"""Pain points: duplicates become aliases, typo-tolerant search, ordering, edits, merges."""

from __future__ import annotations

import uuid

from tests.helpers import assert_problem
from tests.world import World


def _obs(world: World, *tags: tuple[str, int], who: str = "alice", **extra: object) -> dict:  # type: ignore[type-arg]
    actor = getattr(world, who)
    body = world.obs(pain_points=[{"pain_point_id": p, "severity": s} for p, s in tags], **extra)
    r = actor.client.post("/api/v1/observations", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_observers_create_and_duplicates_become_aliases(world: World) -> None:
    new_id = str(uuid.uuid4())
    body = {
        "id": new_id,
        "title": "  asked for RECEIPT, three times!! ",
        "stage_id": world.stage(2),
    }
    r = world.alice.client.post("/api/v1/pain-points", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == world.pp["receipt"]["id"]
    # The alias works everywhere: GET, tags, filters.
    assert (
        world.alice.client.get(f"/api/v1/pain-points/{new_id}").json()["id"]
        == world.pp["receipt"]["id"]
    )
    o = _obs(world, (new_id, 4))
    assert o["pain_points"] == [{"pain_point_id": world.pp["receipt"]["id"], "severity": 4}]
    filtered = world.manager.client.get(
        "/api/v1/observations", params={"pain_point_id": new_id}
    ).json()
    assert [x["id"] for x in filtered["items"]] == [o["id"]]
    # Replaying the create answers the same; the same title in another stage is another pain point.
    assert (
        world.alice.client.post("/api/v1/pain-points", json=body).json()["id"]
        == world.pp["receipt"]["id"]
    )
    r = world.alice.client.post(
        "/api/v1/pain-points", json={**body, "id": str(uuid.uuid4()), "stage_id": world.stage(0)}
    )
    assert r.status_code == 201


def test_create_validation_and_idempotency(world: World) -> None:
    c = world.alice.client
    assert_problem(
        c.post("/api/v1/pain-points", json={"title": "", "stage_id": world.stage(0)}),
        422,
        field="title",
    )
    assert_problem(
        c.post("/api/v1/pain-points", json={"title": "?!", "stage_id": world.stage(0)}),
        422,
        field="title",
    )
    assert_problem(
        c.post("/api/v1/pain-points", json={"title": "x", "stage_id": str(uuid.uuid4())}),
        422,
        field="stage_id",
    )
    assert_problem(
        c.post(
            "/api/v1/pain-points",
            json={"title": "x", "stage_id": world.stage(0), "layer": "middle"},
        ),
        422,
        field="layer",
    )
    body = {
        "id": str(uuid.uuid4()),
        "title": "Door is heavy",
        "stage_id": world.stage(0),
        "layer": "support",
    }
    first = c.post("/api/v1/pain-points", json=body)
    assert first.status_code == 201
    assert first.json()["layer"] == "support"
    assert first.json()["created_by"] == world.alice.id
    assert c.post("/api/v1/pain-points", json=body).status_code == 200
    assert_problem(c.post("/api/v1/pain-points", json={**body, "title": "Door is light"}), 409)
    assert_problem(world.bob.client.post("/api/v1/pain-points", json=body), 409)


def test_typo_tolerant_search(world: World) -> None:
    r = world.alice.client.get("/api/v1/pain-points", params={"q": "recipt"})
    items = r.json()["items"]
    assert items[0]["id"] == world.pp["receipt"]["id"]
    assert 0 < items[0]["match_score"] <= 1
    assert all(i["id"] != world.pp["refund"]["id"] for i in items)
    scoped = world.alice.client.get(
        "/api/v1/pain-points", params={"q": "sizes", "journey_id": world.journey["id"]}
    )
    assert scoped.json()["items"] == []


def test_list_orders_by_all_time_count(world: World) -> None:
    for _ in range(3):
        _obs(world, (world.pp["refund"]["id"], 2))
    _obs(world, (world.pp["queue"]["id"], 2))
    listed = world.alice.client.get(
        "/api/v1/pain-points", params={"journey_id": world.journey["id"]}
    ).json()["items"]
    assert [p["id"] for p in listed] == [world.pp[k]["id"] for k in ("refund", "queue", "receipt")]
    assert [p["observation_count"] for p in listed] == [3, 1, 0]
    assert listed[0]["last_seen_at"] == "2026-11-20T09:15:00Z"
    page = world.alice.client.get(
        "/api/v1/pain-points", params={"journey_id": world.journey["id"], "limit": 2}
    ).json()
    rest = world.alice.client.get(
        "/api/v1/pain-points",
        params={"journey_id": world.journey["id"], "limit": 2, "cursor": page["next_cursor"]},
    ).json()
    assert [p["id"] for p in page["items"] + rest["items"]] == [p["id"] for p in listed]
    assert rest["next_cursor"] is None
    by_stage = world.alice.client.get(
        "/api/v1/pain-points", params={"stage_id": world.stage(1)}
    ).json()["items"]
    assert [p["id"] for p in by_stage] == [world.pp["queue"]["id"]]


def test_patch_moves_within_journey_and_archives(world: World) -> None:
    m = world.manager.client
    pid = world.pp["queue"]["id"]
    assert_problem(world.alice.client.patch(f"/api/v1/pain-points/{pid}", json={"title": "x"}), 403)
    r = m.patch(
        f"/api/v1/pain-points/{pid}",
        json={"stage_id": world.stage(0), "layer": None, "title": "Queue outside"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["stage_id"], r.json()["layer"], r.json()["title"]) == (
        world.stage(0),
        None,
        "Queue outside",
    )
    other_stage = world.other_journey["stages"][0]["id"]
    assert_problem(
        m.patch(f"/api/v1/pain-points/{pid}", json={"stage_id": other_stage}), 422, field="stage_id"
    )
    assert_problem(
        m.patch(f"/api/v1/pain-points/{pid}", json={"status": "merged"}), 422, field="status"
    )
    r = m.patch(f"/api/v1/pain-points/{pid}", json={"status": "archived"})
    assert r.json()["status"] == "archived"
    archived = m.get("/api/v1/pain-points", params={"status": "archived"}).json()["items"]
    assert [p["id"] for p in archived] == [pid]
    etag = m.get(f"/api/v1/pain-points/{pid}").headers["etag"]
    m.patch(f"/api/v1/pain-points/{pid}", json={"description": "seen weekly"})
    assert_problem(
        m.patch(
            f"/api/v1/pain-points/{pid}", json={"description": "x"}, headers={"If-Match": etag}
        ),
        412,
    )


def test_merge_repoints_tags_keeps_higher_severity_and_counts_once(world: World) -> None:
    m = world.manager.client
    src, dst = world.pp["receipt"]["id"], world.pp["refund"]["id"]
    both = _obs(world, (src, 5), (dst, 2))
    both_low = _obs(world, (src, 1), (dst, 4))
    only_src = _obs(world, (src, 3))
    assert_problem(
        world.alice.client.post(f"/api/v1/pain-points/{src}/merge", json={"into_id": dst}), 403
    )
    r = m.post(f"/api/v1/pain-points/{src}/merge", json={"into_id": dst})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == dst
    assert r.json()["observation_count"] == 3
    got = {
        o: m.get(f"/api/v1/observations/{o}").json()["pain_points"]
        for o in (both["id"], both_low["id"], only_src["id"])
    }
    assert got[both["id"]] == [{"pain_point_id": dst, "severity": 5}]
    assert got[both_low["id"]] == [{"pain_point_id": dst, "severity": 4}]
    assert got[only_src["id"]] == [{"pain_point_id": dst, "severity": 3}]
    # The merged id keeps working: GET answers the survivor, tags and filters resolve.
    assert m.get(f"/api/v1/pain-points/{src}").json()["id"] == dst
    new = _obs(world, (src, 2))
    assert new["pain_points"] == [{"pain_point_id": dst, "severity": 2}]
    assert len(m.get("/api/v1/observations", params={"pain_point_id": src}).json()["items"]) == 4
    merged = m.get("/api/v1/pain-points", params={"status": "merged"}).json()["items"]
    assert [(p["id"], p["merged_into_id"]) for p in merged] == [(src, dst)]


def test_merge_conflicts(world: World) -> None:
    m = world.manager.client
    a, b, c = world.pp["receipt"]["id"], world.pp["queue"]["id"], world.pp["refund"]["id"]
    assert_problem(m.post(f"/api/v1/pain-points/{a}/merge", json={"into_id": a}), 409)
    assert_problem(
        m.post(f"/api/v1/pain-points/{a}/merge", json={"into_id": world.pp["elsewhere"]["id"]}), 409
    )
    m.patch(f"/api/v1/pain-points/{c}", json={"status": "archived"})
    assert_problem(m.post(f"/api/v1/pain-points/{a}/merge", json={"into_id": c}), 409)
    assert m.post(f"/api/v1/pain-points/{a}/merge", json={"into_id": b}).status_code == 200
    assert_problem(
        m.post(f"/api/v1/pain-points/{b}/merge", json={"into_id": a}), 409
    )  # into a merged one
    assert_problem(m.post(f"/api/v1/pain-points/{uuid.uuid4()}/merge", json={"into_id": b}), 404)


def test_merge_chains_flatten_and_aliases_follow(world: World) -> None:
    m = world.manager.client
    a, b, c = world.pp["receipt"]["id"], world.pp["queue"]["id"], world.pp["refund"]["id"]
    alias = str(uuid.uuid4())
    world.alice.client.post(
        "/api/v1/pain-points",
        json={"id": alias, "title": "asked for receipt three times", "stage_id": world.stage(2)},
    )
    m.post(f"/api/v1/pain-points/{a}/merge", json={"into_id": b})
    m.post(f"/api/v1/pain-points/{b}/merge", json={"into_id": c})
    for given in (a, b, alias):
        assert m.get(f"/api/v1/pain-points/{given}").json()["id"] == c
    merged = {
        p["id"]: p["merged_into_id"]
        for p in m.get("/api/v1/pain-points", params={"status": "merged"}).json()["items"]
    }
    assert merged == {a: c, b: c}
