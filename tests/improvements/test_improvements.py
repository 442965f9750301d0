"""Improvements CRUD: create and read, idempotent creates, validation, roles, ETags, audit,
the list's filters and pagination, and links that follow merges."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from tests.factories import Factory
from tests.helpers import assert_problem
from tests.improvements.conftest import Org

URL = "/api/v1/improvements"


def test_create_and_read(org: Org) -> None:
    owner = org.w.bob
    body = {
        "title": "  Let agents accept a photo of the receipt ",
        "description": "Update the returns script and the till.",
        "hypothesis": "Fewer customers are asked for a receipt three times.",
        "pain_point_ids": [org.pp("receipt"), org.pp("queue")],
        "owner_id": owner.id,
        "due_on": "2026-12-15",
    }
    r = org.w.manager.client.post(URL, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"]
    imp = r.json()
    assert imp["title"] == "Let agents accept a photo of the receipt"
    assert imp["description"] == body["description"]
    assert imp["hypothesis"] == body["hypothesis"]
    assert imp["pain_point_ids"] == sorted([org.pp("receipt"), org.pp("queue")])
    assert imp["status"] == "proposed"
    assert imp["allowed_moves"] == ["planned", "dropped"]
    assert imp["owner_id"] == owner.id
    assert imp["due_on"] == "2026-12-15"
    assert (imp["started_at"], imp["done_at"], imp["verified_at"]) == (None, None, None)
    assert imp["created_by"] == org.w.manager.id
    assert imp["created_at"].endswith("Z")
    assert imp["updated_at"].endswith("Z")
    # Everyone reads.
    got = org.w.alice.client.get(f"{URL}/{imp['id']}")
    assert got.status_code == 200
    assert got.json() == imp
    assert got.headers["ETag"] == r.headers["ETag"]
    assert_problem(org.w.alice.client.get(f"{URL}/{uuid.uuid4()}"), 404)


def test_update_fields(org: Org) -> None:
    imp = org.improvement("receipt", due_on="2026-12-01", owner_id=org.w.bob.id)
    r = org.patch(
        imp["id"],
        title="Accept photos",
        description="d",
        hypothesis="h",
        pain_point_ids=[org.pp("refund")],
        owner_id=None,
        due_on=None,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["title"], out["description"], out["hypothesis"]) == ("Accept photos", "d", "h")
    assert out["pain_point_ids"] == [org.pp("refund")]
    assert out["owner_id"] is None
    assert out["due_on"] is None
    assert out["created_at"] == imp["created_at"]
    # An empty PATCH changes nothing.
    same = org.patch(imp["id"])
    assert same.json() == out


def test_observers_read_but_may_not_write(org: Org) -> None:
    imp = org.improvement("receipt")
    body = {"title": "x", "pain_point_ids": [org.pp("receipt")]}
    assert_problem(org.w.alice.client.post(URL, json=body), 403)
    assert_problem(org.w.alice.client.patch(f"{URL}/{imp['id']}", json={"title": "y"}), 403)
    assert org.w.alice.client.get(URL).status_code == 200
    assert org.w.alice.client.get(f"{URL}/{imp['id']}").json()["title"] == imp["title"]


def test_admins_write(org: Org, factory: Factory) -> None:
    admin = factory.bearer("admin")
    r = admin.client.post(URL, json={"title": "x", "pain_point_ids": [org.pp("receipt")]})
    assert r.status_code == 201, r.text
    assert (
        admin.client.patch(f"{URL}/{r.json()['id']}", json={"status": "planned"}).json()["status"]
        == "planned"
    )


def test_read_scope_tokens_may_not_write(org: Org, factory: Factory) -> None:
    reader = factory.bearer("manager", scope="read")
    r = reader.client.post(URL, json={"title": "x", "pain_point_ids": [org.pp("receipt")]})
    assert r.status_code in (401, 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 10001}, "description"),
        ({"hypothesis": "x" * 4001}, "hypothesis"),
        ({"pain_point_ids": []}, "pain_point_ids"),
        ({"pain_point_ids": ["nope"]}, "pain_point_ids.0"),
        ({"status": "finished"}, "status"),
        ({"owner_id": "nope"}, "owner_id"),
        ({"due_on": "15/12/2026"}, "due_on"),
        ({"done_at": "yesterday"}, "done_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_validation(org: Org, change: dict[str, Any], field: str) -> None:
    body = {"title": "x", "pain_point_ids": [org.pp("receipt")], **change}
    assert_problem(org.w.manager.client.post(URL, json=body), 422, field=field)


def test_pain_point_ids_limits_and_unknown_ids(org: Org) -> None:
    c = org.w.manager.client
    many = [org.pp("receipt")] * 51
    assert_problem(c.post(URL, json={"title": "x", "pain_point_ids": many}), 422, "pain_point_ids")
    unknown = str(uuid.uuid4())
    r = c.post(URL, json={"title": "x", "pain_point_ids": [org.pp("receipt"), unknown]})
    body = assert_problem(r, 422, field="pain_point_ids.1")
    assert "pain point" in body["errors"][0]["message"]
    imp = org.improvement("receipt")
    assert_problem(org.patch(imp["id"], pain_point_ids=[unknown]), 422, "pain_point_ids.0")
    assert_problem(org.patch(imp["id"], pain_point_ids=[]), 422, "pain_point_ids")
    assert_problem(org.patch(imp["id"], title=None), 422, "title")
    assert_problem(org.patch(imp["id"], status=None), 422, "status")
    assert org.w.alice.client.get(URL).json()["items"] == [imp]


def test_aliases_resolve_and_duplicates_collapse(org: Org) -> None:
    alias = str(uuid.uuid4())
    r = org.w.alice.client.post(
        "/api/v1/pain-points",
        json={"id": alias, "title": "asked for receipt THREE times", "stage_id": org.w.stage(2)},
    )
    assert r.status_code == 200, r.text
    imp = org.improvement(alias, "receipt")
    assert imp["pain_point_ids"] == [org.pp("receipt")]


def test_owner_must_be_an_active_user(org: Org, factory: Factory) -> None:
    c = org.w.manager.client
    base = {"title": "x", "pain_point_ids": [org.pp("receipt")]}
    assert_problem(c.post(URL, json={**base, "owner_id": str(uuid.uuid4())}), 422, "owner_id")
    admin = factory.bearer("admin")
    r = admin.client.patch(f"/api/v1/users/{org.w.bob.id}", json={"active": False})
    assert r.status_code == 200, r.text
    assert_problem(c.post(URL, json={**base, "owner_id": org.w.bob.id}), 422, "owner_id")
    imp = org.improvement("receipt")
    assert_problem(org.patch(imp["id"], owner_id=org.w.bob.id), 422, "owner_id")
    assert org.patch(imp["id"], owner_id=org.w.alice.id).json()["owner_id"] == org.w.alice.id


def test_idempotent_create(org: Org, factory: Factory) -> None:
    c = org.w.manager.client
    body = {
        "id": str(uuid.uuid4()),
        "title": "Accept photos",
        "pain_point_ids": [org.pp("receipt"), org.pp("queue")],
    }
    first = c.post(URL, json=body)
    assert first.status_code == 201
    again = c.post(URL, json=body)
    assert again.status_code == 200
    assert again.json() == first.json()
    # The order of the links is not part of the content.
    swapped = {**body, "pain_point_ids": [org.pp("queue"), org.pp("receipt")]}
    assert c.post(URL, json=swapped).status_code == 200
    # Other content, or another user, under the same id: 409; nothing stored twice.
    assert_problem(c.post(URL, json={**body, "title": "Other"}), 409)
    other = factory.bearer("manager")
    assert_problem(other.client.post(URL, json=body), 409)
    # After an edit, the original create still replays to the stored resource.
    org.patch(body["id"], title="Renamed")
    replay = c.post(URL, json=body)
    assert replay.status_code == 200
    assert replay.json()["title"] == "Renamed"
    assert len(c.get(URL).json()["items"]) == 1


def test_etag_and_if_match(org: Org) -> None:
    imp = org.improvement("receipt")
    url = f"{URL}/{imp['id']}"
    etag = org.w.manager.client.get(url).headers["ETag"]
    r = org.w.manager.client.patch(url, json={"title": "One"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    new_etag = r.headers["ETag"]
    assert new_etag != etag
    stale = org.w.manager.client.patch(url, json={"title": "Two"}, headers={"If-Match": etag})
    assert_problem(stale, 412)
    assert org.w.manager.client.get(url).json()["title"] == "One"
    ok = org.w.manager.client.patch(url, json={"title": "Two"}, headers={"If-Match": new_etag})
    assert ok.status_code == 200
    # A merge changes the links, and so the ETag, without an edit.
    before = org.w.manager.client.get(url).headers["ETag"]
    org.w.manager.client.post(
        f"/api/v1/pain-points/{org.pp('receipt')}/merge", json={"into_id": org.pp("queue")}
    )
    assert org.w.manager.client.get(url).headers["ETag"] != before


def test_every_change_is_audited(org: Org, factory: Factory) -> None:
    imp = org.improvement("receipt")
    org.patch(imp["id"], status="planned", title="Renamed")
    org.patch(imp["id"], pain_point_ids=[org.pp("queue")])
    org.patch(imp["id"])  # no change, no event
    admin = factory.bearer("admin")
    r = admin.client.get(
        "/api/v1/audit", params={"target_type": "improvement", "target_id": imp["id"]}
    )
    assert r.status_code == 200, r.text
    events = r.json()["items"]
    assert [e["action"] for e in events] == [
        "improvement.update",
        "improvement.update",
        "improvement.create",
    ]
    assert all(e["actor_id"] == org.w.manager.id for e in events)
    assert events[0]["details"]["pain_point_ids"] == [org.pp("queue")]
    assert events[1]["details"]["status"] == ["proposed", "planned"]
    assert events[1]["details"]["title"] == "Renamed"
    assert events[2]["details"]["pain_point_ids"] == [org.pp("receipt")]


def test_list_filters(org: Org) -> None:
    a = org.improvement("receipt")
    b = org.improvement("receipt", "queue", status="in_progress")
    c = org.improvement("refund", status="in_progress")
    client = org.w.alice.client

    def ids(**params: Any) -> list[str]:
        r = client.get(URL, params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert ids(status="in_progress") == [c["id"], b["id"]]
    assert ids(pain_point_id=org.pp("receipt")) == [b["id"], a["id"]]
    assert ids(pain_point_id=org.pp("queue"), status="in_progress") == [b["id"]]
    assert ids(pain_point_id=str(uuid.uuid4())) == []
    assert_problem(client.get(URL, params={"status": "late"}), 422, "status")
    assert_problem(client.get(URL, params={"pain_point_id": "x"}), 422, "pain_point_id")
    assert_problem(client.get(URL, params={"limit": 0}), 422, "limit")
    assert_problem(client.get(URL, params={"cursor": "garbage"}), 422, "cursor")


def test_list_pagination(org: Org) -> None:
    made = [org.improvement("receipt")["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = org.w.alice.client.get(URL, params=params).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Stable under inserts: a new one (newest) never shows up on later pages.
        org.improvement("queue")
    assert seen == list(reversed(made))


def test_links_follow_merges(org: Org) -> None:
    on_queue = org.improvement("queue")
    on_both = org.improvement("queue", "receipt")
    r = org.w.manager.client.post(
        f"/api/v1/pain-points/{org.pp('queue')}/merge", json={"into_id": org.pp("receipt")}
    )
    assert r.status_code == 200, r.text
    for imp in (on_queue, on_both):
        got = org.w.alice.client.get(f"{URL}/{imp['id']}").json()
        assert got["pain_point_ids"] == [org.pp("receipt")]
    # The merged id still filters, resolving to the survivor; and it can still be linked.
    listed = org.w.alice.client.get(URL, params={"pain_point_id": org.pp("queue")}).json()
    assert [i["id"] for i in listed["items"]] == [on_both["id"], on_queue["id"]]
    again = org.improvement("queue")
    assert again["pain_point_ids"] == [org.pp("receipt")]


def test_concurrent_creates_with_one_id_store_one(org: Org) -> None:
    body = {"id": str(uuid.uuid4()), "title": "Till", "pain_point_ids": [org.pp("receipt")]}
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        statuses.append(org.w.manager.client.post(URL, json=body).status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [201]
    assert [i["id"] for i in org.w.alice.client.get(URL).json()["items"]] == [body["id"]]


def _race(org: Org, imp_id: str, moves: tuple[str, ...]) -> dict[str, int]:
    statuses: dict[str, int] = {}
    barrier = threading.Barrier(len(moves))

    def move(status: str) -> None:
        barrier.wait()
        statuses[status] = org.patch(imp_id, status=status).status_code

    threads = [threading.Thread(target=move, args=(s,)) for s in moves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_concurrent_moves_are_judged_one_after_the_other(org: Org) -> None:
    # From done, "verified" and "in_progress" are both legal; after verified, in_progress
    # still is, but after in_progress, verified is not. No interleaving may lose a move.
    for _ in range(3):
        imp = org.improvement("receipt", status="done")
        statuses = _race(org, imp["id"], ("verified", "in_progress"))
        final = org.w.alice.client.get(f"{URL}/{imp['id']}").json()
        assert final["status"] == "in_progress"
        assert final["done_at"] is None
        assert final["verified_at"] is None
        assert statuses in (
            {"verified": 200, "in_progress": 200},
            {"verified": 409, "in_progress": 200},
        )
