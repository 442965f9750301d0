"""Configuration: the generated secret key, refusing a weak one, never logging it (SPEC §7)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from app.auth.principal import SESSION_COOKIE
from app.core.config import Settings
from app.main import create_app

ADMIN_PASSWORD = "admin passphrase for logs"


def test_secret_is_generated_once_with_mode_0600_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMBALOG_SECRET_KEY", raising=False)
    data = tmp_path / "fresh" / "data"
    first = Settings(data_dir=data).secret
    path = data / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert path.read_text().strip().encode() == first
    assert Settings(data_dir=data).secret == first  # a second process, the same key
    assert [p.name for p in data.iterdir()] == ["secret_key"]  # no temporary file left
    assert Settings(data_dir=tmp_path / "other").secret != first


def test_existing_secret_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMBALOG_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("kept-from-an-earlier-start-0123456789\n")
    assert Settings(data_dir=tmp_path).secret == b"kept-from-an-earlier-start-0123456789"


def test_secret_key_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "s" * 16)
    settings = Settings(data_dir=tmp_path)
    assert settings.secret == b"s" * 16
    assert not (tmp_path / "secret_key").exists()


def test_short_secret_key_is_refused_when_settings_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "tooShortKey-15c")
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path)
    assert "GEMBALOG_SECRET_KEY" in str(info.value)
    assert "tooShortKey-15c" not in str(info.value)
    assert not (tmp_path / "secret_key").exists()


def test_secret_never_in_repr_or_dump(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=SecretStr("a-very-secret-value-123"),
        admin_password=SecretStr(ADMIN_PASSWORD),
    )
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "a-very-secret-value-123" not in text
        assert ADMIN_PASSWORD not in text


def test_database_defaults_to_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMBALOG_DATABASE_URL", raising=False)
    monkeypatch.setenv("GEMBALOG_DATA_DIR", str(tmp_path / "d"))
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'gembalog.db'}"
    assert settings.is_sqlite


def test_a_session_from_one_process_works_in_another(database_url: str, tmp_path: Path) -> None:
    """The generated key is shared through the data folder, so every process accepts the
    CSRF tokens every other one issued."""
    data = tmp_path / "shared"
    boot = {"admin_email": "root@example.com", "admin_password": SecretStr(ADMIN_PASSWORD)}
    one = create_app(Settings(database_url=database_url, data_dir=data, **boot))  # type: ignore[arg-type]
    two = create_app(Settings(database_url=database_url, data_dir=data))
    try:
        with TestClient(one) as a, TestClient(two) as b:
            r = a.post(
                "/api/v1/auth/login",
                json={"email": "root@example.com", "password": ADMIN_PASSWORD},
            )
            assert r.status_code == 200
            b.cookies.set(SESSION_COOKIE, a.cookies[SESSION_COOKIE])
            r = b.post(
                "/api/v1/tokens",
                json={"name": "x", "scope": "read"},
                headers={"X-CSRF-Token": r.json()["csrf_token"]},
            )
            assert r.status_code == 201, r.text
    finally:
        one.state.engine.dispose()
        two.state.engine.dispose()


def test_secrets_never_appear_in_logs(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        admin_email="root@example.com",
        admin_password=SecretStr(ADMIN_PASSWORD),
        log_level="DEBUG",
    )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            ok = c.post(
                "/api/v1/auth/login",
                json={"email": "root@example.com", "password": ADMIN_PASSWORD},
            )
            assert ok.status_code == 200
            c.post("/api/v1/auth/login", json={"email": "root@example.com", "password": "wrong!"})
            cookie = c.cookies[SESSION_COOKIE]
            c.headers["X-CSRF-Token"] = ok.json()["csrf_token"]
            token = c.post("/api/v1/tokens", json={"name": "t", "scope": "read"}).json()["token"]
    finally:
        app.state.engine.dispose()
    secret = (tmp_path / "data" / "secret_key").read_text().strip()
    assert "created the first admin" in caplog.text  # the capture did see the app's logs
    for value in (secret, ADMIN_PASSWORD, cookie, token):
        assert value not in caplog.text
