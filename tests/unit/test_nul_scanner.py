"""The streaming NUL guard agrees with json.loads however the body is cut into chunks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.core.hygiene import NulScanner

# Text rich in the characters that matter: backslashes, "u", zeros and NUL itself.
TEXT = st.text(alphabet=st.sampled_from(["\\", "u", "0", "\x00", "a", '"', "é"]), max_size=30)
VALUES = st.recursive(
    TEXT | st.integers(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _scan(body: bytes, cuts: list[int]) -> bool:
    scanner = NulScanner()
    last = 0
    for cut in [*sorted({c % (len(body) + 1) for c in cuts}), len(body)]:
        if scanner.feed(body[last:cut]):
            return True
        last = cut
    return False


@given(VALUES, st.lists(st.integers(min_value=0), max_size=8))
def test_the_scanner_finds_exactly_the_nul_characters(value: Any, cuts: list[int]) -> None:
    body = json.dumps(value).encode()
    assert _scan(body, cuts) == _has_nul(json.loads(body))


def test_a_long_run_of_backslashes_across_chunks() -> None:
    for run in range(1, 12):
        body = json.dumps("\\" * run + "u0000").encode()  # escaped backslashes, then text
        assert not _scan(body, list(range(len(body))))
        body = json.dumps("\\" * run + "\x00").encode()
        assert _scan(body, list(range(len(body))))
