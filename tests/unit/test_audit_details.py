"""Audit details are JSON with the API's own formats (SPEC §3: outputs are UTC with Z)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from app.audit.service import _jsonable


def test_instants_are_iso_8601_utc_with_z_and_dates_stay_dates() -> None:
    local = datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    ident = uuid.uuid4()
    details = {
        "done_at": local,
        "verified_at": datetime(2026, 11, 22, 9, 30, 15, 250000, tzinfo=UTC),
        "due_on": date(2026, 12, 1),
        "ids": [ident],
        "nested": {"at": local},
    }
    assert _jsonable(details) == {
        "done_at": "2026-11-21T09:00:00Z",
        "verified_at": "2026-11-22T09:30:15.250000Z",
        "due_on": "2026-12-01",
        "ids": [str(ident)],
        "nested": {"at": "2026-11-21T09:00:00Z"},
    }
