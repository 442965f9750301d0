"""The backlog's derived state.

The backlog is computed exactly from the raw tables on every request (see queries.py), served
by two covering indexes (app/models/rollups.py), so there are no rollup tables to keep in step
and the write paths need no hooks: merges, stage moves, archives, deletes, edits and late
(offline) observations are reflected by construction.

`rebuild(session)` keeps the contract the demo loader and the bench use after bulk inserts: it
refreshes the planner statistics of the tables the backlog reads, so the range scans are
chosen over full scans. If rollup tables are added later, this is where they are recomputed."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

TABLES = ("observations", "observation_tags", "pain_points", "visits")


def rebuild(session: Session) -> None:
    for table in TABLES:
        session.execute(text(f"ANALYZE {table}"))
