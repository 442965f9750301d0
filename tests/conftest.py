"""Every database test runs on SQLite and, when GEMBALOG_TEST_POSTGRES_URL is set, on
PostgreSQL. Databases are built by `alembic upgrade head`; each test gets a fresh SQLite file
(copied from a migrated template) or a truncated PostgreSQL database."""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.core.config import Settings
from app.core.migrations import head_revision, upgrade
from app.main import create_app
from tests.factories import Factory

PG_URL = os.environ.get("GEMBALOG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]
TEST_SECRET = "test-secret-key-not-for-production"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[object]:
    """Argon2id with the production cost takes ~0.1–0.5 s a hash here; tests create hundreds of
    users. Same algorithm, minimal cost (production parameters are covered by a unit test)."""
    from argon2 import PasswordHasher

    from app.core import security

    production = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security.dummy_hash.cache_clear()
    yield production
    security._hasher = production
    security.dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("GEMBALOG_TEST_POSTGRES_URL is not set")
    admin_url = make_url(PG_URL)
    name = f"gembalog_test_{_worker()}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


HEAD = head_revision()  # read once: parsing every migration script per test adds up


def _truncate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # A test may fake an older revision (readiness, serve); the next test starts at head.
        conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": HEAD})
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "gembalog.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        _truncate(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,
        environment="test",
        freeze_heap=False,  # frozen objects of one test's app would outlive it
    )


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., FastAPI]]:
    apps: list[FastAPI] = []

    def build(**overrides: object) -> FastAPI:
        app = create_app(settings.model_copy(update=overrides) if overrides else settings)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """A session on the test database for arranging data and checking what was stored. Its
    transactions are deferred (on SQLite a read does not hold the write lock the app needs);
    commit after writing."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def factory(app: FastAPI) -> Factory:
    return Factory(app)


def random_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """A connection nobody closed warns (an error here) when it is garbage-collected; collect
    after every test so the warning fails the test that leaked it, not a later bystander."""
    yield
    gc.collect()
