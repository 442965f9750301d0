"""The `gembalog` command: create-user, migrate, serve's refusal of an old schema (SPEC §7)."""

from __future__ import annotations

import getpass
import io
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from app import cli
from app.core.config import PROJECT_ROOT
from app.core.migrations import current_revision, head_revision
from app.models import AuditEvent, User

PASSWORD = "cli passphrase 123"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("GEMBALOG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "cli-test-secret-key-0123456789")
    monkeypatch.delenv("GEMBALOG_DATABASE_URL", raising=False)
    return monkeypatch


@pytest.fixture
def on_db(env: pytest.MonkeyPatch, database_url: str) -> str:
    env.setenv("GEMBALOG_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    return calls


def _stdin(monkeypatch: pytest.MonkeyPatch, text_: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text_))


def _users(url: str) -> list[User]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return list(s.exec(select(User)).all())
    finally:
        engine.dispose()


def test_create_user_reads_one_line_of_stdin(
    on_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app: FastAPI
) -> None:
    _stdin(monkeypatch, f"{PASSWORD}\nthis second line is not the password\n")
    code = cli.main(
        ["create-user", "--email", "Ops@Example.com", "--role", "manager", "--name", "Ops"]
    )
    assert code == 0
    out = capsys.readouterr()
    assert "ops@example.com" in out.out
    assert PASSWORD not in out.out + out.err
    [user] = _users(on_db)
    assert (user.email, user.role, user.name) == ("ops@example.com", "manager", "Ops")
    with TestClient(app) as c:
        r = c.post("/api/v1/auth/login", json={"email": "ops@example.com", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["role"] == "manager"


def test_create_user_without_trailing_newline(
    on_db: str, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    _stdin(monkeypatch, PASSWORD + "\r\n")
    assert cli.main(["create-user", "--email", "a@example.com", "--role", "admin"]) == 0
    with TestClient(app) as c:
        r = c.post("/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD})
        assert r.status_code == 200


@pytest.mark.parametrize("password", ["short", "", "123456789"])
def test_create_user_refuses_a_short_password(
    on_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
) -> None:
    _stdin(monkeypatch, password + "\n")
    assert cli.main(["create-user", "--email", "a@example.com", "--role", "observer"]) == 2
    assert "10" in capsys.readouterr().err
    assert _users(on_db) == []


def test_create_user_refuses_an_invalid_email(
    on_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli.main(["create-user", "--email", "not-an-email", "--role", "observer"]) == 2
    assert "email" in capsys.readouterr().err
    assert _users(on_db) == []


def test_create_user_refuses_a_duplicate_email(
    on_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli.main(["create-user", "--email", "dup@example.com", "--role", "observer"]) == 0
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli.main(["create-user", "--email", "DUP@example.com", "--role", "admin"]) == 1
    assert "exists" in capsys.readouterr().err
    [user] = _users(on_db)
    assert user.role == "observer"


def test_create_user_is_audited(on_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli.main(["create-user", "--email", "a@example.com", "--role", "admin"]) == 0
    engine = create_engine(on_db)
    try:
        with Session(engine) as s:
            [event] = s.exec(select(AuditEvent)).all()
    finally:
        engine.dispose()
    assert (event.action, event.actor_id) == ("user.create", None)


def test_create_user_prompts_twice_on_a_terminal(
    on_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty(""))
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda _prompt="": next(answers))
    with pytest.raises(SystemExit, match="differ"):
        cli.main(["create-user", "--email", "a@example.com", "--role", "admin"])
    assert _users(on_db) == []
    answers = iter([PASSWORD, PASSWORD])
    assert cli.main(["create-user", "--email", "a@example.com", "--role", "admin"]) == 0


def test_create_user_rejects_an_unknown_role(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["create-user", "--email", "a@example.com", "--role", "king"])
    assert info.value.code == 2


def test_migrate_brings_a_fresh_sqlite_database_to_head(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    url = f"sqlite:///{path}"
    env.setenv("GEMBALOG_DATABASE_URL", url)
    assert cli.main(["migrate"]) == 0
    assert str(head_revision()) in capsys.readouterr().out
    engine = create_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            tables = set(
                conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
            )
        assert {"users", "auth_sessions", "api_tokens", "audit_events"} <= tables
    finally:
        engine.dispose()
    assert cli.main(["migrate"]) == 0  # a second run is a no-op


def test_default_database_lives_in_the_data_dir(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert cli.main(["migrate"]) == 0
    assert (tmp_path / "data" / "gembalog.db").exists()


def test_serve_refuses_an_empty_database(
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_uvicorn: list[dict[str, object]],
) -> None:
    env.setenv("GEMBALOG_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "gembalog migrate" in err
    assert "none" in err
    assert no_uvicorn == []


@pytest.mark.parametrize(
    "argv",
    [
        ["create-user", "--email", "a@example.com", "--role", "admin"],
        ["demo"],
        ["import", "missing.csv", "--user", "a@example.com"],
        ["cleanup"],
    ],
)
def test_data_commands_refuse_an_unmigrated_database(
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    """A clear message saying what to run, never a traceback from a missing table."""
    env.setenv("GEMBALOG_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Run 'gembalog migrate' first." in err
    assert "Traceback" not in err


def test_serve_refuses_a_database_behind_head(
    on_db: str, capsys: pytest.CaptureFixture[str], no_uvicorn: list[dict[str, object]]
) -> None:
    engine = create_engine(on_db)
    head = head_revision()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        assert cli.main(["serve", "--port", "8123"]) == 2
        assert "gembalog migrate" in capsys.readouterr().err
        assert no_uvicorn == []
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        engine.dispose()


def test_serve_starts_uvicorn_on_a_migrated_database(
    on_db: str, no_uvicorn: list[dict[str, object]]
) -> None:
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3"]) == 0
    [call] = no_uvicorn
    assert (call["host"], call["port"], call["workers"]) == ("0.0.0.0", 8123, 3)
    assert call["factory"] is True


def test_console_script_runs_as_a_module(tmp_path: Path) -> None:
    """The real process: exit status and message, without the test's monkeypatching."""
    env = {
        "PATH": "/usr/bin:/bin",
        "GEMBALOG_DATA_DIR": str(tmp_path),
        "GEMBALOG_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
    }
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert "gembalog migrate" in r.stderr
