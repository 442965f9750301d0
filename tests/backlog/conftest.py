"""Helpers for the backlog tests: build data through the HTTP API and mirror it in a
reference `World`, and wipe the catalogue/field tables between hypothesis examples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import Session

from app.backlog import rollup
from tests.backlog.reference import PP, Obs, VisitRec, World
from tests.factories import Actor

WIPE = [
    "observation_tags",
    "attachments",
    "observations",
    "visits",
    "improvement_pain_points",
    "improvements",
    "pain_point_aliases",
    "pain_points",
    "stages",
    "journeys",
    "sites",
]


# Every derived table, the dirty marks last (test_rollup reads ROLLUPS[:-1] as the rollups).
ROLLUPS = [*rollup.ROLLUPS, "backlog_dirty"]


def wipe(app: FastAPI) -> None:
    engine = app.state.write_engine
    with engine.begin() as conn:
        for table in WIPE + ROLLUPS:  # the rollups last: deleting field rows marks days dirty
            conn.execute(text(f"DELETE FROM {table}"))


def rebuild(app: FastAPI, *, full: bool) -> None:
    """Recomputes the rollups: all of them, or only the dirty days (as a read would)."""
    with Session(app.state.write_engine) as session:
        if full:
            rollup.rebuild(session)
        else:
            rollup.refresh(session)
        session.commit()


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Builder:
    """Writes through the API and records what was accepted in `world`."""

    def __init__(self, manager: Actor, observers: list[Actor]) -> None:
        self.manager = manager
        self.observers = observers
        self.world = World()

    def journey(self, name: str, stages: list[str]) -> tuple[str, list[str]]:
        body = {"name": name, "stages": [{"name": s} for s in stages]}
        r = self.manager.client.post("/api/v1/journeys", json=body)
        assert r.status_code == 201, r.text
        j = r.json()
        self.world.journeys[j["id"]] = name
        ids = []
        for s in j["stages"]:
            self.world.stages[s["id"]] = {
                "name": s["name"],
                "position": s["position"],
                "journey": j["id"],
            }
            ids.append(s["id"])
        return j["id"], ids

    def site(self, name: str) -> str:
        r = self.manager.client.post("/api/v1/sites", json={"name": name, "kind": "store"})
        assert r.status_code == 201, r.text
        sid: str = r.json()["id"]
        return sid

    def pain_point(self, stage_id: str, title: str, layer: str | None) -> str | None:
        body: dict[str, Any] = {"title": title, "stage_id": stage_id}
        if layer is not None:
            body["layer"] = layer
        r = self.manager.client.post("/api/v1/pain-points", json=body)
        assert r.status_code in (200, 201), r.text
        if r.status_code == 200:
            return None  # a duplicate title in the stage
        p = r.json()
        self.world.pps[p["id"]] = PP(
            id=p["id"],
            title=p["title"],
            journey_id=p["journey_id"],
            stage_id=stage_id,
            layer=layer,
        )
        pid: str = p["id"]
        return pid

    def visit(
        self, who: int, site_id: str | None, channel: str | None, at: datetime, n: int | None
    ) -> None:
        body: dict[str, Any] = {"started_at": iso(at), "site_id": site_id, "channel": channel}
        if n is not None:
            body["customers_observed"] = n
        r = self.observers[who].client.post("/api/v1/visits", json=body)
        assert r.status_code == 201, r.text
        self.world.visits.append(VisitRec(site_id, channel, at, n))

    def observation(
        self,
        who: int,
        journey_id: str,
        site_id: str | None,
        channel: str | None,
        at: datetime,
        minutes: int | None,
        tags: dict[str, int],
    ) -> str | None:
        body: dict[str, Any] = {
            "journey_id": journey_id,
            "site_id": site_id,
            "channel": channel,
            "observed_at": iso(at),
            "note": "seen",
            "customer_minutes_lost": minutes,
            "pain_points": [{"pain_point_id": p, "severity": s} for p, s in tags.items()],
        }
        actor = self.observers[who]
        r = actor.client.post("/api/v1/observations", json=body)
        if r.status_code != 201:
            assert r.status_code in (409, 422), r.text  # e.g. tags an archived pain point
            return None
        oid: str = r.json()["id"]
        self.world.obs[oid] = Obs(
            oid, journey_id, site_id, channel, actor.id, at, minutes, dict(tags)
        )
        return oid

    def merge(self, src: str, dst: str) -> None:
        r = self.manager.client.post(f"/api/v1/pain-points/{src}/merge", json={"into_id": dst})
        if r.status_code == 200:
            self.world.pps[src].status = "merged"
            self.world.pps[src].merged_into = dst
        else:
            assert r.status_code in (409, 422), r.text

    def archive(self, pid: str) -> None:
        r = self.manager.client.patch(f"/api/v1/pain-points/{pid}", json={"status": "archived"})
        assert r.status_code == 200, r.text
        self.world.pps[pid].status = "archived"

    def move(self, pid: str, stage_id: str) -> None:
        r = self.manager.client.patch(f"/api/v1/pain-points/{pid}", json={"stage_id": stage_id})
        if r.status_code == 200:
            self.world.pps[pid].stage_id = stage_id
        else:
            assert r.status_code in (409, 422), r.text

    def delete(self, oid: str) -> None:
        o = self.world.obs[oid]
        who = next(a for a in self.observers if a.id == o.observer_id)
        r = who.client.delete(f"/api/v1/observations/{oid}")
        assert r.status_code == 204, r.text
        o.deleted = True

    def edit(self, oid: str, at: datetime, tags: dict[str, int] | None) -> None:
        o = self.world.obs[oid]
        who = next(a for a in self.observers if a.id == o.observer_id)
        body: dict[str, Any] = {"observed_at": iso(at)}
        if tags is not None:
            body["pain_points"] = [{"pain_point_id": p, "severity": s} for p, s in tags.items()]
        r = who.client.patch(f"/api/v1/observations/{oid}", json=body)
        if r.status_code == 200:
            o.observed_at = at
            if tags is not None:
                o.tags = dict(tags)
        else:
            assert r.status_code in (409, 422), r.text
