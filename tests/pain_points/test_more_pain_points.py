"""Pain points, further: replays judged on the create payload, the title key, resolve()'s query
budget, search ranking and paging, merges of improvement links and aliases, deleted
observations, concurrent duplicate creates, audit."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlmodel import Session, col

from app.models import (
    Improvement,
    ImprovementPainPoint,
    PainPoint,
    PainPointAlias,
    Role,
)
from app.pain_points import service
from tests.factories import Actor, Factory, journey, pain_point
from tests.helpers import assert_problem

PP = "/api/v1/pain-points"


@dataclass
class Setup:
    manager: Actor
    alice: Actor
    bob: Actor
    journey: dict[str, Any]
    other: dict[str, Any]

    def stage(self, i: int) -> str:
        return str(self.journey["stages"][i]["id"])


@pytest.fixture
def s(factory: Factory) -> Setup:
    manager = factory.bearer(Role.manager)
    return Setup(
        manager=manager,
        alice=factory.bearer(Role.observer),
        bob=factory.bearer(Role.observer),
        journey=journey(manager, name="Return an item", stages=["Arrive", "Queue", "Refund"]),
        other=journey(manager, name="Open an account", stages=["Apply"]),
    )


def _observe(s: Setup, *tags: tuple[str, int], who: Actor | None = None) -> str:
    body = {
        "journey_id": s.journey["id"],
        "observed_at": "2026-11-20T10:15:00Z",
        "note": "seen",
        "pain_points": [{"pain_point_id": p, "severity": sev} for p, sev in tags],
    }
    r = (who or s.alice).client.post("/api/v1/observations", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_title_key_ignores_case_spacing_and_punctuation(s: Setup) -> None:
    first = pain_point(s.alice, s.stage(0), "Card reader broken")
    for variant in ("card-reader  BROKEN!", "Cardreader broken.", " CARD READER, BROKEN "):
        r = s.bob.client.post(PP, json={"title": variant, "stage_id": s.stage(0)})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == first["id"]
        assert r.json()["title"] == "Card reader broken"
    # A different word is a different pain point; so is an archived one's title.
    assert (
        s.bob.client.post(
            PP, json={"title": "Card reader slow", "stage_id": s.stage(0)}
        ).status_code
        == 201
    )
    assert service.normalise_title("  Ça  va?! ") == service.normalise_title("ça va")


def test_replay_is_judged_on_the_payload_sent_not_on_later_edits(s: Setup) -> None:
    body = {"id": str(uuid.uuid4()), "title": "No chairs", "stage_id": s.stage(1)}
    assert s.alice.client.post(PP, json=body).status_code == 201
    # A manager renames and moves it; the observer's outbox replays the original create.
    r = s.manager.client.patch(
        f"{PP}/{body['id']}", json={"title": "Nowhere to sit", "stage_id": s.stage(0)}
    )
    assert r.status_code == 200, r.text
    again = s.alice.client.post(PP, json=body)
    assert again.status_code == 200, again.text
    assert again.json()["title"] == "Nowhere to sit"
    # Different content under the same id, or another user's replay, stays a conflict.
    assert_problem(s.alice.client.post(PP, json={**body, "description": "more"}), 409)
    assert_problem(s.bob.client.post(PP, json=body), 409)


def test_alias_replay_and_alias_conflicts(s: Setup) -> None:
    canonical = pain_point(s.manager, s.stage(1), "Queue too long")
    alias = {"id": str(uuid.uuid4()), "title": "queue TOO long", "stage_id": s.stage(1)}
    r = s.alice.client.post(PP, json=alias)
    assert (r.status_code, r.json()["id"]) == (200, canonical["id"])
    r = s.alice.client.post(PP, json=alias)
    assert (r.status_code, r.json()["id"]) == (200, canonical["id"])
    assert_problem(s.bob.client.post(PP, json=alias), 409)
    assert_problem(s.alice.client.post(PP, json={**alias, "title": "Queue is long"}), 409)
    # The alias id cannot be reused for a new pain point either.
    assert_problem(s.alice.client.post(PP, json={**alias, "stage_id": s.stage(0)}), 409)


def test_resolve_maps_every_kind_of_id_in_two_queries(s: Setup, db: Session, app: Any) -> None:
    a = pain_point(s.manager, s.stage(0), "Door heavy")
    b = pain_point(s.manager, s.stage(0), "Door stiff")
    c = pain_point(s.manager, s.stage(0), "Door narrow")
    alias_of_a = str(uuid.uuid4())
    s.alice.client.post(PP, json={"id": alias_of_a, "title": "door HEAVY", "stage_id": s.stage(0)})
    assert (
        s.manager.client.post(f"{PP}/{a['id']}/merge", json={"into_id": b["id"]}).status_code == 200
    )
    s.manager.client.patch(f"{PP}/{c['id']}", json={"status": "archived"})
    unknown = uuid.uuid4()
    ids = [uuid.UUID(x) for x in (a["id"], b["id"], c["id"], alias_of_a)] + [unknown]

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        found = service.resolve(db, ids)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) <= 2
    assert {str(k): v.id for k, v in found.items()} == {
        a["id"]: uuid.UUID(b["id"]),
        b["id"]: uuid.UUID(b["id"]),
        c["id"]: uuid.UUID(c["id"]),  # archived pain points still resolve
        alias_of_a: uuid.UUID(b["id"]),
    }
    assert service.resolve(db, []) == {}


def test_search_finds_typos_in_long_titles_ranks_and_pages(s: Setup) -> None:
    long_title = "Customer had to ask for a receipt several times because the printer jammed"
    ids = {
        "long": pain_point(s.manager, s.stage(0), long_title)["id"],
        "exact": pain_point(s.manager, s.stage(1), "Receipt")["id"],
        "short": pain_point(s.manager, s.stage(2), "No receipt given")["id"],
        "other": pain_point(s.manager, s.stage(2), "Refund took five days")["id"],
        "recycle": pain_point(s.manager, s.stage(2), "Recycling bins full")["id"],
    }
    r = s.alice.client.get(PP, params={"q": "recipt"})
    assert r.status_code == 200
    items = r.json()["items"]
    found = [i["id"] for i in items]
    assert set(found) == {ids["long"], ids["exact"], ids["short"]}
    assert found[0] == ids["exact"]
    scores = [i["match_score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < x <= 1 for x in scores)
    # Paging by score keeps the order and loses nothing.
    page = s.alice.client.get(PP, params={"q": "recipt", "limit": 2}).json()
    rest = s.alice.client.get(
        PP, params={"q": "recipt", "limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == found
    assert rest["next_cursor"] is None
    # Without q there is no match_score; a blank q is no search.
    plain = s.alice.client.get(PP, params={"q": "  "}).json()["items"]
    assert len(plain) == 5
    assert all(i["match_score"] is None for i in plain)
    assert s.alice.client.get(PP, params={"q": "zzqx"}).json()["items"] == []
    assert_problem(s.alice.client.get(PP, params={"q": "x" * 201}), 422, field="q")
    assert_problem(s.alice.client.get(PP, params={"cursor": "garbage!"}), 422, field="cursor")
    assert_problem(s.alice.client.get(PP, params={"status": "gone"}), 422, field="status")


def test_counts_leave_out_deleted_observations_and_follow_merges(s: Setup) -> None:
    a = pain_point(s.manager, s.stage(0), "Signs unclear")["id"]
    b = pain_point(s.manager, s.stage(1), "Signs missing")["id"]
    _observe(s, (a, 2))
    gone = _observe(s, (a, 3))
    _observe(s, (a, 1), (b, 4))
    _observe(s, (b, 2))
    assert s.manager.client.delete(f"/api/v1/observations/{gone}").status_code == 204
    got = s.alice.client.get(f"{PP}/{a}").json()
    assert got["observation_count"] == 2
    r = s.manager.client.post(f"{PP}/{a}/merge", json={"into_id": b})
    assert r.json()["observation_count"] == 3  # the observation that tagged both counts once
    listed = s.alice.client.get(PP, params={"journey_id": s.journey["id"]}).json()["items"]
    assert [(i["id"], i["observation_count"]) for i in listed] == [(b, 3)]


def test_merge_repoints_improvement_links_and_aliases(s: Setup, db: Session) -> None:
    a = pain_point(s.manager, s.stage(0), "Hold music loud")["id"]
    b = pain_point(s.manager, s.stage(0), "Hold music too loud")["id"]
    alias = str(uuid.uuid4())
    s.alice.client.post(PP, json={"id": alias, "title": "hold music LOUD", "stage_id": s.stage(0)})
    both, only_a = Improvement(title="Quieter music"), Improvement(title="New supplier")
    db.add_all([both, only_a])
    db.flush()
    db.add_all(
        [
            ImprovementPainPoint(improvement_id=both.id, pain_point_id=uuid.UUID(a)),
            ImprovementPainPoint(improvement_id=both.id, pain_point_id=uuid.UUID(b)),
            ImprovementPainPoint(improvement_id=only_a.id, pain_point_id=uuid.UUID(a)),
        ]
    )
    db.commit()
    assert s.manager.client.post(f"{PP}/{a}/merge", json={"into_id": b}).status_code == 200
    db.rollback()
    links = db.execute(
        select(col(ImprovementPainPoint.improvement_id), col(ImprovementPainPoint.pain_point_id))
    ).all()
    assert sorted((str(i), str(p)) for i, p in links) == sorted(
        [(str(both.id), b), (str(only_a.id), b)]
    )
    stored_alias = db.get(PainPointAlias, uuid.UUID(alias))
    assert stored_alias is not None
    assert str(stored_alias.pain_point_id) == b
    loser = db.get(PainPoint, uuid.UUID(a))
    assert loser is not None
    assert (loser.status, str(loser.merged_into_id)) == ("merged", b)
    # Merging the survivor on: everything that pointed at it moves again (flattened).
    c = pain_point(s.manager, s.stage(1), "Music volume")["id"]
    assert s.manager.client.post(f"{PP}/{b}/merge", json={"into_id": c}).status_code == 200
    db.rollback()  # end the read transaction: on SQLite it would keep its old snapshot
    loser = db.get(PainPoint, uuid.UUID(a))
    assert loser is not None
    assert str(loser.merged_into_id) == c
    merged = s.alice.client.get(PP, params={"status": "merged"}).json()["items"]
    assert {i["id"]: i["merged_into_id"] for i in merged} == {a: c, b: c}
    assert s.alice.client.get(f"{PP}/{alias}").json()["id"] == c
    # The merged id and the alias filter like the survivor.
    assert (
        s.alice.client.get(f"{PP}/{a}").headers["etag"]
        == (s.alice.client.get(f"{PP}/{c}").headers["etag"])
    )


def test_merge_rules_roles_and_audit(s: Setup, factory: Factory) -> None:
    a = pain_point(s.manager, s.stage(0), "A thing")["id"]
    b = pain_point(s.manager, s.stage(0), "B thing")["id"]
    there = pain_point(s.manager, str(s.other["stages"][0]["id"]), "C thing")["id"]
    m = s.manager.client
    assert_problem(s.alice.client.post(f"{PP}/{a}/merge", json={"into_id": b}), 403)
    assert_problem(m.post(f"{PP}/{a}/merge", json={"into_id": a}), 409)
    assert_problem(m.post(f"{PP}/{a}/merge", json={"into_id": there}), 409)
    assert_problem(m.post(f"{PP}/{a}/merge", json={"into_id": str(uuid.uuid4())}), 404)
    assert_problem(m.post(f"{PP}/{a}/merge", json={"into_id": "nope"}), 422, field="into_id")
    assert_problem(m.post(f"{PP}/{a}/merge", json={}), 422, field="into_id")
    assert m.post(f"{PP}/{a}/merge", json={"into_id": b}).status_code == 200
    assert_problem(m.post(f"{PP}/{a}/merge", json={"into_id": b}), 409)  # already merged
    admin = factory.bearer(Role.admin)
    events = admin.client.get(
        "/api/v1/audit", params={"target_type": "pain_point", "target_id": a}
    ).json()["items"]
    assert "pain_point.merge" in [e["action"] for e in events]
    merge_event = next(e for e in events if e["action"] == "pain_point.merge")
    assert merge_event["actor_id"] == s.manager.id
    assert merge_event["details"]["into_id"] == b


def test_patch_rules(s: Setup, factory: Factory) -> None:
    m = s.manager.client
    a = pain_point(s.manager, s.stage(0), "Lights flicker")
    b = pain_point(s.manager, s.stage(0), "Lights dim")
    assert_problem(m.patch(f"{PP}/{a['id']}", json={"title": None}), 422, field="title")
    assert_problem(m.patch(f"{PP}/{a['id']}", json={"title": "x" * 201}), 422, field="title")
    assert_problem(m.patch(f"{PP}/{a['id']}", json={"layer": "middle"}), 422, field="layer")
    assert_problem(
        m.patch(f"{PP}/{a['id']}", json={"stage_id": str(uuid.uuid4())}), 422, "stage_id"
    )
    assert_problem(m.patch(f"{PP}/{a['id']}", json={"title": "lights DIM"}), 409)
    assert_problem(m.patch(f"{PP}/{uuid.uuid4()}", json={"title": "y"}), 404)
    # Archive, then a new open one takes the title; reopening the archived one now conflicts.
    assert m.patch(f"{PP}/{b['id']}", json={"status": "archived"}).status_code == 200
    assert (
        s.alice.client.post(PP, json={"title": "Lights dim", "stage_id": s.stage(0)}).status_code
        == 201
    )
    assert_problem(m.patch(f"{PP}/{b['id']}", json={"status": "open"}), 409)
    # If-Match: the current ETag passes, a stale one is 412.
    etag = m.get(f"{PP}/{a['id']}").headers["etag"]
    r = m.patch(f"{PP}/{a['id']}", json={"layer": "support"}, headers={"If-Match": etag})
    assert r.status_code == 200
    assert r.headers["etag"] != etag
    assert_problem(
        m.patch(f"{PP}/{a['id']}", json={"layer": None}, headers={"If-Match": etag}), 412
    )
    admin = factory.bearer(Role.admin)
    actions = [
        e["action"]
        for e in admin.client.get(
            "/api/v1/audit", params={"target_type": "pain_point", "target_id": b["id"]}
        ).json()["items"]
    ]
    assert "pain_point.archive" in actions


def test_concurrent_duplicate_creates_store_one_pain_point(s: Setup, db: Session) -> None:
    ids = [str(uuid.uuid4()) for _ in range(6)]
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(len(ids))

    def create(pid: str) -> None:
        barrier.wait()
        r = s.alice.client.post(
            PP, json={"id": pid, "title": "Till closed", "stage_id": s.stage(1)}
        )
        results.append((r.status_code, r.json().get("id", r.text)))

    threads = [threading.Thread(target=create, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(code for code, _ in results)
    assert statuses == [200] * 5 + [201], results
    winners = {pid for _, pid in results}
    assert len(winners) == 1
    rows = db.scalars(select(PainPoint).where(col(PainPoint.title) == "Till closed")).all()
    assert [str(r.id) for r in rows] == list(winners)
    for pid in ids:
        assert s.bob.client.get(f"{PP}/{pid}").json()["id"] in winners
