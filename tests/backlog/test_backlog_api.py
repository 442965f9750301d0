"""Backlog, heatmap and timeline: ties, CSV, defaults, validation, improvements."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.backlog.conftest import Builder, iso
from tests.factories import Factory
from tests.helpers import assert_problem

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
WINDOW = {"from": "2026-05-01", "to": "2026-05-08"}


def _setup(factory: Factory) -> tuple[Builder, list[str], list[str]]:
    b = Builder(factory.bearer("manager"), [factory.bearer("observer")])
    jid, stages = b.journey("Buy", ["Arrive", "Pay"])
    return b, [jid], stages


def test_ties_break_on_last_seen_then_title_then_id(factory: Factory) -> None:
    b, (jid,), (s0, s1) = _setup(factory)
    a = b.pain_point(s0, "Queue", None)
    c = b.pain_point(s1, "Queue", "frontstage")
    z = b.pain_point(s0, "Zebra", None)
    assert a
    assert c
    assert z
    b.observation(0, jid, None, None, AT, None, {a: 2, c: 3, z: 1})
    r = b.observers[0].client.get("/api/v1/backlog", params=WINDOW)
    assert r.status_code == 200, r.text
    ids = [i["pain_point"]["id"] for i in r.json()["items"]]
    assert ids == [*sorted([a, c]), z]
    r = b.observers[0].client.get("/api/v1/backlog", params={**WINDOW, "sort": "impact"})
    assert [i["pain_point"]["id"] for i in r.json()["items"]] == [c, a, z]


def test_default_window_is_the_90_days_ending_now(factory: Factory) -> None:
    b, _, _ = _setup(factory)
    r = b.observers[0].client.get("/api/v1/backlog")
    assert r.status_code == 200, r.text
    w = r.json()["window"]
    start = datetime.fromisoformat(w["from"])
    end = datetime.fromisoformat(w["to"])
    assert w["to"].endswith("Z")
    assert end - start == timedelta(days=90)
    assert abs(end - datetime.now(UTC)) < timedelta(minutes=1)
    prev = r.json()["previous_window"]
    assert prev["to"] == w["from"]


def test_csv_has_every_item_and_guards_formulas(factory: Factory) -> None:
    b, (jid,), (s0, _) = _setup(factory)
    ids = [b.pain_point(s0, t, None) for t in ("=cmd()", "+sum", "Plain")]
    for n, pid in enumerate(ids):
        assert pid
        for k in range(n + 1):
            b.observation(0, jid, None, None, AT + timedelta(minutes=k), 5, {pid: 4})
    client = b.observers[0].client
    r = client.get("/api/v1/backlog", params={**WINDOW, "limit": 1, "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["pain_point_title"] for row in rows] == ["Plain", "'+sum", "'=cmd()"]
    assert rows[0]["frequency"] == "3"
    assert rows[0]["pain_point_stage_id"] == s0
    assert rows[0]["pain_point_stage_position"] == "0"
    assert {"pain_point_id", "pain_point_stage_name", "improvements", "regressed"} <= set(rows[0])
    r2 = client.get("/api/v1/backlog", params=WINDOW, headers={"Accept": "text/csv"})
    assert r2.text == r.text


def test_improvements_are_listed(factory: Factory) -> None:
    b, (jid,), (s0, _) = _setup(factory)
    pid = b.pain_point(s0, "Queue", None)
    assert pid
    b.observation(0, jid, None, None, AT, None, {pid: 2})
    r = b.manager.client.post(
        "/api/v1/improvements", json={"title": "Add a till", "pain_point_ids": [pid]}
    )
    assert r.status_code == 201, r.text
    imp = r.json()
    r = b.observers[0].client.get("/api/v1/backlog", params=WINDOW)
    item = r.json()["items"][0]
    assert item["improvements"] == [{"id": imp["id"], "title": "Add a till", "status": "proposed"}]
    assert item["regressed"] is False


def test_bad_input_is_422_and_unknown_ids_404(factory: Factory) -> None:
    b, _, _ = _setup(factory)
    client = b.observers[0].client
    assert_problem(
        client.get("/api/v1/backlog", params={"from": "2026-05-02", "to": "2026-05-01"}), 422, "to"
    )
    assert_problem(client.get("/api/v1/backlog", params={"from": "2026-05-02T10:00"}), 422, "from")
    assert_problem(client.get("/api/v1/backlog", params={"sort": "nope"}), 422, "sort")
    assert_problem(client.get("/api/v1/backlog", params={"layer": "nope"}), 422, "layer")
    assert_problem(client.get("/api/v1/backlog", params={"limit": 501}), 422, "limit")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/api/v1/journeys/{unknown}/heatmap"), 404)
    assert_problem(client.get(f"/api/v1/pain-points/{unknown}/timeline"), 404)
    r = client.get(f"/api/v1/pain-points/{unknown}/timeline", params={"bucket": "year"})
    assert_problem(r, 422, "bucket")


def test_needs_a_signed_in_user(client: Any) -> None:
    assert client.get("/api/v1/backlog").status_code == 401


def test_timeline_buckets_cover_the_window(factory: Factory) -> None:
    b, (jid,), (s0, _) = _setup(factory)
    pid = b.pain_point(s0, "Queue", None)
    assert pid
    b.observation(0, jid, None, None, AT, None, {pid: 2})
    b.observation(0, jid, None, None, AT + timedelta(days=8), None, {pid: 2})
    client = b.observers[0].client
    params = {"from": iso(AT - timedelta(days=3)), "to": "2026-06-02", "bucket": "week"}
    r = client.get(f"/api/v1/pain-points/{pid}/timeline", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body[0] == {"start": "2026-04-27T00:00:00Z", "frequency": 0}
    assert body[1] == {"start": "2026-05-04T00:00:00Z", "frequency": 1}
    assert body[2] == {"start": "2026-05-11T00:00:00Z", "frequency": 1}
    assert body[-1]["start"] == "2026-06-01T00:00:00Z"
    r = client.get(f"/api/v1/pain-points/{pid}/timeline", params={**params, "bucket": "month"})
    assert r.json() == [
        {"start": "2026-05-01T00:00:00Z", "frequency": 2},
        {"start": "2026-06-01T00:00:00Z", "frequency": 0},
    ]


def test_openapi_operation_ids(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"get_backlog", "get_journey_heatmap", "get_pain_point_timeline"} <= ops


def test_rebuild_after_bulk_load_keeps_answers(factory: Factory) -> None:
    from sqlmodel import Session

    from app.backlog import rollup

    b, (jid,), (s0, _) = _setup(factory)
    pid = b.pain_point(s0, "Queue", None)
    assert pid
    b.observation(0, jid, None, None, AT, None, {pid: 2})
    before = b.observers[0].client.get("/api/v1/backlog", params=WINDOW).json()
    with Session(b.manager.client.app.state.write_engine) as session:  # type: ignore[attr-defined]
        rollup.rebuild(session)
        session.commit()
    after = b.observers[0].client.get("/api/v1/backlog", params=WINDOW).json()
    assert after == before
    assert after["items"][0]["frequency"] == 1
