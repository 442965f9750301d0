"""A small organisation built through the API: a manager, two observers, a journey with stages
and pain points, a site. Shared by the write-path tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import Actor, Factory, journey, pain_point, site


@dataclass
class World:
    manager: Actor
    alice: Actor
    bob: Actor
    journey: dict[str, Any]
    other_journey: dict[str, Any]
    site: dict[str, Any]
    pp: dict[str, dict[str, Any]]  # by short name

    def stage(self, i: int) -> str:
        return str(self.journey["stages"][i]["id"])

    def obs(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "journey_id": self.journey["id"],
            "observed_at": "2026-11-20T10:15:00+01:00",
            "note": "Agent read the script and asked for the receipt three times.",
        }
        body.update(extra)
        return body


@pytest.fixture
def world(factory: Factory) -> World:
    manager = factory.bearer("manager")
    j = journey(manager, name="Return an item", stages=["Arrive", "Queue", "Explain", "Refund"])
    other = journey(manager, name="Buy in store", stages=["Find", "Pay"])
    pp = {
        "receipt": pain_point(manager, j["stages"][2]["id"], "Asked for receipt three times"),
        "queue": pain_point(
            manager, j["stages"][1]["id"], "Queue longer than 10 minutes", layer="frontstage"
        ),
        "refund": pain_point(
            manager, j["stages"][3]["id"], "Refund takes five days", layer="backstage"
        ),
        "elsewhere": pain_point(manager, other["stages"][0]["id"], "Cannot find sizes"),
    }
    return World(
        manager=manager,
        alice=factory.bearer("observer"),
        bob=factory.bearer("observer"),
        journey=j,
        other_journey=other,
        site=site(manager),
        pp=pp,
    )
