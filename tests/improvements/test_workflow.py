"""The status workflow: every one of the 36 (from, to) pairs, the timestamps each move sets,
explicit timestamps, and who may move."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.helpers import assert_problem
from tests.improvements.conftest import Org, Solo, iso

STATUSES = ["proposed", "planned", "in_progress", "done", "verified", "dropped"]
LEGAL = {
    ("proposed", "planned"),
    ("planned", "in_progress"),
    ("in_progress", "done"),
    ("done", "verified"),
    ("proposed", "dropped"),
    ("planned", "dropped"),
    ("in_progress", "dropped"),
    ("done", "in_progress"),
    ("verified", "in_progress"),
}
ALLOWED_FROM = {s: sorted((t for f, t in LEGAL if f == s), key=STATUSES.index) for s in STATUSES}


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_every_move(solo: Solo, old: str, new: str) -> None:
    imp = solo.improvement(status=old)
    assert imp["status"] == old
    assert imp["allowed_moves"] == ALLOWED_FROM[old]
    url = f"/api/v1/improvements/{imp['id']}"
    r = solo.manager.client.patch(url, json={"status": new})
    if old == new:
        # Sending the current status is not a move: nothing changes.
        assert r.status_code == 200, r.text
        assert r.json() == imp
        return
    if (old, new) not in LEGAL:
        body = assert_problem(r, 409)
        assert f"from {old} to {new}" in body["detail"]
        for allowed in ALLOWED_FROM[old]:
            assert allowed in body["detail"]
        if not ALLOWED_FROM[old]:
            assert "none" in body["detail"]
        assert solo.manager.client.get(url).json() == imp
        return
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == new
    assert out["allowed_moves"] == ALLOWED_FROM[new]
    started, done, verified = (_parse(out[k]) for k in ("started_at", "done_at", "verified_at"))
    if new == "in_progress":
        assert started is not None
        if old in ("done", "verified"):  # a reopen keeps started_at, clears the completion
            assert out["started_at"] == imp["started_at"]
        assert done is None
        assert verified is None
    elif new == "done":
        assert done is not None
        assert started is not None
        assert started <= done
        assert out["started_at"] == imp["started_at"]
        assert verified is None
    elif new == "verified":
        assert verified is not None
        assert done is not None
        assert done <= verified
        assert out["done_at"] == imp["done_at"]
    elif new == "dropped":
        assert out["started_at"] == imp["started_at"]  # kept: it was worked on
        assert done is None
        assert verified is None
    else:  # planned
        assert started is None
        assert done is None
        assert verified is None
    assert out["updated_at"] > imp["updated_at"]


def test_full_path_sets_each_timestamp_once(org: Org) -> None:
    imp = org.improvement("receipt")
    assert (imp["started_at"], imp["done_at"], imp["verified_at"]) == (None, None, None)
    planned = org.patch(imp["id"], status="planned").json()
    assert planned["started_at"] is None
    started = org.patch(imp["id"], status="in_progress").json()
    assert started["started_at"] is not None
    assert started["started_at"].endswith("Z")
    done = org.patch(imp["id"], status="done").json()
    assert done["done_at"] is not None
    assert done["done_at"].endswith("Z")
    verified = org.patch(imp["id"], status="verified").json()
    assert verified["verified_at"] is not None
    assert verified["done_at"] == done["done_at"]
    reopened = org.patch(imp["id"], status="in_progress").json()
    assert reopened["started_at"] == started["started_at"]  # first entry only
    assert reopened["done_at"] is None
    assert reopened["verified_at"] is None
    redone = org.patch(imp["id"], status="done").json()
    assert redone["done_at"] > done["done_at"]


def test_explicit_timestamps(org: Org, now: datetime) -> None:
    # Recording work done before it was logged: a create straight into done.
    done_at = now - timedelta(days=40)
    imp = org.improvement("receipt", status="done", done_at=iso(done_at))
    assert imp["done_at"] == iso(done_at)
    assert imp["started_at"] == iso(done_at)  # filled from the next later timestamp
    assert imp["verified_at"] is None
    # Offsets are accepted and answered as UTC with Z.
    r = org.patch(imp["id"], done_at="2026-10-01T12:00:00+02:00", started_at="2026-09-01T00:00:00Z")
    assert r.status_code == 200, r.text
    assert r.json()["done_at"] == "2026-10-01T10:00:00Z"
    assert r.json()["started_at"] == "2026-09-01T00:00:00Z"
    moved = org.patch(imp["id"], status="verified", verified_at="2026-10-20T00:00:00Z").json()
    assert moved["verified_at"] == "2026-10-20T00:00:00Z"

    proposed = org.improvement("receipt")
    # A timestamp the status does not hold.
    assert_problem(org.patch(proposed["id"], done_at=iso(now)), 422, field="done_at")
    assert_problem(org.patch(proposed["id"], started_at=iso(now)), 422, field="started_at")
    assert_problem(
        org.w.manager.client.post(
            "/api/v1/improvements",
            json={"title": "x", "pain_point_ids": [org.pp("receipt")], "verified_at": iso(now)},
        ),
        422,
        field="verified_at",
    )
    # In the future; out of order; without an offset; null.
    assert_problem(
        org.patch(imp["id"], done_at=iso(now + timedelta(hours=1))), 422, field="done_at"
    )
    assert_problem(org.patch(imp["id"], done_at="2026-10-25T00:00:00Z"), 422, field="done_at")
    assert_problem(org.patch(imp["id"], started_at="2026-10-02T00:00:00Z"), 422, field="started_at")
    assert_problem(org.patch(imp["id"], done_at="2026-10-01T12:00:00"), 422, field="done_at")
    assert_problem(org.patch(imp["id"], done_at=None), 422, field="done_at")
    # Nothing was stored by the failed attempts.
    stored = org.w.alice.client.get(f"/api/v1/improvements/{imp['id']}").json()
    assert stored == moved


def test_a_move_and_an_illegal_timestamp_store_nothing(org: Org, now: datetime) -> None:
    imp = org.improvement("receipt", status="in_progress")
    r = org.patch(imp["id"], status="done", done_at=iso(now + timedelta(days=1)))
    assert_problem(r, 422, field="done_at")
    assert org.w.alice.client.get(f"/api/v1/improvements/{imp['id']}").json()["status"] == (
        "in_progress"
    )


def test_observers_may_not_move_or_edit(org: Org) -> None:
    imp = org.improvement("receipt")
    r = org.w.alice.client.patch(f"/api/v1/improvements/{imp['id']}", json={"status": "planned"})
    assert_problem(r, 403)
    assert org.w.alice.client.get(f"/api/v1/improvements/{imp['id']}").json()["status"] == (
        "proposed"
    )
