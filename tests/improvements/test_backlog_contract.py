"""What the backlog gets from improvements: the linked improvements of each pain point and the
regression rule, each in a fixed, small number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from app.backlog import rollup
from app.backlog import service as backlog
from app.improvements.schemas import ImprovementRef
from app.improvements.service import for_backlog, regressions
from app.models import ImprovementStatus
from tests.improvements.conftest import Org, iso

DAY = timedelta(days=1)


@contextmanager
def count_queries(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def before(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):
            statements.append(args[2])

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def regressed(db: Session, ids: list[uuid.UUID], now: datetime) -> set[uuid.UUID]:
    db.rollback()  # a fresh snapshot: the app wrote since (SQLite reads keep theirs)
    return regressions(db, ids, now)


def _verified(org: Org, name: str, now: datetime, *, done_days: int, verified_days: int) -> str:
    imp = org.improvement(
        name,
        status="verified",
        done_at=iso(now - done_days * DAY),
        verified_at=iso(now - verified_days * DAY),
    )
    return str(imp["id"])


def _receipt_comes_back(org: Org, now: datetime) -> str:
    """receipt verified 14 days ago (done 30 days ago): 2 in the before window (0.5/week), 3
    since (1.5/week). Returns the improvement's id."""
    imp = _verified(org, "receipt", now, done_days=30, verified_days=14)
    for i in range(2):
        org.observe(now - (31 + i) * DAY, "receipt")
    for i in range(3):
        org.observe(now - (13 - i) * DAY, "receipt")
    return imp


def test_for_backlog_lists_improvements_without_dropped(org: Org, db: Session) -> None:
    first = org.improvement("receipt", "queue", title="Accept a photo of the receipt")
    second = org.improvement("receipt", status="in_progress", title="Train agents")
    org.improvement("receipt", status="dropped", title="Ask twice")
    refund = org.improvement("refund", status="verified")
    ids = [uuid.UUID(org.pp(n)) for n in ("receipt", "queue", "refund", "elsewhere")]
    with count_queries(db) as statements:
        got = for_backlog(db, ids)
    assert len(statements) == 1
    receipt, queue, refund_id = ids[0], ids[1], ids[2]
    assert got[receipt] == [
        ImprovementRef(id=first["id"], title=first["title"], status=ImprovementStatus.proposed),
        ImprovementRef(
            id=second["id"], title=second["title"], status=ImprovementStatus.in_progress
        ),
    ]
    assert [r.id for r in got[queue]] == [uuid.UUID(first["id"])]
    assert got[refund_id][0].status == ImprovementStatus.verified
    assert uuid.UUID(refund["id"]) == got[refund_id][0].id
    assert ids[3] not in got
    assert for_backlog(db, []) == {}


def test_for_backlog_follows_merges(org: Org, db: Session) -> None:
    imp = org.improvement("queue")
    both = org.improvement("queue", "receipt")
    r = org.w.manager.client.post(
        f"/api/v1/pain-points/{org.pp('queue')}/merge", json={"into_id": org.pp("receipt")}
    )
    assert r.status_code == 200, r.text
    got = for_backlog(db, [uuid.UUID(org.pp("receipt"))])
    assert [x.id for x in got[uuid.UUID(org.pp("receipt"))]] == [
        uuid.UUID(imp["id"]),
        uuid.UUID(both["id"]),
    ]


def test_regressions(org: Org, db: Session, now: datetime) -> None:
    _receipt_comes_back(org, now)
    # queue: 8 before (2/week), 1 since (0.5/week): the improvement held.
    _verified(org, "queue", now, done_days=30, verified_days=14)
    for i in range(8):
        org.observe(now - (31 + i) * DAY, "queue")
    org.observe(now - 2 * DAY, "queue")
    # refund: verified 3 days ago — too early to judge, however many come back.
    _verified(org, "refund", now, done_days=10, verified_days=3)
    for i in range(3):
        org.observe(now - (2 - i) * DAY - timedelta(hours=1), "refund")
    # elsewhere: done but never verified.
    org.improvement("elsewhere", status="done", done_at=iso(now - 30 * DAY))
    org.observe(now - DAY, "elsewhere")

    ids = [uuid.UUID(org.pp(n)) for n in ("receipt", "queue", "refund", "elsewhere")]
    ids += [uuid.uuid4() for _ in range(50)]
    with count_queries(db) as statements:
        got = regressions(db, ids, now)
    assert len(statements) <= 4  # links, marks, rollup counts, marked hours' raw counts
    assert got == {uuid.UUID(org.pp("receipt"))}
    # A week later the refund improvement is judged: 3 since verified vs 0 before.
    assert uuid.UUID(org.pp("refund")) in regressed(db, ids, now + 7 * DAY)
    assert regressed(db, [], now) == set()


def test_regression_needs_a_rate_strictly_above(org: Org, db: Session, now: datetime) -> None:
    # 28 days before at 1/week; 14 days since verified at 1/week: not above.
    _verified(org, "receipt", now, done_days=20, verified_days=14)
    for i in range(4):
        org.observe(now - (21 + 5 * i) * DAY, "receipt")
    for i in range(2):
        org.observe(now - (13 - i) * DAY, "receipt")
    pid = uuid.UUID(org.pp("receipt"))
    assert regressed(db, [pid], now) == set()
    # Deleted observations do not count.
    gone = org.observe(now - 2 * DAY, "receipt")
    assert org.w.alice.client.delete(f"/api/v1/observations/{gone}").status_code == 204
    assert regressed(db, [pid], now) == set()
    org.observe(now - 3 * DAY, "receipt")
    assert regressed(db, [pid], now) == {pid}


def test_regressions_follow_merges_and_reopens(org: Org, db: Session, now: datetime) -> None:
    imp = _verified(org, "queue", now, done_days=30, verified_days=10)
    org.observe(now - 5 * DAY, "receipt")
    receipt = uuid.UUID(org.pp("receipt"))
    assert regressed(db, [receipt], now) == set()  # not linked to receipt (yet)
    r = org.w.manager.client.post(
        f"/api/v1/pain-points/{org.pp('queue')}/merge", json={"into_id": org.pp("receipt")}
    )
    assert r.status_code == 200, r.text
    assert regressed(db, [receipt], now) == {receipt}
    # Reopened, it is no longer verified: nothing to regress from.
    assert org.patch(imp, status="in_progress").status_code == 200
    assert regressed(db, [receipt], now) == set()


def test_window_counts_scale_past_sqlite_compound_limits(
    org: Org, db: Session, now: datetime
) -> None:
    org.observe(now - DAY, "receipt")
    pid = uuid.UUID(org.pp("receipt"))
    windows = [(i, pid if i % 2 else uuid.uuid4(), now - 2 * DAY, now) for i in range(1201)]
    with count_queries(db) as statements:
        counts = backlog.window_counts(db, windows)
    # The marks, then one statement per 400 parts: a window over two partial days makes five
    # (whole days, whole hours, two partial hours and the hour marked by the observation).
    per_query = backlog.COUNT_PARTS_PER_QUERY
    assert 1 + 1201 * 2 // per_query < len(statements) <= 2 + 1201 * 5 // per_query
    assert {k: n for k, n in counts.items() if n} == dict.fromkeys(range(1, 1201, 2), 1)


def _refresh(db: Session) -> None:
    with Session(db.get_bind()) as session:
        rollup.refresh(session)
        session.commit()
    db.rollback()


@pytest.mark.parametrize("refreshed", [False, True])
def test_window_counts_equal_the_raw_rows(
    org: Org, db: Session, now: datetime, refreshed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows on whole hours and on any instant, over days read from the rollups, marked
    days and hours (never refreshed, or changed since) and partial hours, count what the raw
    rows count."""
    hour = timedelta(hours=1)
    base = now.replace(minute=0, second=0) - 40 * DAY
    for i in range(60):  # every 15 hours and 20 minutes: across days and hours
        org.observe(base + i * (15 * hour + timedelta(minutes=20)), "receipt")
    org.observe(base + 3 * DAY + hour, "queue", "receipt")
    gone = org.observe(base + 5 * DAY, "receipt")
    assert org.w.alice.client.delete(f"/api/v1/observations/{gone}").status_code == 204
    if refreshed:  # then changed: marked days and hours whose rollup rows are stale
        _refresh(db)
        org.observe(base + 10 * DAY + 5 * hour, "receipt")
        gone = org.observe(base + 2 * DAY + 8 * hour, "receipt")
        _refresh(db)
        assert org.w.alice.client.delete(f"/api/v1/observations/{gone}").status_code == 204
    pids = [uuid.UUID(org.pp("receipt")), uuid.UUID(org.pp("queue"))]
    windows = []
    for k, (s, e) in enumerate(
        [
            (base, base + 28 * DAY),
            (base + 2 * DAY + 7 * hour, base + 9 * DAY),
            (base + 30 * DAY + 3 * hour, now.replace(minute=0, second=0)),
            (base + 3 * DAY + timedelta(minutes=50), base + 4 * DAY + timedelta(minutes=70)),
            (base + hour, base + 5 * hour),
            (base - 3 * DAY, now),
        ]
    ):
        windows += [(2 * k, pids[0], s, e), (2 * k + 1, pids[1], s, e)]
    got = backlog.window_counts(db, windows)
    monkeypatch.setattr(backlog, "USE_ROLLUPS", False)
    raw = backlog.window_counts(db, windows)
    assert {k: n for k, n in got.items() if n} == {k: n for k, n in raw.items() if n}
    assert raw[0] > 30  # the windows hold data
    assert raw[1] == 1


def test_regressions_read_no_raw_rows_once_refreshed(org: Org, db: Session, now: datetime) -> None:
    _receipt_comes_back(org, now)
    receipt = uuid.UUID(org.pp("receipt"))
    _refresh(db)
    with count_queries(db) as statements:
        got = regressions(db, [receipt], now)
    assert got == {receipt}
    assert len(statements) == 3
    assert not any("observation_tags" in s for s in statements), statements
    # An observation since marks its hour: that hour alone is read raw, once, and counted.
    org.observe(now - 12 * DAY, "receipt")
    db.rollback()
    with count_queries(db) as statements:
        assert regressions(db, [receipt], now) == {receipt}
    assert sum("observation_tags" in s for s in statements) == 1


@pytest.mark.parametrize("side_links", [50, 0])
def test_backlog_items_carry_improvements_and_regressions(
    org: Org, now: datetime, side_links: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read with the ranking (PostgreSQL: for every linked pain point on the second
    connection) or, past SIDE_REGRESSION_LINKS verified links, flagged after the ranking."""
    monkeypatch.setattr(backlog, "SIDE_REGRESSION_LINKS", side_links)
    verified = _receipt_comes_back(org, now)
    dropped = org.improvement("receipt", status="dropped")
    planned = org.improvement("queue", status="planned")
    org.observe(now - DAY, "queue")
    r = org.w.manager.client.get("/api/v1/backlog", params={"journey_id": org.w.journey["id"]})
    assert r.status_code == 200, r.text
    items = {i["pain_point"]["id"]: i for i in r.json()["items"]}
    receipt, queue = items[org.pp("receipt")], items[org.pp("queue")]
    assert [x["id"] for x in receipt["improvements"]] == [verified]
    assert receipt["improvements"][0]["status"] == "verified"
    assert dropped["id"] not in str(receipt)
    assert receipt["regressed"] is True
    assert queue["improvements"] == [
        {"id": planned["id"], "title": planned["title"], "status": "planned"}
    ]
    assert queue["regressed"] is False
