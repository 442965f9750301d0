"""Shared input types: Timestamp and WindowBound (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.schemas import Timestamp, WindowBound

BOUND: TypeAdapter[datetime] = TypeAdapter(WindowBound)
STAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)


@pytest.mark.parametrize("value", ["2026-03-05", date(2026, 3, 5)])
def test_a_date_means_midnight_utc(value: object) -> None:
    got = BOUND.validate_python(value)
    assert got == datetime(2026, 3, 5, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert BOUND.dump_json(got) == b'"2026-03-05T00:00:00Z"'


def test_offsets_are_converted_to_utc() -> None:
    got = BOUND.validate_python("2026-03-05T10:00:00+02:00")
    assert got == datetime(2026, 3, 5, 8, tzinfo=UTC)
    assert got.tzinfo == UTC
    assert BOUND.dump_json(got) == b'"2026-03-05T08:00:00Z"'
    assert BOUND.validate_python("2026-03-05T08:00:00Z") == got


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-05T10:00:00",
        datetime(2026, 3, 5, 10),  # noqa: DTZ001 - the naive value under test
        "2026-02-30",
        "2026-13-01",
        "soon",
        "",
    ],
)
def test_naive_or_malformed_bounds_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        BOUND.validate_python(value)


def test_timestamp_needs_an_offset_and_renders_z() -> None:
    with pytest.raises(ValidationError):
        STAMP.validate_python("2026-03-05T10:00:00")
    with pytest.raises(ValidationError):
        STAMP.validate_python("2026-03-05")
    got = STAMP.validate_python(datetime(2026, 3, 5, 10, tzinfo=timezone(timedelta(hours=-5))))
    assert got == datetime(2026, 3, 5, 15, tzinfo=UTC)
    assert STAMP.dump_json(got) == b'"2026-03-05T15:00:00Z"'


def test_field_errors_name_the_field_in_a_model() -> None:
    class Window(BaseModel):
        since: WindowBound

    with pytest.raises(ValidationError) as exc:
        Window.model_validate({"since": "2026-03-05T10:00:00"})
    assert exc.value.errors()[0]["loc"] == ("since",)
