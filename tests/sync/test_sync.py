"""POST /api/v1/sync: dependency order, item-by-item results, replays (sequential and
concurrent), and the limits."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from app.models import Observation, ObservationTag
from app.sync.schemas import SyncResult
from tests.helpers import assert_problem
from tests.world import World


def sync(client: TestClient, **lists: list[Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/sync", json=lists)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def tag(world: World, name: str, severity: int = 3) -> dict[str, Any]:
    return {"pain_point_id": world.pp[name]["id"], "severity": severity}


def stored(app: FastAPI) -> int:
    with Session(app.state.engine) as s:
        return int(s.scalar(select(func.count()).select_from(Observation)) or 0)


def test_new_pain_point_and_visit_are_usable_by_later_observations(world: World) -> None:
    pp = {"id": str(uuid.uuid4()), "title": "Card reader broken", "stage_id": world.stage(1)}
    visit = {"id": str(uuid.uuid4()), "site_id": world.site["id"], "channel": "phone",
             "started_at": "2026-11-20T08:00:00Z"}  # fmt: skip
    obs = world.obs(visit_id=visit["id"], pain_points=[{"pain_point_id": pp["id"], "severity": 5}])
    results = sync(world.alice.client, observations=[obs], visits=[visit], pain_points=[pp])
    assert [(r["kind"], r["id"], r["status"]) for r in results] == [
        ("pain_point", pp["id"], "created"),
        ("visit", visit["id"], "created"),
        ("observation", obs["id"], "created"),
    ]
    got = world.alice.client.get(f"/api/v1/observations/{obs['id']}").json()
    assert got["site_id"] == world.site["id"]
    assert got["channel"] == "phone"
    assert got["pain_points"] == [{"pain_point_id": pp["id"], "severity": 5}]


def test_items_sent_without_an_id_get_time_ordered_ids(world: World) -> None:
    """The server makes version-7 UUIDs (app.models.base.new_id), in order of creation."""
    pp = {"title": "Scanner beeps twice", "stage_id": world.stage(1)}
    items = [world.obs(pain_points=[tag(world, "queue")]) for _ in range(3)]
    for item in items:
        del item["id"]
    results = sync(world.alice.client, pain_points=[pp], observations=items)
    single = world.obs(pain_points=[tag(world, "queue")])
    del single["id"]
    created = world.alice.client.post("/api/v1/observations", json=single)
    assert created.status_code == 201, created.text
    ids = [uuid.UUID(r["id"]) for r in results] + [uuid.UUID(created.json()["id"])]
    assert [r["status"] for r in results] == ["created"] * 4
    assert [i.version for i in ids] == [7] * 5
    assert ids[1:] == sorted(ids[1:])  # the observations, in the order they were made


def test_a_bad_item_never_blocks_the_rest(world: World) -> None:
    good = [world.obs(pain_points=[tag(world, "queue")]) for _ in range(3)]
    wrong_journey = world.obs(pain_points=[tag(world, "elsewhere")])
    schema_invalid = world.obs(pain_points=[tag(world, "queue", 9)])
    not_an_object = "hello"
    empty = world.obs(note="")
    items = [good[0], wrong_journey, good[1], schema_invalid, not_an_object, empty, good[2]]
    results = sync(world.alice.client, observations=items)
    assert [r["status"] for r in results] == [
        "created", "error", "created", "error", "error", "error", "created"
    ]  # fmt: skip
    assert results[1]["id"] == wrong_journey["id"]
    assert results[1]["error"]["status"] == 422
    assert results[1]["error"]["errors"][0]["field"] == "pain_points.0.pain_point_id"
    assert results[3]["id"] == schema_invalid["id"]
    assert results[3]["error"]["errors"][0]["field"] == "pain_points.0.severity"
    assert results[4]["id"] is None
    assert results[5]["error"]["errors"][0]["field"] == "note"
    for r in (results[1], results[3], results[5]):
        assert {"type", "title", "status", "detail"} <= set(r["error"])
    listed = {o["id"] for o in world.alice.client.get("/api/v1/observations").json()["items"]}
    assert listed == {o["id"] for o in good}


def test_bad_pain_point_and_visit_items_do_not_block_observations(world: World) -> None:
    bad_pp = {"title": "", "stage_id": world.stage(0)}
    bad_visit = {"site_id": str(uuid.uuid4()), "started_at": "2026-11-20T08:00:00Z"}
    obs = world.obs()
    results = sync(world.alice.client, pain_points=[bad_pp], visits=[bad_visit],
                   observations=[obs])  # fmt: skip
    assert [r["status"] for r in results] == ["error", "error", "created"]
    assert results[0]["error"]["status"] == 422


def test_replays_exist_and_conflicts_are_409(world: World, app: FastAPI) -> None:
    items = [world.obs(pain_points=[tag(world, "refund", 2)]) for _ in range(4)]
    assert {r["status"] for r in sync(world.alice.client, observations=items)} == {"created"}
    # Same content again (key order and defaults do not matter): exists; nothing changes.
    again = [dict(reversed(list(o.items())), customer_goal="") for o in items]
    assert {r["status"] for r in sync(world.alice.client, observations=again)} == {"exists"}
    # Another observer, or other content under a known id: a 409 problem, nothing overwritten.
    changed = {**items[0], "note": "something else"}
    r = sync(world.alice.client, observations=[changed])[0]
    assert (r["status"], r["error"]["status"]) == ("error", 409)
    r = sync(world.bob.client, observations=[items[1]])[0]
    assert (r["status"], r["error"]["status"]) == ("error", 409)
    # The same id twice inside one batch: stored once.
    twin = world.obs()
    results = sync(world.alice.client, observations=[twin, twin, {**twin, "note": "other"}])
    assert [r["status"] for r in results] == ["created", "exists", "error"]
    assert stored(app) == 5
    got = world.alice.client.get(f"/api/v1/observations/{items[0]['id']}").json()
    assert got["note"] == items[0]["note"]


def test_a_deleted_observation_is_never_revived(world: World, app: FastAPI) -> None:
    obs = world.obs()
    sync(world.alice.client, observations=[obs])
    world.alice.client.delete(f"/api/v1/observations/{obs['id']}")
    r = sync(world.alice.client, observations=[obs])[0]
    assert (r["status"], r["error"]["status"]) == ("error", 410)
    assert world.manager.client.get("/api/v1/observations").json()["items"] == []


def test_alias_and_merged_ids_resolve(world: World) -> None:
    # A duplicate title in the stage answers with the existing pain point: its id an alias.
    alias_id = uuid.uuid4()
    dup = world.alice.client.post(
        "/api/v1/pain-points",
        json={"id": str(alias_id), "title": "asked for RECEIPT three times!",
              "stage_id": world.stage(2)},
    )  # fmt: skip
    assert (dup.status_code, dup.json()["id"]) == (200, world.pp["receipt"]["id"]), dup.text
    obs = world.obs(pain_points=[{"pain_point_id": str(alias_id), "severity": 4}])
    assert sync(world.alice.client, observations=[obs])[0]["status"] == "created"
    got = world.alice.client.get(f"/api/v1/observations/{obs['id']}").json()
    assert got["pain_points"] == [{"pain_point_id": world.pp["receipt"]["id"], "severity": 4}]
    # An alias and its canonical id in one observation are one pain point tagged twice.
    both = world.obs(pain_points=[{"pain_point_id": str(alias_id), "severity": 4},
                                  tag(world, "receipt")])  # fmt: skip
    r = sync(world.alice.client, observations=[both])[0]
    assert r["error"]["errors"][0]["field"] == "pain_points.1.pain_point_id"
    listed = world.manager.client.get(
        "/api/v1/observations", params={"pain_point_id": str(alias_id)}
    ).json()["items"]
    assert [o["id"] for o in listed] == [obs["id"]]
    # A merged pain point's id resolves to the survivor, in tags and in the filter.
    m = world.manager.client
    merged = m.post(
        "/api/v1/pain-points", json={"title": "Refund is slow", "stage_id": world.stage(3)}
    ).json()
    r = m.post(
        f"/api/v1/pain-points/{merged['id']}/merge", json={"into_id": world.pp["refund"]["id"]}
    )
    assert r.status_code == 200, r.text
    late = world.obs(pain_points=[{"pain_point_id": merged["id"], "severity": 2}])
    assert sync(world.alice.client, observations=[late])[0]["status"] == "created"
    got = world.alice.client.get(f"/api/v1/observations/{late['id']}").json()
    assert got["pain_points"] == [{"pain_point_id": world.pp["refund"]["id"], "severity": 2}]
    listed = m.get("/api/v1/observations", params={"pain_point_id": merged["id"]}).json()["items"]
    assert [o["id"] for o in listed] == [late["id"]]


def test_limits(world: World) -> None:
    body = {"observations": [world.obs() for _ in range(600)], "visits": [{}] * 401}
    assert_problem(world.alice.client.post("/api/v1/sync", json=body), 422, field="observations")
    assert_problem(world.alice.client.post("/api/v1/sync", json={"other": []}), 422, field="other")
    assert_problem(world.alice.client.post("/api/v1/sync", json=[1]), 422)
    assert (
        sync(world.alice.client, observations=[world.obs() for _ in range(1000)])[-1]["status"]
        == "created"
    )


def test_a_full_batch_stores_every_field_and_tag(world: World, app: FastAPI) -> None:
    """1,000 observations with two tags each: several bulk statements per table on both
    databases (the bulk insert splits rows into statements); every value lands as sent."""
    names = ["receipt", "queue", "refund"]
    batch = [
        world.obs(
            pain_points=[tag(world, names[i % 3], 1 + i % 5), tag(world, names[(i + 1) % 3], 2)],
            site_id=world.site["id"],
            channel="phone",
            customer_minutes_lost=i,
            location={"lat": 51.5, "lon": -0.12 + i / 1000, "accuracy_m": 20},
            note=f"bulk {i}",
        )
        for i in range(1000)
    ]
    results = sync(world.alice.client, observations=batch)
    assert [r["status"] for r in results] == ["created"] * 1000
    assert [r["id"] for r in results] == [o["id"] for o in batch]
    with Session(app.state.engine) as s:
        assert s.scalar(select(func.count()).select_from(ObservationTag)) == 2000
    for i in (0, 499, 500, 999):
        got = world.alice.client.get(f"/api/v1/observations/{batch[i]['id']}").json()
        assert got["note"] == f"bulk {i}"
        assert got["site_id"] == world.site["id"]
        assert got["channel"] == "phone"
        assert got["customer_minutes_lost"] == i
        assert got["location"] == batch[i]["location"]
        assert got["observed_at"] == "2026-11-20T09:15:00Z"
        assert sorted((t["pain_point_id"], t["severity"]) for t in got["pain_points"]) == sorted(
            (t["pain_point_id"], t["severity"]) for t in batch[i]["pain_points"]
        )
    # Replayed whole: nothing is stored twice.
    assert {r["status"] for r in sync(world.alice.client, observations=batch)} == {"exists"}
    assert stored(app) == 1000


def test_one_batch_replayed_sequentially_and_concurrently_is_stored_once(
    world: World, app: FastAPI
) -> None:
    batch = [
        world.obs(pain_points=[tag(world, "queue", 1 + i % 5)], note=f"obs {i}") for i in range(300)
    ]
    token = world.alice.client.headers["Authorization"]
    for _ in range(3):
        results = sync(world.alice.client, observations=batch)
        assert len(results) == 300
        assert all(r["status"] in {"created", "exists"} for r in results)
    assert stored(app) == 300

    fresh = [
        world.obs(pain_points=[tag(world, "refund", 1 + i % 5)], note=f"again {i}")
        for i in range(300)
    ]

    def replay(_: int) -> list[str]:
        # No `with`: leaving a TestClient runs the app's shutdown, which disposes the engine
        # while the other threads still hold connections.
        c = TestClient(app, raise_server_exceptions=False)
        try:
            c.headers["Authorization"] = token
            return [r["status"] for r in sync(c, observations=fresh)]
        finally:
            c.close()

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(replay, range(3)))
    # Every item is created by exactly one of the racing replays; the others see it exist.
    for i in range(300):
        assert sorted(o[i] for o in outcomes) == ["created", "exists", "exists"]
    assert stored(app) == 600
    with Session(app.state.engine) as s:
        tags = s.scalar(select(func.count()).select_from(ObservationTag))
    assert tags == 600


def test_concurrent_single_writers_never_fail(world: World, app: FastAPI) -> None:
    token = world.alice.client.headers["Authorization"]

    def writer(n: int) -> list[int]:
        c = TestClient(app, raise_server_exceptions=False)  # no `with`: see the test above
        try:
            c.headers["Authorization"] = token
            return [
                c.post("/api/v1/observations", json=world.obs(note=f"w{n} {i}")).status_code
                for i in range(15)
            ]
        finally:
            c.close()

    with ThreadPoolExecutor(8) as pool:
        codes = [code for result in pool.map(writer, range(8)) for code in result]
    assert codes == [201] * 120
    assert stored(app) == 120


def test_stored_items_are_judged_on_what_is_stored_in_a_mixed_batch(world: World) -> None:
    """The bulk path learns what exists from its insert: replays that would now fail the
    checks, ids sent twice, deleted ones and new ones in one batch each get their own answer."""
    visit = {"id": str(uuid.uuid4()), "site_id": world.site["id"], "channel": "phone",
             "started_at": "2026-11-20T08:00:00Z"}  # fmt: skip
    with_visit = world.obs(visit_id=visit["id"])
    deleted, kept = world.obs(), world.obs(pain_points=[tag(world, "queue", 4)])
    results = sync(world.alice.client, visits=[visit], observations=[with_visit, deleted, kept])
    assert [r["status"] for r in results] == ["created"] * 4
    world.alice.client.delete(f"/api/v1/observations/{deleted['id']}")
    new = world.obs()
    results = sync(
        world.alice.client,
        observations=[kept, new, deleted, kept, deleted, {**new, "note": "other"}, new],
    )
    assert [(r["status"], (r.get("error") or {}).get("status")) for r in results] == [
        ("exists", None),
        ("created", None),
        ("error", 410),
        ("exists", None),
        ("error", 410),
        ("error", 409),
        ("exists", None),
    ]
    # Bob's visit check would fail (the visit is Alice's): the stored row answers, 409.
    r = sync(world.bob.client, observations=[with_visit])[0]
    assert (r["id"], r["status"], r["error"]["status"]) == (with_visit["id"], "error", 409)
    # A bad item that was never stored is still a 422 naming its field.
    bad = world.obs(pain_points=[{"pain_point_id": str(uuid.uuid4()), "severity": 3}])
    r = sync(world.alice.client, observations=[kept, bad])[1]
    assert (r["status"], r["error"]["status"]) == ("error", 422)
    assert r["error"]["errors"][0]["field"] == "pain_points.0.pain_point_id"


def test_the_response_encoder_renders_what_pydantic_renders() -> None:
    from app.core.errors import problem_body
    from app.sync import service
    from app.sync.schemas import SyncResponse

    oid = uuid.uuid4()
    results: list[service.Result] = [
        service.Done("observation", oid, "created"),
        service._error("observation", None, problem_body(409, 'Nope "quoted" é')),
        service.Done("pain_point", uuid.uuid4(), "exists"),
    ]
    as_models = [
        r if not isinstance(r, service.Done) else SyncResult(**r._asdict()) for r in results
    ]
    assert service.encode(results) == service.RESPONSE.dump_json(SyncResponse(results=as_models))


def _marks(app: FastAPI) -> set[tuple[str, int | None]]:
    with Session(app.state.engine) as s:
        rows = s.execute(text("SELECT day, hour FROM backlog_dirty WHERE day IS NOT NULL"))
        return {(str(day), hour) for day, hour in rows}


def test_a_batch_marks_exactly_the_hours_of_its_observations(world: World, app: FastAPI) -> None:
    """The bulk path inserts a batch's tags 'premarked' (on SQLite the tag trigger then skips
    its look-ups, migration b1a0c0de0014): the hours marked stale are still exactly those of
    the batch's observations, nothing of the premark is left, and a later tag write on a
    stored observation (an edit, not premarked) marks its hour again."""
    with Session(app.state.engine) as s:
        s.execute(text("DELETE FROM backlog_dirty"))
        s.commit()
    hours = [("2026-11-18", 7), ("2026-11-18", 23), ("2026-11-19", 0), ("2026-11-20", 13)]
    batch = [
        world.obs(
            observed_at=f"{day}T{hour:02d}:{10 + i:02d}:00Z",
            pain_points=[tag(world, "queue"), tag(world, "receipt", 1 + i % 5)],
        )
        for i, (day, hour) in enumerate(hours * 3)
    ]
    assert {r["status"] for r in sync(world.alice.client, observations=batch)} == {"created"}
    assert _marks(app) == set(hours)
    with Session(app.state.engine) as s:
        assert s.scalar(text("SELECT count(*) FROM tags_premarked")) == 0
        s.execute(text("DELETE FROM backlog_dirty"))
        s.commit()
    r = world.alice.client.patch(
        f"/api/v1/observations/{batch[0]['id']}", json={"pain_points": [tag(world, "refund")]}
    )
    assert r.status_code == 200, r.text
    assert _marks(app) == {hours[0]}


def test_a_batch_stores_any_text_and_number_exactly(world: World) -> None:
    """The bulk insert writes every value exactly, whatever characters a text holds (on
    PostgreSQL each column goes as the text of one array literal: quotes, backslashes,
    commas, braces, spaces and the word NULL must survive it) and whatever the numbers."""
    texts = [
        "",
        "NULL",
        "null",
        ' "quoted" ',
        'back\\slash \\\\ and \\"',
        "a,b,{c},(d)",
        "  leading and trailing  ",
        "line\nbreak\ttab\r",
        "émoji 🚪 ünïcödé",
        "{}",
        "'single'",
    ]
    batch = [
        world.obs(
            note=text or "x",
            customer_goal=text,
            customer_quote=texts[-1 - i],
            customer_minutes_lost=[None, 0, 10_000][i % 3],
            location=None if i == 0 else {"lat": -89.999999 + i, "lon": 179.1234567 - i / 7},
            observed_at=f"2026-11-20T10:15:0{i % 10}.{i:06d}+0{i % 10}:30",
        )
        for i, text in enumerate(texts)
    ]
    assert {r["status"] for r in sync(world.alice.client, observations=batch)} == {"created"}
    for sent in batch:
        got = world.alice.client.get(f"/api/v1/observations/{sent['id']}").json()
        for key in ("note", "customer_goal", "customer_quote", "customer_minutes_lost"):
            assert got[key] == sent[key], key
        assert got["location"] == (
            None if sent["location"] is None else {**sent["location"], "accuracy_m": None}
        )
        assert datetime.fromisoformat(got["observed_at"]) == datetime.fromisoformat(
            sent["observed_at"]
        )
    # Equal payloads replay as such: what was stored hashes like what is sent.
    assert {r["status"] for r in sync(world.alice.client, observations=batch)} == {"exists"}


def test_the_collector_is_paused_for_one_batch_only() -> None:
    import gc

    from app.sync.service import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # off already (another batch in progress): left as it is
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError, match="in the batch"), collector_paused():
        raise ValueError("in the batch")
    assert gc.isenabled()
