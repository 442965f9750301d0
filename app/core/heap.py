"""A long-running server's heap and the cyclic garbage collector.

A full (oldest-generation) collection walks every object the collector tracks. In a server
that is nearly all of the heap: the app, its modules, SQLAlchemy's and pydantic's caches and
the statements built once per shape, some 150,000-180,000 objects that live as long as the
process. Reads allocate enough for a full collection every ~100 backlog reads, and each took
70-100 ms (PostgreSQL 10M, in process: p99 of a default backlog read 109-116 ms against a
median of 30; see bench/README.md, "Backlog: the collector's pauses").

`gc.freeze()` moves every object alive at that moment into a permanent generation that
collections skip (objects made later are collected as usual; frozen ones are still freed by
reference counting, only cycles among them are kept). The heap is frozen at startup and
again after the 1st, 10th, 100th and 1,000th responses, since the first requests of each
kind import modules lazily and fill caches (unless GEMBALOG_FREEZE_HEAP is false); and,
whatever that setting says, at the first write (app.observations.writelock), which
allocates the write path's own. Each freeze is one full collection first,
so garbage is never frozen; after the first, they are short."""

from __future__ import annotations

import gc
import threading

_GUARD = threading.Lock()
_done: set[str] = set()

# Responses after which the heap is frozen again (process-wide).
FREEZE_AFTER = frozenset({1, 10, 100, 1000})


def freeze_once(stage: str) -> bool:
    """Collects, then freezes everything alive, the first time `stage` is reached in this
    process; returns whether it did."""
    if stage in _done:
        return False
    with _GUARD:
        if stage in _done:
            return False
        _done.add(stage)
        gc.collect()
        gc.freeze()
    return True


class ResponseCounter:
    """Counts the responses a process has served and freezes its heap after those in
    FREEZE_AFTER. Not locked: responses are counted on the event loop's thread."""

    served = 0

    @classmethod
    def count(cls) -> None:
        cls.served += 1
        if cls.served in FREEZE_AFTER:
            freeze_once(f"after {cls.served} responses")
