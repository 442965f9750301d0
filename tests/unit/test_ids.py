"""new_id: time-ordered UUIDs (version 7) for every row the server creates."""

from __future__ import annotations

import time
from unittest import mock

from app.models import base
from app.models.base import new_id


def test_ids_are_version_7_and_carry_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    oid = new_id()
    after = time.time_ns() // 1_000_000
    assert oid.version == 7
    assert oid.variant == "specified in RFC 4122"
    assert before <= oid.int >> 80 <= after


def test_ids_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids
    assert sorted(str(i) for i in ids) == [str(i) for i in ids]  # as text, too (SQLite)


def test_a_clock_stepping_back_still_gives_a_greater_id() -> None:
    first = new_id()
    with mock.patch.object(base.time, "time_ns", return_value=(first.int >> 80) * 10**6 - 10**12):
        later = [new_id() for _ in range(3)]
    assert first < later[0] < later[1] < later[2]
    assert all(i.version == 7 for i in later)


def test_random_bits_differ_between_ids_in_the_same_instant() -> None:
    with (
        mock.patch.object(base.time, "time_ns", return_value=4_102_444_800 * 10**9),
        mock.patch.object(base, "_last_id", [0]),  # the real last id stays as it was
    ):
        a, b = new_id(), new_id()
    assert a.int >> 64 == b.int >> 64  # same millisecond and fraction
    assert a != b
