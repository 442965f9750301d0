"""The first admin from GEMBALOG_ADMIN_EMAIL/_PASSWORD at start (SPEC §7)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import AuditEvent, User
from app.users.service import bootstrap_admin
from tests.factories import Factory
from tests.helpers import assert_problem

PASSWORD = "bootstrap passphrase"


def _boot(make_app: Callable[..., FastAPI], email: str, password: str = PASSWORD) -> FastAPI:
    return make_app(admin_email=email, admin_password=SecretStr(password))


def _login(c: TestClient, email: str, password: str = PASSWORD) -> int:
    r = c.post("/api/v1/auth/login", json={"email": email, "password": password})
    return r.status_code


def test_first_admin_is_created_at_start_when_no_user_exists(
    make_app: Callable[..., FastAPI],
) -> None:
    app = _boot(make_app, "  Root@Example.COM ")
    with TestClient(app) as c:
        assert _login(c, "root@example.com") == 200
        me = c.get("/api/v1/me").json()
        assert me["role"] == "admin"
        assert me["email"] == "root@example.com"
        c.headers["X-CSRF-Token"] = c.post(
            "/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
        ).json()["csrf_token"]
        events = c.get("/api/v1/audit", params={"action": "user.create"}).json()["items"]
        assert events[0]["target_id"] == me["id"]
        assert events[0]["actor_id"] is None
        assert events[0]["details"]["bootstrap"] is True


def test_no_admin_without_the_lifespan_or_the_variables(
    make_app: Callable[..., FastAPI], app: FastAPI, db: Session
) -> None:
    with TestClient(app) as c:  # no GEMBALOG_ADMIN_* set
        assert _login(c, "root@example.com") == 401
    assert db.scalar(select(func.count()).select_from(User)) == 0
    half = make_app(admin_email="root@example.com")
    with TestClient(half):
        pass
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_no_bootstrap_when_a_user_exists(
    make_app: Callable[..., FastAPI], factory: Factory, db: Session
) -> None:
    factory.user("observer")
    app = _boot(make_app, "root@example.com")
    with TestClient(app, raise_server_exceptions=False) as c:
        assert_problem(
            c.post("/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}),
            401,
        )
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_restart_does_not_create_a_second_admin(
    make_app: Callable[..., FastAPI], db: Session
) -> None:
    for _ in range(2):
        with TestClient(_boot(make_app, "root@example.com")):
            pass
    assert db.scalar(select(func.count()).select_from(User)) == 1
    actions = db.scalars(select(col(AuditEvent.action))).all()
    assert actions == ["user.create"]


@pytest.mark.parametrize(
    ("email", "password"), [("root@example.com", "short"), ("not an email", PASSWORD)]
)
def test_an_admin_the_api_would_refuse_stops_the_start(
    make_app: Callable[..., FastAPI], db: Session, email: str, password: str
) -> None:
    app = _boot(make_app, email, password)
    with pytest.raises(ValueError, match="GEMBALOG_ADMIN") as info, TestClient(app):
        pass
    assert password not in str(info.value)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_two_processes_starting_at_once_make_one_admin(app: FastAPI, db: Session) -> None:
    """Both see an empty table; the second insert must give way, not crash its process."""
    first = Session(app.state.write_engine)
    assert bootstrap_admin(first, "root@example.com", PASSWORD) is not None
    outcome: list[object] = []

    def second() -> None:
        with Session(app.state.write_engine) as s:
            try:
                outcome.append(bootstrap_admin(s, "root@example.com", PASSWORD))
                s.commit()
            except Exception as exc:  # pragma: no cover - the failure being tested for
                outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)  # on PostgreSQL it now waits on the unique index; on SQLite on the lock
    first.commit()
    first.close()
    thread.join(30)
    assert outcome == [None]
    assert db.scalar(select(func.count()).select_from(User)) == 1
