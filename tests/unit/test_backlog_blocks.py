"""How a window's whole days and hours are cut into the rollups' aligned blocks
(app/backlog/queries.py: Split.blocks, hour_blocks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.backlog import rollup
from app.backlog.queries import Split, hour_blocks, split, weighted_ranges

DAY = timedelta(days=1)
ORIGIN = date(2026, 1, 1)


@given(
    st.integers(0, 400),
    st.integers(0, 200),
    st.frozensets(st.integers(0, 600), max_size=6),
)
def test_blocks_cover_each_clean_day_once(lo: int, length: int, dirty: frozenset[int]) -> None:
    start, end = ORIGIN + lo * DAY, ORIGIN + (lo + length) * DAY
    skip = frozenset(ORIGIN + k * DAY for k in dirty)
    blocks, singles = Split(start, end, skip).blocks()
    covered: list[date] = list(singles)
    for span, first in blocks:
        assert span in rollup.SPANS
        assert (first - rollup.EPOCH).days % span == 0  # aligned
        days = [first + k * DAY for k in range(span)]
        assert not skip & set(days)  # a block holds no dirty day
        covered += days
    want = [start + k * DAY for k in range(length) if start + k * DAY not in skip]
    assert sorted(covered) == want  # every clean day of the window, once
    if not skip:  # at most 3 of each span below the largest on each side
        assert len(blocks) + len(singles) <= 2 * 3 * len(rollup.SPANS) + length // 64 + 1


def test_a_quarter_reads_few_rows() -> None:
    start = date(2026, 9, 1)
    blocks, singles = Split(start, start + 89 * DAY, frozenset()).blocks()
    assert len(blocks) + len(singles) <= 12
    assert any(span == 64 for span, _ in blocks) or len(blocks) >= 5


@given(st.integers(0, 23), st.integers(1, 24))
def test_hour_blocks_cover_each_hour_once(first: int, length: int) -> None:
    end = min(24, first + length)
    d = date(2026, 5, 4)
    blocks, singles = hour_blocks([(d, first, end)])
    covered = [h for _, h in singles]
    for day, span, h in blocks:
        assert day == d
        assert span in rollup.HOUR_SPANS
        assert h % span == 0
        covered += list(range(h, h + span))
    assert sorted(covered) == list(range(first, end))


MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 5, 4, tzinfo=UTC)


@given(
    st.integers(0, 3 * 24 * 60),  # the current window's start, in minutes after T0
    st.integers(1, 3 * 24 * 60),  # its length
    st.lists(st.integers(-4 * 24 * 60, 7 * 24 * 60), max_size=40),  # instants with data
    st.frozensets(st.tuples(st.integers(-3, 6), st.integers(-1, 23)), max_size=4),  # marks
)
def test_weighted_ranges_count_every_instant_of_both_windows_once(
    start: int, length: int, data: list[int], marks: frozenset[tuple[int, int]]
) -> None:
    """Rollup days and hours plus the weighted raw ranges count each instant once in its
    window, whichever partial hours of the previous window are read as the hour minus the
    rest; and never read more raw time than before."""
    s, e = T0 + start * MINUTE, T0 + (start + length) * MINUTE
    p = s - (e - s)
    days = frozenset(T0.date() + k * DAY for k, _ in marks)
    dirty = rollup.Pending(
        days,
        False,
        frozenset((T0.date() + k * DAY, h) for k, h in marks if h >= 0),
        frozenset(T0.date() + k * DAY for k, h in marks if h == -1 and k % 2),
    )
    cur, prev0 = split(s, e, dirty), split(p, s, dirty)
    prev, weighted = weighted_ranges(cur, prev0, dirty)
    assert (prev.lo, prev.hi, prev.skip) == (prev0.lo, prev0.hi, prev0.skip)

    def rolled(sp: Split, t: datetime) -> int:
        d = t.date()
        whole = sp.lo is not None and sp.lo <= d < sp.hi and d not in sp.skip  # type: ignore[operator]
        hour = any(d == day and a <= t.hour < b for day, a, b in sp.hours)
        assert not (whole and hour)
        return int(whole) + int(hour)

    for t in (T0 + m * MINUTE for m in data):
        c = rolled(cur, t) + sum(w.cur for w in weighted if w.start <= t < w.end)
        q = rolled(prev, t) + sum(w.prev for w in weighted if w.start <= t < w.end)
        assert c == int(s <= t < e)
        assert q == int(p <= t < s)
    for w in weighted:
        assert (w.cur, w.prev) in {(0, 1), (0, -1), (1, 0), (1, 1), (1, -1)}
        if w.cur == 1:
            assert s <= w.start < w.end <= e
    read = sum((w.end - w.start for w in weighted), timedelta(0))
    before = sum((b - a for a, b in (*cur.raw, *prev0.raw)), timedelta(0))
    assert read <= before
