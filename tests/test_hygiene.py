"""Bad input at the edges of what the databases hold: never a 5xx, the same answer on SQLite
and PostgreSQL (SPEC §3 "The server never answers 5xx to bad input")."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory, journey, site, stage
from tests.helpers import assert_problem
from tests.world import World, world

__all__ = ["world"]  # the fixture


def _cursor(values: list[object]) -> str:
    raw = json.dumps(values, allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_nul_in_a_json_body_is_422_and_nothing_is_stored(factory: Factory) -> None:
    manager = factory.bearer("manager")
    body = assert_problem(manager.client.post("/api/v1/sites", json={"name": "a\u0000b"}), 422)
    assert body["errors"] == [
        {"field": "body", "message": "Text may not contain the NUL character (U+0000)."}
    ]
    assert manager.client.get("/api/v1/sites").json()["items"] == []


def test_an_escaped_backslash_before_u0000_is_plain_text(factory: Factory) -> None:
    manager = factory.bearer("manager")
    s = site(manager, name="C:\\u0000 path")  # a backslash, then the letters u0000
    assert manager.client.get(f"/api/v1/sites/{s['id']}").json()["name"] == "C:\\u0000 path"


def test_nul_in_a_login_is_422_not_500(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/login", json={"email": "a\u0000@example.com", "password": "whatever1234"}
    )
    assert_problem(r, 422)


def test_nul_in_a_query_string_is_422(factory: Factory) -> None:
    manager = factory.bearer("manager")
    body = assert_problem(manager.client.get("/api/v1/observations", params={"q": "a\u0000"}), 422)
    assert body["errors"][0]["field"] == "query"
    assert_problem(manager.client.get("/api/v1/pain-points?q=a%00b"), 422)


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z"]
)
def test_timestamps_outside_the_accepted_range_are_422(factory: Factory, moment: str) -> None:
    manager = factory.bearer("manager")
    body = assert_problem(manager.client.post("/api/v1/visits", json={"started_at": moment}), 422)
    assert body["errors"][0]["field"] == "started_at"
    r = manager.client.post(
        "/api/v1/tokens", json={"name": "x", "scope": "read", "expires_at": moment}
    )
    assert assert_problem(r, 422)["errors"][0]["field"] == "expires_at"
    assert_problem(manager.client.get("/api/v1/observations", params={"from": moment}), 422)
    assert_problem(manager.client.get("/api/v1/backlog", params={"from": moment}), 422)


def test_an_ancient_improvement_is_refused_and_the_backlog_keeps_working(
    factory: Factory,
) -> None:
    manager = factory.bearer("manager")
    j = journey(manager)
    st = stage(manager, j["id"])
    pp = manager.client.post(
        "/api/v1/pain-points", json={"title": "Queue", "stage_id": st["id"]}
    ).json()
    body = {
        "title": "t",
        "pain_point_ids": [pp["id"]],
        "status": "verified",
        "started_at": "0001-01-01T00:00:00Z",
        "done_at": "0001-01-02T00:00:00Z",
        "verified_at": "0001-01-03T00:00:00Z",
    }
    assert_problem(manager.client.post("/api/v1/improvements", json=body), 422)
    assert manager.client.get("/api/v1/backlog").status_code == 200


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("/api/v1/pain-points", ["Infinity", "a", str(uuid.UUID(int=0))]),
        ("/api/v1/pain-points", [10**30, "a", str(uuid.UUID(int=0))]),
        ("/api/v1/pain-points", [1e300, "a", str(uuid.UUID(int=0))]),
        ("/api/v1/sites", ["a\u0000", str(uuid.UUID(int=0))]),
        ("/api/v1/observations", ["9999-12-31T23:59:59-01:00", str(uuid.UUID(int=0))]),
    ],
)
def test_crafted_cursors_are_422(factory: Factory, path: str, values: list[object]) -> None:
    manager = factory.bearer("manager")
    raw = [float("inf") if v == "Infinity" else v for v in values]
    r = manager.client.get(path, params={"cursor": _cursor(raw)})
    assert assert_problem(r, 422)["errors"][0]["field"] == "cursor"


def test_a_sync_item_outside_the_range_is_refused_alone(world: World) -> None:
    """One bad item never blocks the others (SPEC §5 sync)."""
    visit = {"id": str(uuid.uuid4()), "started_at": "0001-01-01T00:00:00+01:00"}
    good = world.obs()
    r = world.alice.client.post("/api/v1/sync", json={"visits": [visit], "observations": [good]})
    assert r.status_code == 200, r.text
    results = {x["kind"]: x for x in r.json()["results"]}
    assert results["visit"]["status"] == "error"
    assert results["visit"]["error"]["errors"][0]["field"] == "started_at"
    assert results["observation"]["status"] == "created"


def test_a_patch_that_breaks_the_rules_names_the_field(world: World) -> None:
    created = world.alice.client.post("/api/v1/observations", json=world.obs()).json()
    url = f"/api/v1/observations/{created['id']}"
    body = assert_problem(world.alice.client.patch(url, json={"pain_points": None}), 422)
    assert body["errors"][0]["field"] == "pain_points"
