"""Shared column types and the metadata naming convention."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


_MASK_62 = (1 << 62) - 1
_last_id = [0]
_id_lock = threading.Lock()


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7, RFC 9562): the Unix time in milliseconds, the fraction
    of that millisecond in 12 bits, then 62 random bits; within a process each id is greater
    than the one before (the clock stepping back included: the last id plus one).

    Ids made one after another sort one after another, so new rows land at the end of every
    b-tree keyed by id (the primary keys, the tags' keys, the indexes that end in an id)
    instead of on a random page each: a batch of 500 observations dirties a handful of index
    pages rather than hundreds, which SQLite copies into its statement journal and then its
    WAL (bench/README.md, "Sync, fifth pass"). The app's own client makes its ids the same way
    (frontend/src/ids.ts). 62 random bits per 244 ns keep collisions out of reach; an id is
    never a secret (every object is authorised on every request)."""
    ms, within = divmod(time.time_ns(), 1_000_000)
    value = (
        (ms << 80)
        | ((0x7000 | within * 4096 // 1_000_000) << 64)
        | (1 << 63)
        | (int.from_bytes(os.urandom(8), "big") & _MASK_62)
    )
    with _id_lock:
        if value <= _last_id[0]:
            value = _last_id[0] + 1
        _last_id[0] = value
    return uuid.UUID(int=value)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out on both databases (SQLite stores naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)
