"""`gembalog import FILE.csv`: observations from a spreadsheet with the export's columns.

Each row goes through the same checks as POST /api/v1/sync (same validation, same idempotency
by id: a row already imported is "exists"). All or nothing: when any row fails, nothing is
stored and every failing row is reported, so a corrected file can simply be imported again."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.models import User
from app.sync import service as sync
from app.sync.schemas import SyncRequest, SyncResult

# Columns the server sets, or that are read-only: accepted (an export imports as is), ignored.
IGNORED = {"observer_id", "created_at", "updated_at"}
LOCATION = ("location_lat", "location_lon", "location_accuracy_m")
CHUNK = 500


@dataclass
class RowError:
    line: int
    id: str | None
    messages: list[str]


@dataclass
class Report:
    created: int = 0
    exists: int = 0
    errors: list[RowError] = field(default_factory=list)


def _unguard(value: str) -> str:
    # The export prefixes formula-like cells with an apostrophe; take it off again.
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


def row_to_payload(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON object a client would send; malformed cells are passed on as is,
    so validation names the field."""
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if key is None or key in IGNORED or key in LOCATION:
            continue
        value = _unguard(raw or "")
        if key == "pain_points":
            tags = []
            for part in filter(None, (p.strip() for p in value.split(";"))):
                pid, _, severity = part.partition(":")
                tags.append({"pain_point_id": pid.strip(), "severity": severity.strip() or None})
            out[key] = tags
        elif key == "attachment_ids":
            out[key] = [a.strip() for a in value.split(";") if a.strip()]
        elif key in ("note", "customer_goal", "customer_quote"):
            out[key] = value
        elif value != "":
            out[key] = value
    lat, lon, acc = (row.get(k) or "" for k in LOCATION)
    if lat or lon or acc:
        out["location"] = {"lat": lat or None, "lon": lon or None, "accuracy_m": acc or None}
    return out


def _messages(result: SyncResult | sync.Done) -> list[str]:
    problem = result.error
    if problem is None:
        return []
    if problem.errors:
        return [f"{e.field}: {e.message}" for e in problem.errors]
    return [f"{problem.status}: {problem.detail}"]


def import_rows(session: Session, user: User, lines: Iterable[str]) -> Report:
    """Checks and stores every row in the caller's transaction (flushed, not committed: commit
    only when the report has no errors)."""
    reader = csv.DictReader(lines)
    report = Report()
    chunk: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        body = SyncRequest(observations=[p for _, p in chunk])
        for (line, payload), result in zip(
            chunk, sync.run(session, body=body, user=user), strict=True
        ):
            if result.status == "created":
                report.created += 1
            elif result.status == "exists":
                report.exists += 1
            else:
                report.errors.append(RowError(line, payload.get("id"), _messages(result)))
        chunk.clear()

    for row in reader:
        chunk.append((reader.line_num, row_to_payload(row)))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return report
