"""Types shared by the API schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

# The instants the service accepts. Wide enough for any real observation, improvement or
# token; narrow enough that window arithmetic (a previous window as long as the window, an
# effect window before done_at) and every database stay far from their limits.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
RANGE_MESSAGE = "must lie between 1970-01-01 and 2199-12-31 (UTC)"


def in_range(value: datetime) -> bool:
    """An aware datetime inside [EARLIEST, LATEST); False for one whose UTC form would not
    even exist (year 1 with a positive offset, year 9999 with a negative one)."""
    try:
        return EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        return False


def _to_utc(value: datetime) -> datetime:
    # in_range and the conversion in one astimezone (every observation of a sync passes here).
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(RANGE_MESSAGE) from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(RANGE_MESSAGE)
    return utc


# Inputs must carry an offset or Z; stored and returned as UTC (pydantic renders UTC as `Z`).
Timestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def _window_bound(value: object) -> object:
    # A bare date means 00:00 UTC of that day (SPEC §3).
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        except ValueError:
            return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return value


WindowBound = Annotated[
    AwareDatetime,
    BeforeValidator(_window_bound),
    AfterValidator(_to_utc),
    Field(description="ISO 8601 with offset or Z, or a date YYYY-MM-DD (00:00 UTC)."),
]
