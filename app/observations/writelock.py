"""The write path's transaction: one hop to a worker thread, one SQLite writer at a time.

SQLite writers already start with BEGIN IMMEDIATE, so they never fail with "database is
locked"; but SQLite's busy handler waits by sleeping with a growing back-off (1, 2, 5 … 100 ms),
so under load a waiting writer sleeps long after the lock is free: throughput fell and the p99
of single posts reached 80 × the median.

So on SQLite these endpoints queue, first come first served, for ONE writer thread per process
that runs them back to back (other processes still queue in SQLite's busy handler). A lock
shared by pool threads did the same job less well: a plain threading.Lock lets whichever
thread the OS wakes first barge ahead (p99 3-4 × the median with 16 writers), and a lock handed
over in arrival order waits for the next thread to be scheduled at every turn (p99 9 × the
median on a loaded machine). A single thread taking the next job from its queue does neither.
It comes with a WAL checkpointer thread (app.core.db.start_checkpointer), so that commits on
this queue no longer stop every few dozen requests to copy the WAL into the database.

Holding a lock across FastAPI's dependency hops (each sync dependency and the endpoint run as
separate worker-thread calls) would stretch every critical section by the event loop's and the
GIL's latency, so these endpoints authenticate, work and commit inside ONE call on the writer
thread: `await run_write(request, fn)`. The rules are the same as SessionDep + CurrentUser: the
same `authenticate`, one transaction per request committed before the response."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from app.auth.principal import Principal, authenticate
from app.core.db import start_checkpointer
from app.core.heap import freeze_once

T = TypeVar("T")
_GUARD = threading.Lock()


def _writer_for(request: Request) -> ThreadPoolExecutor | None:
    """The app's SQLite writer thread (created on first use), or None on PostgreSQL, whose
    writers run concurrently on the thread pool."""
    state = request.app.state
    if state.write_engine.dialect.name != "sqlite":
        return None
    writer: ThreadPoolExecutor | None = getattr(state, "sqlite_writer", None)
    if writer is None:
        with _GUARD:
            writer = getattr(state, "sqlite_writer", None)
            if writer is None:
                # Its idle thread ends when the app (and so the executor) is collected.
                writer = state.sqlite_writer = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="gembalog-sqlite-writer"
                )
                start_checkpointer(state.engine)
    return writer


def _run(request: Request, fn: Callable[[Session, Principal], T]) -> T:
    with Session(request.app.state.write_engine, expire_on_commit=False) as session:
        result = fn(session, authenticate(request, session))
        session.commit()
        return result


async def run_write(request: Request, fn: Callable[[Session, Principal], T]) -> T:
    """Runs fn(session, principal) in one transaction on a worker thread and commits it."""
    # The write path's own modules and caches, out of the collector's reach (app.core.heap):
    # a sync batch's tens of thousands of objects otherwise triggered full collections that
    # walked them (~20 % of the sync's CPU per observation, in bursts of tens of ms).
    # Whatever GEMBALOG_FREEZE_HEAP says (it governs the server's other freezes): the test
    # suite, which turns those off, has always run with this one.
    freeze_once("first write")
    writer = _writer_for(request)
    if writer is None:
        return await run_in_threadpool(_run, request, fn)
    context = contextvars.copy_context()  # as run_in_threadpool does
    return await asyncio.get_running_loop().run_in_executor(writer, context.run, _run, request, fn)
