"""Opaque keyset cursors and the list envelope of SPEC §3."""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlmodel import Session

from app.core.errors import Invalid
from app.core.schemas import in_range

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Page size, 1–500.")]
CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from the previous page's next_cursor."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> Invalid:
    return Invalid("cursor", "is not a cursor this list issued")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != arity:
        raise _bad_cursor()
    if not all(_bindable(v) for v in values):
        raise _bad_cursor()
    return values


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and ±Infinity: no list issues them


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: the column, its direction, and how to read it from a row
    and back from a cursor."""

    column: Any
    attr: str
    desc: bool = False
    parse: Callable[[Any], Any] = lambda v: v
    dump: Callable[[Any], Any] = lambda v: v


_CHECKED_TYPES = (str, int, float, bool, uuid.UUID, datetime)


def _bindable(value: Any) -> bool:
    """Values every driver binds: 64-bit integers, finite floats, text without NUL (which
    PostgreSQL refuses), datetimes inside the accepted range."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return in_range(value)
    return True


def _parse(key: SortKey, value: Any) -> Any:
    """A cursor value back into the column's type. A value this list could not have issued
    (wrong type, naive time for an aware column) is a 422, never a database error."""
    try:
        parsed = key.parse(value)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise _bad_cursor() from None
    if not _bindable(parsed):
        raise _bad_cursor()
    col_type = key.column.type
    col_type = getattr(col_type, "impl_instance", col_type)
    try:
        expected = col_type.python_type
    except NotImplementedError:
        return parsed
    if expected not in _CHECKED_TYPES:
        return parsed
    if expected is float and isinstance(parsed, int) and not isinstance(parsed, bool):
        return parsed
    if not isinstance(parsed, expected) or (isinstance(parsed, bool) and expected is not bool):
        raise _bad_cursor()
    if isinstance(parsed, datetime) and getattr(col_type, "timezone", False):
        if parsed.tzinfo is None:
            raise _bad_cursor()
    return parsed


def _after(keys: Sequence[SortKey], values: list[Any]) -> ColumnElement[bool]:
    # (a, b) > (x, y) expanded as a > x OR (a = x AND b > y), honouring each direction.
    parsed = [_parse(key, value) for key, value in zip(keys, values, strict=True)]
    clauses = []
    for i, key in enumerate(keys):
        cmp = key.column < parsed[i] if key.desc else key.column > parsed[i]
        clauses.append(and_(*[k.column == parsed[j] for j, k in enumerate(keys[:i])], cmp))
    return or_(*clauses)


def keyset_page(
    session: Session, stmt: Select[Any], keys: Sequence[SortKey], *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    after = decode_cursor(cursor, len(keys))
    if after is not None:
        stmt = stmt.where(_after(keys, after))
    stmt = stmt.order_by(*[k.column.desc() if k.desc else k.column.asc() for k in keys])
    rows = list(session.scalars(stmt.limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([k.dump(getattr(last, k.attr)) for k in keys])


def uuid_key(column: Any, attr: str = "id", *, desc: bool = False) -> SortKey:
    return SortKey(column, attr, desc, parse=uuid.UUID, dump=str)


def time_key(column: Any, attr: str, *, desc: bool = False) -> SortKey:
    return SortKey(column, attr, desc, parse=datetime.fromisoformat, dump=lambda v: v.isoformat())
