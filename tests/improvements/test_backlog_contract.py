"""What the backlog gets from improvements: the linked improvements of each pain point and the
regression rule, each in a fixed, small number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from app.improvements import queries
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
    # receipt: 2 in the before window (0.5/week), 3 in the 14 days since verified (1.5/week).
    _verified(org, "receipt", now, done_days=30, verified_days=14)
    for i in range(2):
        org.observe(now - (31 + i) * DAY, "receipt")
    for i in range(3):
        org.observe(now - (13 - i) * DAY, "receipt")
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
    assert len(statements) <= 2
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
    windows = [
        queries.Window(i, pid if i % 2 else uuid.uuid4(), now - 2 * DAY, now) for i in range(1201)
    ]
    with count_queries(db) as statements:
        counts = queries.window_counts(db, windows)
    assert len(statements) == 5  # 250 windows a query
    assert counts == dict.fromkeys(range(1, 1201, 2), 1)


def test_backlog_items_carry_improvements_and_regressions(org: Org, now: datetime) -> None:
    verified = _verified(org, "receipt", now, done_days=30, verified_days=14)
    dropped = org.improvement("receipt", status="dropped")
    planned = org.improvement("queue", status="planned")
    for i in range(2):
        org.observe(now - (31 + i) * DAY, "receipt")
    for i in range(3):
        org.observe(now - (13 - i) * DAY, "receipt")
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
