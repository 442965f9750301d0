"""One engine per process. SQLite: WAL, foreign keys, busy timeout, and writers that take the
write lock up front (BEGIN IMMEDIATE) so concurrent writers queue instead of failing with
"database is locked"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from app.core.config import Settings

SQLITE_BEGIN = "gembalog_sqlite_begin"


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
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(
        url,
        pool_recycle=1800,
        pool_pre_ping=True,
        **kwargs,
    )


def writer(engine: Engine) -> Engine:
    """The same pool, but on SQLite each transaction starts with the write lock held."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    return engine
