"""The effect endpoint on hand-built observations: window bounds, counting rules, per-week
rates, change, enough_data both ways, merges, validation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.improvements.service import binomial_two_sided_p
from tests.helpers import assert_problem
from tests.improvements.conftest import Org, iso

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def test_windows_bounds_and_counting(org: Org, now: datetime) -> None:
    done = now - 60 * DAY
    imp = org.improvement("receipt", "queue", status="done", done_at=iso(done))
    org.observe(done - 28 * DAY, "receipt")  # first instant of before
    org.observe(done - 28 * DAY - SECOND, "receipt")  # too early
    org.observe(done - SECOND, "receipt", "queue")  # two linked tags: counted once
    org.observe(done, "receipt")  # first instant of after
    org.observe(done + 28 * DAY - SECOND, "queue")  # last second of after
    org.observe(done + 28 * DAY, "receipt")  # too late
    org.observe(done + DAY, "refund")  # not linked
    org.observe(done + DAY, who="bob")  # untagged
    gone = org.observe(done + 2 * DAY, "receipt")
    assert org.w.alice.client.delete(f"/api/v1/observations/{gone}").status_code == 204

    r = org.effect(imp["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["window_days"] == 28
    assert body["before"] == {
        "from": iso(done - 28 * DAY),
        "to": iso(done),
        "frequency": 2,
        "per_week": 0.5,
    }
    assert body["after"] == {
        "from": iso(done),
        "to": iso(done + 28 * DAY),
        "frequency": 2,
        "per_week": 0.5,
    }
    assert body["change"] == 0.0
    assert body["p_value"] == 1.0
    assert body["enough_data"] is False  # ended, but 4 observations are too few

    week = org.effect(imp["id"], window_days=7).json()
    assert (week["before"]["frequency"], week["after"]["frequency"]) == (1, 1)
    assert week["before"]["from"] == iso(done - 7 * DAY)
    assert week["after"]["per_week"] == 1.0


def test_change_and_per_week(org: Org, now: datetime) -> None:
    done = now - 100 * DAY
    imp = org.improvement("receipt", status="verified", done_at=iso(done))
    for i in range(4):
        org.observe(done - (i + 1) * DAY, "receipt")
    org.observe(done + 3 * DAY, "receipt")
    body = org.effect(imp["id"], window_days=14).json()
    assert body["before"]["frequency"] == 4
    assert body["before"]["per_week"] == 4 * 7 / 14
    assert body["after"]["per_week"] == 7 / 14
    assert body["change"] == pytest.approx(-0.75)
    assert body["p_value"] == pytest.approx(0.375)
    assert body["enough_data"] is False


def test_empty_windows(org: Org, now: datetime) -> None:
    done = now - 60 * DAY
    imp = org.improvement("receipt", status="done", done_at=iso(done))
    body = org.effect(imp["id"]).json()
    assert body["before"]["frequency"] == body["after"]["frequency"] == 0
    assert body["before"]["per_week"] == body["after"]["per_week"] == 0
    assert body["change"] is None
    assert body["p_value"] == 1.0
    assert body["enough_data"] is False
    # Nothing before, something after: change is still null (no base rate).
    org.observe(done + DAY, "receipt")
    body = org.effect(imp["id"]).json()
    assert (body["before"]["frequency"], body["after"]["frequency"]) == (0, 1)
    assert body["change"] is None


def test_enough_data_when_ended_with_a_significant_drop(org: Org, now: datetime) -> None:
    done = now - 60 * DAY
    imp = org.improvement("receipt", status="done", done_at=iso(done))
    for i in range(12):
        org.observe(done - (i + 1) * DAY, "receipt")
    org.observe(done + DAY, "receipt")
    body = org.effect(imp["id"]).json()
    assert (body["before"]["frequency"], body["after"]["frequency"]) == (12, 1)
    assert body["p_value"] == pytest.approx(2 * (1 + 13) / 2**13)
    assert body["change"] == pytest.approx(1 / 12 - 1)
    assert body["enough_data"] is True


def test_not_enough_data_while_the_after_window_runs(org: Org, now: datetime) -> None:
    done = now - 10 * DAY
    imp = org.improvement("receipt", status="done", done_at=iso(done))
    for i in range(12):
        org.observe(done - (i + 1) * DAY, "receipt")
    org.observe(done + DAY, "receipt")
    body = org.effect(imp["id"]).json()
    assert (body["before"]["frequency"], body["after"]["frequency"]) == (12, 1)
    assert body["p_value"] < 0.05
    assert body["enough_data"] is False
    # Measured over 7-day windows, the after window has ended.
    assert org.effect(imp["id"], window_days=7).json()["after"]["to"] < iso(now)


@pytest.mark.parametrize(
    ("before", "after", "enough"),
    [
        (9, 0, False),  # p ≈ 0.004, but fewer than 10 observations
        (10, 0, True),  # the smallest count that may be enough
        (6, 6, False),  # plenty, and no change
        (8, 3, False),  # p ≈ 0.23: a drop within noise
    ],
)
def test_enough_data_rule(org: Org, now: datetime, before: int, after: int, enough: bool) -> None:
    done = now - 60 * DAY
    imp = org.improvement("receipt", status="done", done_at=iso(done))
    for i in range(before):
        org.observe(done - (i + 1) * DAY, "receipt")
    for i in range(after):
        org.observe(done + i * DAY, "receipt")
    body = org.effect(imp["id"]).json()
    assert (body["before"]["frequency"], body["after"]["frequency"]) == (before, after)
    assert body["enough_data"] is enough


def test_merged_pain_points_count_through_the_survivor(org: Org, now: datetime) -> None:
    done = now - 60 * DAY
    # Linked to "queue", which is then merged into "receipt"; and a second improvement linked
    # to "receipt" sees observations made on "queue" before the merge.
    on_queue = org.improvement("queue", status="done", done_at=iso(done))
    on_receipt = org.improvement("receipt", status="done", done_at=iso(done))
    org.observe(done - DAY, "queue")
    org.observe(done - 2 * DAY, "receipt", "queue")  # both: one observation
    org.observe(done + DAY, "receipt")
    assert org.effect(on_receipt["id"]).json()["before"]["frequency"] == 1
    r = org.w.manager.client.post(
        f"/api/v1/pain-points/{org.pp('queue')}/merge", json={"into_id": org.pp("receipt")}
    )
    assert r.status_code == 200, r.text
    for imp in (on_queue, on_receipt):
        body = org.effect(imp["id"]).json()
        assert (body["before"]["frequency"], body["after"]["frequency"]) == (2, 1)
    got = org.w.alice.client.get(f"/api/v1/improvements/{on_queue['id']}").json()
    assert got["pain_point_ids"] == [org.pp("receipt")]


def test_conflict_without_done_at(org: Org, now: datetime) -> None:
    imp = org.improvement("receipt", status="in_progress")
    body = assert_problem(org.effect(imp["id"]), 409)
    assert "done_at" in body["detail"]
    org.patch(imp["id"], status="done")
    assert org.effect(imp["id"]).status_code == 200
    org.patch(imp["id"], status="in_progress")  # reopened: the completion no longer stands
    assert_problem(org.effect(imp["id"]), 409)
    dropped = org.improvement("receipt", status="dropped")
    assert_problem(org.effect(dropped["id"]), 409)
    assert_problem(org.effect("0b6d7a0e-52a6-4f55-9d3c-3c2d1c1d9f00"), 404)


@pytest.mark.parametrize("value", ["0", "366", "-1", "x", "2.5"])
def test_window_days_validation(org: Org, now: datetime, value: str) -> None:
    imp = org.improvement("receipt", status="done", done_at=iso(now - 400 * DAY))
    assert_problem(org.effect(imp["id"], window_days=value), 422, field="window_days")


def test_window_days_limits(org: Org, now: datetime) -> None:
    done = now - 400 * DAY
    imp = org.improvement("receipt", status="done", done_at=iso(done))
    org.observe(done - 300 * DAY, "receipt")
    body = org.effect(imp["id"], window_days=365).json()
    assert body["before"]["frequency"] == 1
    assert body["before"]["per_week"] == 7 / 365
    assert org.effect(imp["id"], window_days=1).json()["before"]["frequency"] == 0


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [
        (0, 0, 1.0),
        (0, 1, 1.0),
        (3, 6, 1.0),
        (0, 6, 2 / 64),
        (6, 6, 2 / 64),
        (1, 13, 28 / 8192),
        (3, 10, 0.34375),
        (7, 10, 0.34375),
        (3, 11, 0.2265625),
    ],
)
def test_binomial_p_value(k: int, n: int, p: float) -> None:
    # Reference values: R's binom.test(k, n, 0.5)$p.value.
    assert binomial_two_sided_p(k, n) == pytest.approx(p)


def test_binomial_p_value_large_n_is_exact_and_fast() -> None:
    assert binomial_two_sided_p(5000, 10000) == 1.0
    assert binomial_two_sided_p(4800, 10000) < 1e-4
