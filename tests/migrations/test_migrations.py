"""One head; upgrade → downgrade → upgrade; and no drift between the models and migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from app.core.migrations import alembic_config

PG_URL = os.environ.get("GEMBALOG_TEST_POSTGRES_URL")


def test_single_head_and_dated_file_names() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        name = Path(rev.path).name
        assert name[:4].isdigit(), name
        assert name[4] == "_", name


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if not PG_URL:
        pytest.skip("GEMBALOG_TEST_POSTGRES_URL is not set")
    name = f"gembalog_mig_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(empty_database: str) -> None:
    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    full = _tables(empty_database)
    assert {"users", "observations", "observation_tags", "pain_points"} <= full
    command.downgrade(cfg, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert _tables(empty_database) == full
    # Raises if autogenerate would produce any operation: the models and migrations agree.
    command.check(cfg)


def test_each_step_downgrades_cleanly(empty_database: str) -> None:
    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    script = ScriptDirectory.from_config(cfg)
    revisions = list(reversed(list(script.walk_revisions())))
    for rev in revisions:
        command.upgrade(cfg, rev.revision)
        command.downgrade(cfg, "-1")
        command.upgrade(cfg, rev.revision)


def test_every_step_keeps_a_populated_catalogue(empty_database: str) -> None:
    """Up and down through every revision with rows in place: on SQLite a batch "move and copy"
    of a table that others reference would fail here (or lose the rows)."""
    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "1b4f3f309a5e")  # users and the catalogue exist from here on
    sqlite = empty_database.startswith("sqlite")
    ids = {k: uuid.uuid4() for k in ("user", "journey", "stage", "pain")}
    v = {k: (i.hex if sqlite else str(i)) for k, i in ids.items()}
    now = "2026-11-29 10:00:00"
    engine = create_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, active, password_hash, created_at,"
                    " updated_at) VALUES (:user, 'a@example.com', 'A', 'manager', true, 'x',"
                    " :now, :now)"
                ),
                {**v, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO journeys (id, name, description, archived, created_by,"
                    " created_at, updated_at) VALUES (:journey, 'J', '', false, :user, :now, :now)"
                ),
                {**v, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO stages (id, journey_id, name, description, position, created_at,"
                    " updated_at) VALUES (:stage, :journey, 'S', '', 0, :now, :now)"
                ),
                {**v, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO pain_points (id, journey_id, stage_id, title, title_key,"
                    " description, status, created_by, created_at, updated_at) VALUES (:pain,"
                    " :journey, :stage, 'P', 'p', '', 'open', :user, :now, :now)"
                ),
                {**v, "now": now},
            )
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "1b4f3f309a5e")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            for table in ("users", "journeys", "stages", "pain_points"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1
    finally:
        engine.dispose()


def _tag_schema(conn: Any) -> tuple[str, set[str], set[str], int]:
    table = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'observation_tags'"
    ).scalar_one()
    names = {
        (kind, name)
        for kind, name in conn.exec_driver_sql(
            "SELECT type, name FROM sqlite_master WHERE tbl_name = 'observation_tags'"
        )
    }
    count = conn.exec_driver_sql("SELECT count(*) FROM observation_tags").scalar_one()
    return (
        table,
        {n for k, n in names if k == "index"},
        {n for k, n in names if k == "trigger"},
        count,
    )


def test_observation_tags_rebuild_keeps_rows_and_triggers(tmp_path: Path) -> None:
    """b1a0c0de0012 rebuilds observation_tags on SQLite (WITHOUT ROWID): the rows, the other
    index and the backlog's triggers survive it, both ways."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    cfg = alembic_config(url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "b1a0c0de0011")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            user, journey, stage, pain = (uuid.uuid4().hex for _ in range(4))
            now = "2026-11-29 10:00:00.000000"
            for sql, params in (
                (
                    "INSERT INTO users (id, email, name, role, active, password_hash, created_at,"
                    " updated_at) VALUES (?, 'a@example.com', 'A', 'manager', 1, 'x', ?, ?)",
                    (user, now, now),
                ),
                (
                    "INSERT INTO journeys (id, name, description, archived, created_by,"
                    " created_at, updated_at) VALUES (?, 'J', '', 0, ?, ?, ?)",
                    (journey, user, now, now),
                ),
                (
                    "INSERT INTO stages (id, journey_id, name, description, position, created_at,"
                    " updated_at) VALUES (?, ?, 'S', '', 0, ?, ?)",
                    (stage, journey, now, now),
                ),
                (
                    "INSERT INTO pain_points (id, journey_id, stage_id, title, title_key,"
                    " description, status, created_by, created_at, updated_at) VALUES"
                    " (?, ?, ?, 'P', 'p', '', 'open', ?, ?, ?)",
                    (pain, journey, stage, user, now, now),
                ),
            ):
                conn.exec_driver_sql(sql, params)
            for n in range(3):
                obs = uuid.uuid4().hex
                conn.exec_driver_sql(
                    "INSERT INTO observations (id, journey_id, observer_id, observed_at, note,"
                    " customer_goal, customer_quote, payload_hash, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'n', '', '', '', ?, ?)",
                    (obs, journey, user, now, now, now),
                )
                conn.exec_driver_sql(
                    "INSERT INTO observation_tags (observation_id, pain_point_id, severity) "
                    "VALUES (?, ?, ?)",
                    (obs, pain, 1 + n),
                )
            before = _tag_schema(conn)
        assert "ix_observation_tags_backlog" in before[1]
        assert {"backlog_tags_insert", "backlog_tags_update", "backlog_tags_delete"} <= before[2]
        command.upgrade(cfg, "b1a0c0de0012")
        with engine.connect() as conn:
            table, indexes, triggers, count = _tag_schema(conn)
        assert "WITHOUT ROWID" in table
        assert indexes == before[1] - {"ix_observation_tags_backlog"} - {
            i for i in before[1] if i.startswith("sqlite_autoindex")
        }
        assert (triggers, count) == (before[2], 3)
        command.downgrade(cfg, "b1a0c0de0011")
        with engine.connect() as conn:
            after = _tag_schema(conn)
        assert "WITHOUT ROWID" not in after[0]
        assert after[1:] == before[1:]
    finally:
        engine.dispose()


def test_day_marks_become_hour_marks(empty_database: str) -> None:
    """b1a0c0de0013: a day marked stale before it becomes its 24 stale hours (both ways the
    day stays stale); the totals mark (no day) is kept."""
    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "b1a0c0de0012")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM backlog_dirty"))
            conn.execute(
                text("INSERT INTO backlog_dirty (day) VALUES (:d), (NULL)"),
                {"d": date(2026, 11, 28)},
            )
        command.upgrade(cfg, "b1a0c0de0013")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT day, hour FROM backlog_dirty")).all()
        days = {str(d) for d, h in rows if h is not None}
        assert days == {"2026-11-28"}
        assert sorted(h for d, h in rows if h is not None) == list(range(24))
        assert [(d, h) for d, h in rows if h is None] == [(None, None)]
        command.downgrade(cfg, "b1a0c0de0012")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT DISTINCT day FROM backlog_dirty")).all()
        assert {None if d is None else str(d) for (d,) in rows} == {"2026-11-28", None}
    finally:
        engine.dispose()


def _catalogue_rows(conn: Any, sqlite: bool) -> dict[str, Any]:
    """A user, journey, stage, two pain points and an observation at 2026-11-29 10:xx UTC."""
    ids = {k: uuid.uuid4() for k in ("user", "journey", "stage", "pain", "pain2", "obs")}
    v: dict[str, Any] = {k: (i.hex if sqlite else str(i)) for k, i in ids.items()}
    v["now"] = "2026-11-29 10:00:00.000000"
    for sql in (
        "INSERT INTO users (id, email, name, role, active, password_hash, created_at,"
        " updated_at) VALUES (:user, 'a@example.com', 'A', 'manager', true, 'x', :now, :now)",
        "INSERT INTO journeys (id, name, description, archived, created_by, created_at,"
        " updated_at) VALUES (:journey, 'J', '', false, :user, :now, :now)",
        "INSERT INTO stages (id, journey_id, name, description, position, created_at,"
        " updated_at) VALUES (:stage, :journey, 'S', '', 0, :now, :now)",
        "INSERT INTO pain_points (id, journey_id, stage_id, title, title_key, description,"
        " status, created_by, created_at, updated_at) VALUES (:pain, :journey, :stage, 'P',"
        " 'p', '', 'open', :user, :now, :now)",
        "INSERT INTO pain_points (id, journey_id, stage_id, title, title_key, description,"
        " status, created_by, created_at, updated_at) VALUES (:pain2, :journey, :stage, 'Q',"
        " 'q', '', 'open', :user, :now, :now)",
        "INSERT INTO observations (id, journey_id, observer_id, observed_at, note,"
        " customer_goal, customer_quote, payload_hash, created_at, updated_at)"
        " VALUES (:obs, :journey, :user, :now, 'n', '', '', '', :now, :now)",
    ):
        conn.execute(text(sql), v)
    return v


def _tag_trigger(conn: Any) -> str:
    return str(
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'backlog_tags_insert'"
        ).scalar_one()
    )


def test_premarked_tags_skip_the_tag_trigger_and_never_commit(empty_database: str) -> None:
    """b1a0c0de0014: on SQLite a tag inserted while tags_premarked holds a row marks nothing,
    one inserted without marks its observation's hour; on both databases a transaction that
    leaves a row in tags_premarked cannot commit; downgrade restores the trigger as it was."""
    from sqlalchemy.exc import IntegrityError

    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    sqlite = empty_database.startswith("sqlite")
    command.upgrade(cfg, "b1a0c0de0013")
    engine = create_engine(empty_database)
    if sqlite:  # as the app's connections have them (app.core.db)
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    try:
        if sqlite:
            with engine.connect() as conn:
                before = _tag_trigger(conn)
        command.upgrade(cfg, "b1a0c0de0014")
        with engine.begin() as conn:
            v = _catalogue_rows(conn, sqlite)
        tag = "INSERT INTO observation_tags VALUES (:obs, :pp, 3)"
        if sqlite:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM backlog_dirty"))
                conn.execute(text("INSERT INTO tags_premarked (id, guard) VALUES (1, 0)"))
                conn.execute(text(tag), {**v, "pp": v["pain"]})
                assert conn.execute(text("SELECT count(*) FROM backlog_dirty")).scalar() == 0
                conn.execute(text("DELETE FROM tags_premarked"))
                conn.execute(text(tag), {**v, "pp": v["pain2"]})
                marks = conn.execute(text("SELECT day, hour FROM backlog_dirty")).all()
                assert [(str(d), h) for d, h in marks] == [("2026-11-29", 10)]
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO tags_premarked (id, guard) VALUES (1, 0)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tags_premarked")).scalar() == 0
        command.downgrade(cfg, "b1a0c0de0013")
        assert "tags_premarked" not in _tables(empty_database)
        if sqlite:
            with engine.connect() as conn:
                assert _tag_trigger(conn) == before
    finally:
        engine.dispose()


def _observation_indexes(conn: Any, sqlite: bool) -> dict[str, str]:
    if sqlite:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observations'"
            " AND sql IS NOT NULL"
        )
    else:
        rows = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observations'"
        )
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_optional_links_indexed_only_where_set(empty_database: str) -> None:
    """b1a0c0de0016: (observed_at, id) is left to ix_observations_backlog, whose leading
    columns it was; site_id and visit_id are indexed only where set, and a look-up by either
    still uses its index; downgrade restores the full indexes."""
    cfg = alembic_config(empty_database)
    cfg.attributes["configure_logger"] = False
    sqlite = empty_database.startswith("sqlite")
    command.upgrade(cfg, "b1a0c0de0016")
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            indexes = _observation_indexes(conn, sqlite)
            assert "ix_observations_observed_at_id" not in indexes
            assert "(observed_at, id, deleted_at" in indexes["ix_observations_backlog"]
            for name in ("site_id", "visit_id"):
                where = f"WHERE {name} IS NOT NULL" if sqlite else f"WHERE ({name} IS NOT NULL)"
                assert indexes[f"ix_observations_{name}"].endswith(where), indexes
                if sqlite:
                    plan = " ".join(
                        str(r[-1])
                        for r in conn.exec_driver_sql(
                            f"EXPLAIN QUERY PLAN SELECT id FROM observations WHERE {name} = ?",
                            ("0" * 32,),
                        )
                    )
                else:
                    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                    plan = " ".join(
                        str(r[0])
                        for r in conn.exec_driver_sql(
                            f"EXPLAIN SELECT id FROM observations WHERE {name} = %(v)s",
                            {"v": uuid.UUID(int=0)},
                        )
                    )
                assert f"ix_observations_{name}" in plan, plan
        command.downgrade(cfg, "b1a0c0de0015")
        with engine.connect() as conn:
            indexes = _observation_indexes(conn, sqlite)
        assert "ix_observations_observed_at_id" in indexes
        assert all("WHERE" not in indexes[f"ix_observations_{n}"] for n in ("site_id", "visit_id"))
    finally:
        engine.dispose()
