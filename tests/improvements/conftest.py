"""Improvements tests: a world (manager, observers, a journey with pain points) plus helpers to
log observations at given times through the observations API and to create improvements."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import Actor, Factory, journey, pain_point
from tests.world import World, world

__all__ = ["Org", "Solo", "iso", "org", "solo", "world"]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Org:
    w: World

    def pp(self, name: str) -> str:
        return str(self.w.pp[name]["id"])

    def observe(self, at: datetime, *names: str, who: str = "alice") -> str:
        """An observation at `at` tagging the named pain points (or raw ids); returns its id."""
        ids = [self.pp(n) if n in self.w.pp else n for n in names]
        journeys = {self.w.pp[n]["journey_id"] for n in names if n in self.w.pp}
        body = self.w.obs(
            journey_id=journeys.pop() if journeys else self.w.journey["id"],
            observed_at=iso(at),
            pain_points=[{"pain_point_id": p, "severity": 3} for p in ids],
        )
        r = getattr(self.w, who).client.post("/api/v1/observations", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def improvement(self, *names: str, **fields: Any) -> dict[str, Any]:
        """An improvement linking the named pain points (or raw ids), created by the manager."""
        ids = [self.pp(n) if n in self.w.pp else n for n in names]
        body: dict[str, Any] = {
            "title": f"Improve {uuid.uuid4().hex[:6]}",
            "pain_point_ids": ids,
            **fields,
        }
        r = self.w.manager.client.post("/api/v1/improvements", json=body)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def patch(self, imp_id: str, **fields: Any) -> Any:
        return self.w.manager.client.patch(f"/api/v1/improvements/{imp_id}", json=fields)

    def effect(self, imp_id: str, **params: Any) -> Any:
        return self.w.alice.client.get(f"/api/v1/improvements/{imp_id}/effect", params=params)


@pytest.fixture
def org(world: World) -> Org:
    return Org(world)


@dataclass
class Solo:
    """Just a manager and one pain point: enough for the workflow matrix, and cheap."""

    manager: Actor
    pain_point_id: str

    def improvement(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Accept a photo of the receipt", "pain_point_ids": [self.pain_point_id]}
        r = self.manager.client.post("/api/v1/improvements", json={**body, **fields})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


@pytest.fixture
def solo(factory: Factory) -> Solo:
    manager = factory.bearer("manager")
    j = journey(manager, stages=["Explain"])
    return Solo(manager, str(pain_point(manager, j["stages"][0]["id"])["id"]))


@pytest.fixture
def now() -> datetime:
    # Whole seconds keep window bounds exact in assertions.
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
