"""The rollups (app/backlog/rollup.py): every write path marks its days dirty in the writing
transaction, dirty days are read raw, a refresh of dirty days leaves exactly what a full
rebuild makes, and reads refresh dirty past days after their response."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import Session

from app.backlog import queries, rollup, service
from tests.backlog.conftest import ROLLUPS, Builder, iso, rebuild
from tests.factories import Factory

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WINDOW = {"from": "2026-04-20", "to": "2026-05-20"}
STEP = timedelta(days=2, hours=7)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
T = TypeVar("T")


def _pending(app: FastAPI) -> rollup.Pending:
    with Session(app.state.engine) as session:
        return rollup.pending(session)


def _dump(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with app.state.engine.connect() as conn:
        for table in ROLLUPS[:-1]:
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            out[table] = sorted((tuple(str(v) for v in r) for r in rows), key=repr)
    return out


def _corrupt(app: FastAPI) -> None:
    with app.state.write_engine.begin() as conn:
        for table in ("backlog_daily", "backlog_blocks"):  # ×101: a block of two days too
            conn.execute(text(f"UPDATE {table} SET n = n * 101"))


def _setup(factory: Factory) -> tuple[Builder, str, list[str], list[str]]:
    b = Builder(factory.bearer("manager"), [factory.bearer("observer")])
    jid, stages = b.journey("Buy", ["Arrive", "Pay"])
    pids = [b.pain_point(stages[0], t, None) for t in ("Queue", "Card", "Bag")]
    assert all(pids)
    return b, jid, stages, [p for p in pids if p]


def _items(b: Builder) -> list[dict[str, Any]]:
    r = b.observers[0].client.get("/api/v1/backlog", params=WINDOW)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _rollups_equal_raw(monkeypatch: pytest.MonkeyPatch, answers: Callable[[], T]) -> T:
    """The answers on the rollup path, checked equal to the raw path's."""
    got = answers()
    monkeypatch.setattr(service, "USE_ROLLUPS", False)
    want = answers()
    monkeypatch.setattr(service, "USE_ROLLUPS", True)
    assert got == want
    return got


def test_whole_days_come_from_the_rollups_and_dirty_days_from_raw_rows(
    app: FastAPI, factory: Factory
) -> None:
    b, jid, _, (queue, card, _) = _setup(factory)
    b.observation(0, jid, None, None, AT, None, {queue: 2})
    b.observation(0, jid, None, None, AT + DAY, None, {queue: 3, card: 1})
    rebuild(app, full=True)
    assert _pending(app) == rollup.Pending(frozenset(), False)
    _corrupt(app)  # proves the rollup is what is read…
    assert _items(b)[0]["frequency"] == 202
    # …and that a write makes its day dirty, so that day is read raw again.
    b.observation(0, jid, None, None, AT + timedelta(hours=1), None, {card: 4})
    assert _pending(app).days == {AT.date()}
    freq = {i["pain_point"]["id"]: i["frequency"] for i in _items(b)}
    assert freq == {queue: 101 + 1, card: 101 + 1}  # day 2 still corrupt, day 1 exact


def test_every_write_path_marks_its_days(app: FastAPI, factory: Factory) -> None:
    b, jid, stages, (queue, card, bag) = _setup(factory)
    oid = b.observation(0, jid, None, None, AT, None, {queue: 2, card: 1})
    assert oid
    other = b.observation(0, jid, None, None, AT + 5 * DAY, None, {bag: 1})
    assert other

    def marks(action: Any) -> rollup.Pending:
        rebuild(app, full=True)
        action()
        return _pending(app)

    d0, d5 = AT.date(), (AT + 5 * DAY).date()
    assert marks(lambda: b.edit(oid, AT + 2 * DAY, None)).days == {d0, d0 + 2 * DAY}
    assert marks(lambda: b.edit(oid, AT + 2 * DAY, {bag: 5})).days == {d0 + 2 * DAY}
    merged = marks(lambda: b.merge(bag, queue))
    assert (merged.days, merged.totals_stale) == ({d0 + 2 * DAY, d5}, True)
    assert merged.hours == {(d0 + 2 * DAY, 10), (d5, 10)}  # AT is 10:00 UTC
    moved = marks(lambda: b.edit(oid, AT + 2 * DAY + 3 * HOUR, None))
    assert moved.hours == {(d0 + 2 * DAY, 10), (d0 + 2 * DAY, 13)}
    assert not moved.whole
    assert marks(lambda: b.move(card, stages[1])) == rollup.Pending(frozenset(), True)
    assert marks(lambda: b.archive(card)) == rollup.Pending(frozenset(), True)
    assert marks(lambda: b.delete(other)).days == {d5}
    assert marks(lambda: b.visit(0, None, None, AT - 3 * DAY, 4)).days == {d0 - 3 * DAY}
    body = {
        "observations": [
            {
                "journey_id": jid,
                "observed_at": iso(AT - 9 * DAY),
                "note": "late, from the outbox",
                "pain_points": [{"pain_point_id": queue, "severity": 2}],
            }
        ]
    }

    def sync() -> None:
        r = b.observers[0].client.post("/api/v1/sync", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["status"] == "created", r.text

    assert marks(sync).days == {d0 - 9 * DAY}


def test_refreshing_dirty_days_equals_a_full_rebuild(app: FastAPI, factory: Factory) -> None:
    b, jid, stages, (queue, card, bag) = _setup(factory)
    site = b.site("North")
    oids = []
    for k in range(8):
        tags = {queue: 1 + k % 5} if k % 3 else {queue: 2, card: 3}
        oid = b.observation(k % 1, jid, site if k % 2 else None, "phone", AT + k * DAY, k, tags)
        assert oid
        oids.append(oid)
    b.observation(0, jid, site, None, AT + 40 * DAY, None, {bag: 1})  # another month
    b.visit(0, site, "phone", AT + DAY, 7)
    rebuild(app, full=True)
    b.edit(oids[0], AT + 41 * DAY, {card: 5})  # moves to the other month, retagged
    b.delete(oids[3])
    b.merge(card, queue)
    b.move(queue, stages[1])
    b.visit(0, None, "web", AT + 2 * DAY, 3)
    b.observation(0, jid, None, None, AT - 20 * DAY, 9, {bag: 4})  # late
    assert _pending(app).totals_stale
    rebuild(app, full=False)
    assert _pending(app) == rollup.Pending(frozenset(), False)
    refreshed = _dump(app)
    rebuild(app, full=True)
    assert _dump(app) == refreshed


def test_reads_refresh_dirty_past_days_after_responding(app: FastAPI, factory: Factory) -> None:
    b, jid, _, (queue, _, _) = _setup(factory)
    b.observation(0, jid, None, None, AT, None, {queue: 2})
    assert AT.date() in _pending(app).days
    before = _items(b)
    assert _pending(app).days == set()  # the read scheduled the refresh
    assert _items(b) == before
    today = datetime.now(UTC)
    b.observation(0, jid, None, None, today - timedelta(minutes=1), None, {queue: 1})
    r = b.observers[0].client.get("/api/v1/backlog")
    assert r.status_code == 200, r.text
    assert _pending(app).days == {today.date()}  # today keeps changing: read raw, not refreshed


def test_day_ranges_and_split() -> None:
    d = date(2026, 5, 1)
    assert rollup.day_ranges([d + 2 * DAY, d, d + DAY, d + 5 * DAY]) == [
        (d, d + 3 * DAY),
        (d + 5 * DAY, d + 6 * DAY),
    ]


def test_the_triggers_exist_at_head(app: FastAPI) -> None:
    """A later migration that rebuilds one of these tables on SQLite (batch "move and copy")
    drops its triggers silently, and the rollups would stop being exact: recreate them."""
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        q = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    with engine.connect() as conn:
        names = {n for (n,) in conn.execute(text(q)) if n.startswith("backlog_")}
    tables = ("observations", "tags", "visits")
    expected = {f"backlog_{t}_{e}" for t in tables for e in ("insert", "update", "delete")}
    assert names == {*expected, "backlog_pain_points_update"}


def test_distinct_counts_span_months(app: FastAPI, factory: Factory) -> None:
    b, jid, _, (queue, _, _) = _setup(factory)
    site = b.site("North")
    for at in (AT - 10 * DAY, AT, AT + 10 * DAY):  # April and May, one observer, one site
        b.observation(0, jid, site, None, at, None, {queue: 2})
    rebuild(app, full=True)
    items = _items(b)  # whole days only: everything from the presence bitmasks
    assert (items[0]["sites"], items[0]["observers"], items[0]["frequency"]) == (1, 1, 3)


def test_long_windows_read_blocks_of_days_exactly(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half a year of data: windows of 90 to 180 days read aligned blocks of 4, 16 and 64 days
    and 64-day presence blocks, whose boundaries fall inside the windows; the answers equal
    the raw path's, also with a dirty day inside a block and after its refresh."""
    b = Builder(factory.bearer("manager"), [factory.bearer("observer"), factory.bearer("observer")])
    jid, stages = b.journey("Buy", ["Arrive", "Pay"])
    pids = [b.pain_point(stages[k % 2], t, None) for k, t in enumerate(("Queue", "Card", "Bag"))]
    sites = [b.site("North"), b.site("South")]
    start = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    oids = []
    for k in range(80):
        tags = {p: 1 + (k + i) % 5 for i, p in enumerate(pids) if p and (k * (i + 2)) % 5 < 3}
        site = sites[k % 2] if k % 3 else None
        oid = b.observation(k % 2, jid, site, ("phone", "web")[k % 2], start + k * STEP, k, tags)
        assert oid
        oids.append(oid)
        if k % 7 == 0:
            b.visit(k % 2, site, "web", start + k * STEP, k)
    rebuild(app, full=True)
    with app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM backlog_blocks WHERE span = 64")).scalar()
    windows = [
        {"from": "2026-03-01T05:30:00Z", "to": "2026-05-30T13:15:00Z"},
        {"from": "2026-02-03", "to": "2026-06-20"},
        {"from": "2026-01-05T00:00:00Z", "to": "2026-07-04T00:00:00Z"},
        {"from": "2026-01-11T15:45:00Z", "to": "2026-02-11T11:15:00Z"},  # seen at 11:00
    ]
    filters: list[dict[str, str]] = [
        {},
        {"site_id": sites[0]},
        {"channel": "web"},
        {"observer_id": b.observers[1].id},
        {"stage_id": stages[1]},
    ]
    client = b.observers[0].client

    def answers() -> list[Any]:
        out = []
        for w in windows:
            for f in filters:
                r = client.get("/api/v1/backlog", params={**w, **f})
                assert r.status_code == 200, r.text
                out.append(r.json())
            r = client.get(f"/api/v1/journeys/{jid}/heatmap", params=w)
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out

    def same_as_raw() -> None:
        got = _rollups_equal_raw(monkeypatch, answers)
        assert any(a.get("items") for a in got)

    same_as_raw()
    b.edit(oids[40], start + 40 * STEP + timedelta(hours=3), None)  # its day becomes dirty
    with monkeypatch.context() as m:  # reads leave the dirty day for now
        m.setattr(rollup, "refresh_pending", lambda engine: None)
        same_as_raw()
    assert _pending(app).days
    rebuild(app, full=False)
    same_as_raw()


def test_presence_sets_span_chunks_and_new_members(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two members per presence row: sites 0-1 in chunk 0, site 2 in chunk 1; a site first
    seen after the rollups were built has no number yet and is counted from its id."""
    monkeypatch.setattr(rollup, "CHUNK", 2)
    b, jid, _, (queue, card, _) = _setup(factory)
    north, south, east, west = (b.site(n) for n in ("North", "South", "East", "West"))
    for k, site in enumerate((north, south, east, north)):
        b.observation(0, jid, site, None, AT + k * DAY, None, {queue: 2})
    b.observation(0, jid, east, None, AT + DAY, None, {card: 1})
    rebuild(app, full=True)
    with app.state.engine.connect() as conn:
        chunks = conn.execute(text("SELECT DISTINCT chunk FROM backlog_presence")).scalars()
        assert set(chunks) == {0, 1}

    def sites() -> dict[str, int]:
        return {i["pain_point"]["id"]: i["sites"] for i in _items(b)}

    assert sites() == {queue: 3, card: 1}
    # Today's raw rows: West has no number; East is seen again (counted once).
    now = datetime.now(UTC)
    window = {"from": "2026-04-20", "to": iso(now + timedelta(seconds=1))}
    for site in (west, east):
        b.observation(0, jid, site, None, now - timedelta(seconds=30), None, {card: 3})
    r = b.observers[0].client.get("/api/v1/backlog", params=window)
    assert r.status_code == 200, r.text
    got = {i["pain_point"]["id"]: i["sites"] for i in r.json()["items"]}
    assert got == {queue: 3, card: 2}


def test_todays_past_hours_are_refreshed_and_read_from_the_hourly_rollups(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes mark their hour; a refresh during the day recomputes the stale hours before the
    current one (the day-level rollups stay stale, marked -1); reads take those hours from
    the hourly rollups and the current hour raw; the next day's refresh clears the day."""
    b, jid, _, (queue, card, _) = _setup(factory)
    north, south, east = (b.site(n) for n in ("North", "South", "East"))
    day = AT.date()
    first = b.observation(0, jid, north, None, AT, None, {queue: 2})  # 10:00
    assert first
    rebuild(app, full=True)  # North seen at 10 in the day's presence
    b.edit(first, AT + HOUR, None)  # now at 11:00
    b.observation(0, jid, south, None, AT + 3.5 * HOUR, None, {queue: 3, card: 1})  # 13:30
    b.observation(0, jid, east, None, AT + 5 * HOUR + 10 * MINUTE, None, {queue: 1})  # 15:10
    assert _pending(app).hours == {(day, 10), (day, 11), (day, 13), (day, 15)}
    with Session(app.state.write_engine) as session:
        rollup.refresh(session, now=AT + 5 * HOUR + 20 * MINUTE)  # 15:20: hours 10-13
        session.commit()
    marks = _pending(app)
    assert (marks.days, marks.hours, marks.whole) == ({day}, {(day, 15)}, set())
    with app.state.engine.connect() as conn:  # North's bit moved from hour 10 to hour 11
        rows = conn.execute(
            text(
                "SELECT member, bits FROM backlog_presence_daily"
                " WHERE dim = 'a' AND member_kind = 's'"
            )
        ).all()
    bits = {str(m): int(v) for m, v in rows}
    assert bits[uuid.UUID(north).hex] == 1 << 11
    assert bits[uuid.UUID(south).hex] == 1 << 13
    assert uuid.UUID(east).hex not in bits  # the current hour: not refreshed, read raw
    window = {"from": "2026-05-04T00:00:00Z", "to": "2026-05-04T16:00:00Z"}

    def answer() -> list[Any]:
        r = b.observers[0].client.get("/api/v1/backlog", params=window)
        assert r.status_code == 200, r.text
        items: list[Any] = r.json()["items"]
        return items

    def frequencies() -> dict[str, int]:
        return {i["pain_point"]["id"]: i["frequency"] for i in answer()}

    with monkeypatch.context() as m:
        m.setattr(rollup, "refresh_pending", lambda engine: None)
        assert frequencies() == {queue: 3, card: 1}
        assert {i["pain_point"]["id"]: i["sites"] for i in answer()} == {queue: 3, card: 1}
        got = answer()
        m.setattr(service, "USE_ROLLUPS", False)
        assert got == answer()
        m.setattr(service, "USE_ROLLUPS", True)
        with app.state.write_engine.begin() as conn:  # proves the hours 10 and 13 are read
            conn.execute(text("UPDATE backlog_hourly SET n = n * 101"))
            conn.execute(text("UPDATE backlog_hour_blocks SET n = n * 101"))
        assert frequencies() == {queue: 101 + 101 + 1, card: 101}
    with Session(app.state.write_engine) as session:  # the next day: the whole day again
        rollup.refresh(session, now=AT + DAY)
        session.commit()
    assert _pending(app) == rollup.Pending(frozenset(), False)
    assert frequencies() == {queue: 3, card: 1}
    refreshed = _dump(app)
    rebuild(app, full=True)
    assert _dump(app) == refreshed


def test_previous_window_partial_hours_read_as_the_hour_minus_the_rest(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data every 6 minutes: the previous window's partial hours are read from the hourly
    rollup minus the raw rest of the hour (at its end the current window's first partial
    hour, at its start the shorter side), or raw when that is shorter or the hour is stale;
    every answer equals the raw path's."""
    b = Builder(factory.bearer("manager"), [factory.bearer("observer"), factory.bearer("observer")])
    jid, stages = b.journey("Buy", ["Arrive", "Pay"])
    made = [b.pain_point(stages[k % 2], t, None) for k, t in enumerate(("Queue", "Card", "Bag"))]
    pids = [p for p in made if p]
    sites = [b.site("North"), b.site("South")]
    t0 = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    oids = []
    for k in range(230):
        tags = {p: 1 + (k + i) % 5 for i, p in enumerate(pids) if (k * (i + 2)) % 7 < 4}
        oid = b.observation(
            k % 2, jid, sites[k % 3 % 2], ("phone", "web")[k % 2], t0 + k * 6 * MINUTE, k, tags
        )
        assert oid
        oids.append(oid)
    rebuild(app, full=True)
    windows = [
        {"from": "2026-05-05T10:20:00Z", "to": "2026-05-05T13:37:00Z"},  # P 07:03
        {"from": "2026-05-05T11:50:00Z", "to": "2026-05-05T13:05:00Z"},  # P 10:35: raw
        {"from": "2026-05-05T03:10:00Z", "to": "2026-05-05T13:55:00Z"},  # P 05-04 16:25
        {"from": "2026-05-05T00:10:00Z", "to": "2026-05-05T06:00:00Z"},  # P 05-04 18:20
    ]
    filters: list[dict[str, str]] = [{}, {"site_id": sites[0]}, {"channel": "web"}]
    client = b.observers[0].client

    def answers() -> list[Any]:
        out = []
        for w in windows:
            for f in filters:
                r = client.get("/api/v1/backlog", params={**w, **f})
                assert r.status_code == 200, r.text
                out.append(r.json())
        return out

    def same_as_raw() -> None:
        got = _rollups_equal_raw(monkeypatch, answers)
        assert all(i["previous_frequency"] > 0 for a in got[:3] for i in a["items"])

    same_as_raw()
    # 16:25's hour becomes stale (an observation moves into it): read raw until refreshed.
    b.edit(oids[5], datetime(2026, 5, 4, 16, 40, tzinfo=UTC), None)
    with monkeypatch.context() as m:
        m.setattr(rollup, "refresh_pending", lambda engine: None)
        same_as_raw()
    rebuild(app, full=False)
    same_as_raw()


def test_members_seen_only_in_a_partial_hour_are_counted(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partial hour at the window's start with clean rollups is read raw only when its
    hour's members are not all counted already: East, seen only at 10:40 inside the window,
    counts; West, seen at 10:10 in the same hour but before the window, does not."""
    b, jid, _, (queue, _, _) = _setup(factory)
    north, east, west = (b.site(n) for n in ("North", "East", "West"))
    day = datetime(2026, 5, 5, tzinfo=UTC)
    for at, site in (
        (day + 10 * HOUR + 40 * MINUTE, east),
        (day + 10 * HOUR + 10 * MINUTE, west),
        (day + 10 * HOUR + 30 * MINUTE, north),
        (day + 14 * HOUR, north),
        (day + 2 * DAY + 3 * HOUR, north),
    ):
        assert b.observation(0, jid, site, None, at, None, {queue: 2})
    rebuild(app, full=True)

    def sites(window: dict[str, str]) -> int:
        r = b.observers[0].client.get("/api/v1/backlog", params=window)
        assert r.status_code == 200, r.text
        (item,) = r.json()["items"]
        return int(item["sites"])

    def both(window: dict[str, str]) -> int:
        return _rollups_equal_raw(monkeypatch, lambda: sites(window))

    assert both({"from": "2026-05-05T10:20:00Z", "to": "2026-05-08T00:00:00Z"}) == 2
    assert both({"from": "2026-05-05T10:35:00Z", "to": "2026-05-08T00:00:00Z"}) == 2
    assert both({"from": "2026-05-05T10:45:00Z", "to": "2026-05-08T00:00:00Z"}) == 1
    assert both({"from": "2026-05-05T10:05:00Z", "to": "2026-05-05T10:50:00Z"}) == 3


def test_members_seen_only_in_a_marked_hour_are_counted(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marked hour (writes in it since the last refresh) is read per pain point for the
    distinct counts only for those who made an observation in it and are not counted yet
    for some pain point: North, counted from the clean days, forces no read; East (new, no
    member number yet) and West (numbered, seen before on another pain point) do, and
    count."""
    b, jid, _, (queue, card, bag) = _setup(factory)
    north, east, west = b.site("North"), b.site("East"), b.site("West")
    day = datetime(2026, 5, 5, tzinfo=UTC)
    for k in range(4):
        assert b.observation(0, jid, north, None, day + k * DAY + 9 * HOUR, None, {queue: 2})
    assert b.observation(0, jid, west, None, day + 2 * DAY + 9 * HOUR, None, {bag: 2})
    assert b.observation(0, jid, north, None, day + 3 * DAY + 8 * HOUR, None, {bag: 1})
    rebuild(app, full=True)
    reads: list[int] = []
    real = queries.presence_statement

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "presence_statement", counted)
    monkeypatch.setattr(rollup, "refresh_pending", lambda engine: None)  # the marks stay
    window = {"from": "2026-05-04T00:00:00Z", "to": "2026-05-10T00:00:00Z"}

    def sites() -> dict[str, int]:
        r = b.observers[0].client.get("/api/v1/backlog", params=window)
        assert r.status_code == 200, r.text
        return {i["pain_point"]["id"]: i["sites"] for i in r.json()["items"]}

    def read(at_minute: int, site: str, pain_point: str) -> dict[str, int]:
        at = day + DAY + 10 * HOUR + at_minute * MINUTE  # 2026-05-06 10:00–11:00, marked
        assert b.observation(0, jid, site, None, at, None, {pain_point: 1})
        assert (day + DAY).date() in _pending(app).days
        reads.clear()
        return _rollups_equal_raw(monkeypatch, sites)

    assert read(30, north, queue) == {queue: 1, bag: 2}
    assert len(reads) == 1  # everyone in the marked hour counted already: no second read
    assert read(35, west, queue) == {queue: 2, bag: 2}  # the observer is counted, West not
    assert len(reads) == 2
    assert read(40, east, queue) == {queue: 3, bag: 2}  # East: no member number yet
    assert len(reads) == 2
    assert read(50, east, card) == {queue: 3, bag: 2, card: 1}


def test_statements_are_built_once_per_shape(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reads whose windows differ only inside their edge hours have the same shape: the
    second builds no statement (its raw instants are parameters of the first's statements),
    and each answers for its own window, as the raw path does."""
    b = Builder(factory.bearer("manager"), [factory.bearer("observer"), factory.bearer("observer")])
    jid, stages = b.journey("Buy", ["Arrive", "Pay"])
    made = [b.pain_point(stages[k % 2], t, None) for k, t in enumerate(("Queue", "Card", "Bag"))]
    pids = [p for p in made if p]
    site = b.site("North")
    t0 = datetime(2026, 5, 5, 6, 0, tzinfo=UTC)
    for k in range(90):
        tags = {p: 1 + (k + i) % 5 for i, p in enumerate(pids) if (k * (i + 2)) % 7 < 4}
        assert b.observation(
            k % 2, jid, site if k % 3 else None, "web", t0 + k * 6 * MINUTE, k, tags
        )
    b.visit(0, site, "web", datetime(2026, 5, 5, 13, 30, tzinfo=UTC), 7)
    rebuild(app, full=True)
    built: list[str] = []
    real_slots = queries.slots

    def counting_slots(prefix: str, n: int) -> Any:
        built.append(prefix)
        return real_slots(prefix, n)

    monkeypatch.setattr(queries, "slots", counting_slots)
    client = b.observers[0].client

    def read(window: dict[str, str]) -> Any:
        r = client.get("/api/v1/backlog", params=window)
        assert r.status_code == 200, r.text
        return r.json()

    early = {"from": "2026-05-05T10:20:00Z", "to": "2026-05-05T13:37:00Z"}
    late = {"from": "2026-05-05T10:26:00Z", "to": "2026-05-05T13:43:00Z"}
    first = _rollups_equal_raw(monkeypatch, lambda: read(early))
    built.clear()
    second = read(late)
    assert built == []  # nothing built: the same statements, other parameters
    assert second == _rollups_equal_raw(monkeypatch, lambda: read(late))
    assert first["items"] != second["items"]
