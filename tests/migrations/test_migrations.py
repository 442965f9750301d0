"""One head; upgrade → downgrade → upgrade; and no drift between the models and migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
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
