"""Browser tests: the built PWA served by a real uvicorn on a free 127.0.0.1 port, against a
fresh migrated SQLite database, driven through Debian's Chromium by Python Playwright.

`make test` builds frontend/dist and installs /usr/bin/chromium first and sets
GEMBALOG_E2E_REQUIRED=1, so there a missing build or browser fails instead of skipping."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.core.config import PROJECT_ROOT, Settings
from app.core.db import make_engine
from app.core.migrations import upgrade
from app.models import Role
from app.users.schemas import UserCreate
from app.users.service import create

CHROMIUM = Path("/usr/bin/chromium")
DIST = PROJECT_ROOT / "frontend" / "dist"
AXE = PROJECT_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("GEMBALOG_SHOTS_DIR", "/tmp/gembalog-shots"))
PASSWORD = "field-app-password-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = [str(p) for p in (CHROMIUM, DIST / "index.html") if not p.exists()]
    if not missing or os.environ.get("GEMBALOG_E2E_REQUIRED") == "1":
        return
    skip = pytest.mark.skip(reason=f"needs {', '.join(missing)} (make test builds them)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    settings: Settings
    users: dict[str, str] = field(default_factory=dict)  # role -> email
    world: dict[str, Any] = field(default_factory=dict)

    def api(self, email: str) -> httpx.Client:
        """A cookie client signed in as `email`, sending the CSRF token like the app."""
        client = httpx.Client(base_url=self.url, timeout=10)
        r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return client

    def new_user(self, role: str = "observer") -> str:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        engine = make_engine(self.settings)
        try:
            with Session(engine, expire_on_commit=False) as session:
                create(
                    session,
                    data=UserCreate(email=email, password=PASSWORD, role=Role(role)),
                    actor=None,
                )
                session.commit()
        finally:
            engine.dispose()
        return email


def _seed(server: Server) -> None:
    """A small, realistic catalogue: journeys with ordered stages, sites, pain points with
    different observation counts."""
    manager = server.api(server.users["manager"])
    r = manager.post(
        "/api/v1/journeys",
        json={
            "name": "Return an item",
            "description": "In store returns",
            "stages": [{"name": n} for n in ("Arrive", "Queue", "Explain", "Resolve", "Leave")],
        },
    )
    assert r.status_code == 201, r.text
    journey = r.json()
    r = manager.post(
        "/api/v1/journeys",
        json={"name": "Open an account", "stages": [{"name": "Apply"}, {"name": "Verify"}]},
    )
    assert r.status_code == 201, r.text
    stages = {s["name"]: s["id"] for s in journey["stages"]}
    sites = []
    for name, kind in (("Leeds Briggate store", "store"), ("Glasgow call centre", "call_centre")):
        r = manager.post("/api/v1/sites", json={"name": name, "kind": kind})
        assert r.status_code == 201, r.text
        sites.append(r.json())
    pps: dict[str, str] = {}
    for title, stage in (
        ("Asked for the receipt three times", "Explain"),
        ("Refund policy unclear", "Explain"),
        ("Queue longer than 10 minutes", "Queue"),
        ("No seat while waiting", "Queue"),
        ("Card machine offline", "Resolve"),
    ):
        r = manager.post("/api/v1/pain-points", json={"title": title, "stage_id": stages[stage]})
        assert r.status_code == 201, r.text
        pps[title] = r.json()["id"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    # counts: "Refund policy unclear" seen more often than "Asked for the receipt …"
    for title, times in (("Refund policy unclear", 3), ("Asked for the receipt three times", 1)):
        for _ in range(times):
            r = manager.post(
                "/api/v1/observations",
                json={
                    "journey_id": journey["id"],
                    "observed_at": yesterday,
                    "note": "seed",
                    "pain_points": [{"pain_point_id": pps[title], "severity": 3}],
                },
            )
            assert r.status_code == 201, r.text
    manager.close()
    server.world.update(journey=journey, stages=stages, sites=sites, pain_points=pps)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{root / 'gembalog.db'}"
    upgrade(db_url)
    settings = Settings(
        database_url=db_url,
        data_dir=root / "data",
        secret_key="e2e-secret-key-not-for-production",
        environment="test",
    )
    port = _free_port()
    server = Server(url=f"http://127.0.0.1:{port}", settings=settings)
    for role in ("observer", "manager"):
        server.users[role] = server.new_user(role)
    env = {
        **os.environ,
        "GEMBALOG_DATABASE_URL": db_url,
        "GEMBALOG_DATA_DIR": str(root / "data"),
        "GEMBALOG_SECRET_KEY": "e2e-secret-key-not-for-production",
        "GEMBALOG_ENVIRONMENT": "test",
    }
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(root / 'server.log').read_text()}")
            time.sleep(0.1)
        _seed(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    b = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield b
    b.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
