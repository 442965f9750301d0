"""How a window's whole days and hours are cut into the rollups' aligned blocks
(app/backlog/queries.py: Split.blocks, hour_blocks)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.backlog import rollup
from app.backlog.queries import Split, hour_blocks

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
