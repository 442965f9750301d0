"""Cursor encoding and the validation of cursor values against their sort keys."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.errors import Invalid
from app.core.pagination import SortKey, _after, decode_cursor, encode_cursor, time_key, uuid_key
from app.models.base import UTCDateTime

T = sa.table(
    "t",
    sa.column("name", sa.String()),
    sa.column("at", UTCDateTime()),
    sa.column("id", sa.Uuid()),
    sa.column("n", sa.Integer()),
    sa.column("x", sa.Float()),
)
ID = uuid.UUID("3f1e2d4c-5b6a-4789-9abc-def012345678")


def _raw(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _field(exc: pytest.ExceptionInfo[Invalid]) -> str:
    assert exc.value.errors is not None
    return exc.value.errors[0]["field"]


@pytest.mark.parametrize(
    "values",
    [[], ["a"], ["é ü", 1, 2.5, None, True], ["2026-01-01T00:00:00+00:00", str(ID)], ["x" * 300]],
)
def test_round_trip(values: list[Any]) -> None:
    cursor = encode_cursor(values)
    assert "=" not in cursor
    assert cursor.isascii()
    assert decode_cursor(cursor, len(values)) == values


def test_encode_renders_uuids_and_datetimes_as_text() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert decode_cursor(encode_cursor([ID, at]), 2) == [str(ID), str(at)]


def test_none_is_no_cursor() -> None:
    assert decode_cursor(None, 2) is None


@pytest.mark.parametrize(
    "cursor",
    ["garbage!!", "é", "", "=", _raw({"a": 1}), _raw("text"), _raw([1]), _raw([1, 2, 3]), "_w"],
)
def test_garbage_is_invalid_naming_cursor(cursor: str) -> None:
    with pytest.raises(Invalid) as exc:
        decode_cursor(cursor, 2)
    assert exc.value.status == 422
    assert _field(exc) == "cursor"


def test_non_utf8_bytes_are_invalid() -> None:
    cursor = base64.urlsafe_b64encode(b"\xff\xfe\x00").decode()
    with pytest.raises(Invalid):
        decode_cursor(cursor, 1)


KEYS = [
    SortKey(T.c.name, "name"),
    time_key(T.c.at, "at", desc=True),
    uuid_key(T.c.id),
    SortKey(T.c.n, "n"),
    SortKey(T.c.x, "x"),
]
GOOD = ["a@example.com", "2026-01-01T00:00:00+00:00", str(ID), 3, 1.5]


def test_issued_values_build_a_where_clause() -> None:
    clause = _after(KEYS, GOOD)
    sql = str(clause.compile(compile_kwargs={"literal_binds": False}))
    assert "t.name >" in sql
    assert "t.at <" in sql  # descending
    assert _after(KEYS, [*GOOD[:4], 2]) is not None  # an int where a float goes is fine


@pytest.mark.parametrize(
    ("index", "bad"),
    [
        (0, 5),
        (0, None),
        (0, ["a"]),
        (0, {"a": 1}),
        (1, "2026-01-01T00:00:00"),  # naive for an aware column
        (1, "yesterday"),
        (1, 1700000000),
        (2, "not-a-uuid"),
        (2, 2),
        (3, "3"),
        (3, True),
        (3, 1.5),
        (4, "1.5"),
    ],
)
def test_values_this_list_could_not_have_issued_are_invalid(index: int, bad: Any) -> None:
    values = list(GOOD)
    values[index] = bad
    with pytest.raises(Invalid) as exc:
        _after(KEYS, values)
    assert _field(exc) == "cursor"
