"""Types shared by the API schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


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
