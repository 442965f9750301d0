"""One engine per process. SQLite: WAL, foreign keys, busy timeout, and writers that take the
write lock up front (BEGIN IMMEDIATE) so concurrent writers queue instead of failing with
"database is locked"; the pragmas the write path measured (see bench/README.md); and a WAL
checkpointer thread for servers, so that no request pays for a checkpoint."""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from app.core.config import Settings

log = logging.getLogger("gembalog.db")

SQLITE_BEGIN = "gembalog_sqlite_begin"
# A commit that finds this many pages in the WAL copies them into the database itself (and
# fsyncs twice): with SQLite's default of 1,000 pages every ~60th single create paid 10-30 ms
# for everyone queued behind it. Servers checkpoint in the background (start_checkpointer);
# this remains as the bound on the WAL (40 MB) should that fall behind or not run (the CLI).
SQLITE_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_INTERVAL = 0.2


class _BitOr:
    """bit_or(x): the aggregate PostgreSQL has built in (the backlog's presence sets)."""

    def __init__(self) -> None:
        self.value = 0

    def step(self, x: int | None) -> None:
        if x is not None:
            self.value |= x

    def finalize(self) -> int:
        return self.value


def register_sqlite_functions(dbapi_conn: Any) -> None:
    dbapi_conn.create_aggregate("bit_or", 1, _BitOr)


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = make_url(settings.database_url)
    if "poolclass" not in kwargs:
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=20)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
            **kwargs,
        )
        busy = settings.sqlite_busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from the driver so BEGIN is ours (see _on_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy)}")
            # Safe under WAL (a crash may lose the last commits, never corrupts); no fsync per
            # commit.
            cur.execute("PRAGMA synchronous=NORMAL")
            # 16 MiB of page cache per connection (default 2 MiB): the write path's random-id
            # indexes touch pages all over; measured ~15% less CPU per synced observation.
            cur.execute("PRAGMA cache_size=-16384")
            # Statement journals (multi-row inserts into tables with triggers) in memory.
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
            cur.close()
            register_sqlite_functions(dbapi_conn)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    _cache_long_psycopg_queries()
    return create_engine(
        url,
        pool_recycle=1800,
        pool_pre_ping=True,
        **kwargs,
    )


def _cache_long_psycopg_queries() -> None:
    """psycopg converts a query's %(name)s placeholders on every execution unless the query is
    at most 4 KiB with at most 50 parameters (then it caches the conversion). The backlog's
    statements are 3-12 KiB with more parameters: converting them cost ~3 ms per backlog
    read. The limits are module constants of psycopg's; where they are missing, nothing
    changes."""
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    for name, value in (
        ("MAX_CACHED_STATEMENT_LENGTH", 65536),
        ("MAX_CACHED_STATEMENT_PARAMS", 2000),
    ):
        if isinstance(getattr(_queries, name, None), int):
            setattr(_queries, name, max(getattr(_queries, name), value))


def writer(engine: Engine) -> Engine:
    """The same pool, but on SQLite each transaction starts with the write lock held."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    return engine


def start_checkpointer(engine: Engine, interval: float = CHECKPOINT_INTERVAL) -> None:
    """Checkpoints a SQLite database's WAL from a daemon thread every `interval` seconds, so
    that commits on the request path do not (PASSIVE: it waits for no reader or writer). The
    thread ends when the engine is disposed or collected, or at its first error (leaving the
    work to SQLite's autocheckpoint)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return
    stop = threading.Event()
    event.listen(engine, "engine_disposed", lambda _engine: stop.set())
    ref = weakref.ref(engine)
    del engine

    def run() -> None:
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except Exception:
            log.warning("WAL checkpointer did not start", exc_info=True)
            return
        try:
            while not stop.wait(interval) and ref() is not None:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception:
            log.warning("WAL checkpointer stopped", exc_info=True)
        finally:
            conn.close()

    threading.Thread(target=run, name="gembalog-wal-checkpointer", daemon=True).start()
