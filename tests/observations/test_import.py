"""`gembalog import FILE.csv`: the export's columns round-trip; idempotent; all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from tests.world import World


@pytest.fixture
def on_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.setenv("GEMBALOG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "cli-test-secret-key-0123456789")
    monkeypatch.setenv("GEMBALOG_DATABASE_URL", database_url)


def listed(world: World) -> list[dict[str, object]]:
    items: list[dict[str, object]] = world.manager.client.get(
        "/api/v1/observations", params={"limit": 500}
    ).json()["items"]
    return items


def test_an_export_imports_into_another_observer_idempotently(
    world: World, on_db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = world.alice.client
    tags = [
        {"pain_point_id": world.pp["queue"]["id"], "severity": 2},
        {"pain_point_id": world.pp["receipt"]["id"], "severity": 5},
    ]
    sent = [
        world.obs(note="=SUM(A1:A9) looked odd, \"quoted\", and\nmultiline", pain_points=tags,
                  location={"lat": 51.5, "lon": -0.12, "accuracy_m": 20}, channel="phone",
                  customer_goal="-5 off", customer_minutes_lost=7),
        world.obs(note="plain"),
    ]  # fmt: skip
    for body in sent:
        assert c.post("/api/v1/observations", json=body).status_code == 201
    export = c.get("/api/v1/observations", params={"format": "csv"}).text
    before = {o["id"]: o for o in listed(world)}
    for o in before.values():
        c.delete(f"/api/v1/observations/{o['id']}")
    # A deleted id is never revived: importing the export back refuses those rows.
    path = tmp_path / "obs.csv"
    path.write_text(export, encoding="utf-8")
    assert cli.main(["import", str(path), "--user", world.bob.user.email]) == 1
    assert "line 2" in capsys.readouterr().out
    # Under new ids, into Bob's name: every field survives the round trip.
    text = export
    for o in sent:
        text = text.replace(str(o["id"]), str(o["id"])[:-4] + "beef")
    path.write_text(text, encoding="utf-8")
    assert cli.main(["import", str(path), "--user", world.bob.user.email]) == 0
    assert "imported 2 observations (0 already there)" in capsys.readouterr().out
    after = {str(o["id"])[:-4]: o for o in listed(world)}
    for oid, old in before.items():
        new = after[oid[:-4]]
        assert new["observer_id"] == world.bob.id
        for key in ("note", "customer_goal", "pain_points", "location", "channel",
                    "observed_at", "customer_minutes_lost", "journey_id"):  # fmt: skip
            assert new[key] == old[key], key
    # The same file again: nothing new.
    assert cli.main(["import", str(path), "--user", world.bob.user.email]) == 0
    assert "imported 0 observations (2 already there)" in capsys.readouterr().out
    assert len(listed(world)) == 2


def test_one_bad_row_imports_nothing_and_is_reported(
    world: World, on_db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j, q = world.journey["id"], world.pp["queue"]["id"]
    path = tmp_path / "in.csv"
    path.write_text(
        "journey_id,observed_at,note,pain_points,location_lat,location_lon\n"
        f"{j},2026-11-01T10:00:00Z,fine,{q}:3,,\n"
        f"{j},2026-11-01T10:00:00Z,bad severity,{q}:9,,\n"
        f"{j},not a time,,,,\n"
        f"{j},2026-11-01T10:00:00Z,bad place,,95,1\n",
        encoding="utf-8",
    )
    assert cli.main(["import", str(path), "--user", world.alice.user.email]) == 1
    out = capsys.readouterr().out
    assert "line 3" in out
    assert "pain_points.0.severity" in out
    assert "line 4" in out
    assert "observed_at" in out
    assert "line 5" in out
    assert "location.lat" in out
    assert "line 2" not in out
    assert listed(world) == []
    assert cli.main(["import", str(path), "--user", "nobody@example.com"]) == 2
