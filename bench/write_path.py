"""The write path under load: one uvicorn worker on 127.0.0.1, a load generator on loopback.

    .venv/bin/python bench/write_path.py [--seconds 5] [--clients 8] [--sync-only]

Prints, for a temporary SQLite database (and PostgreSQL too when GEMBALOG_BENCH_POSTGRES_URL
names a server whose database may be emptied):
- req/s of a trivial authenticated GET (/api/v1/me) and of single POST /api/v1/observations,
  and their ratio (target ≥ 50%);
- observations/s through POST /api/v1/sync in batches of 500 (target ≥ 20,000/s on SQLite);
- p50/p99 latency of single posts with 16 concurrent clients (target p99 ≤ 3 × p50).

Bounded: every phase stops after --seconds or --max-requests, whichever comes first."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-not-for-production"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_database(url: str) -> str:
    """Migrates the database and makes a manager with a write token; returns the token."""
    from sqlmodel import Session

    from app.auth.principal import Principal
    from app.auth.schemas import TokenCreate
    from app.auth.service import create_token
    from app.core.config import Settings
    from app.core.db import make_engine, writer
    from app.core.migrations import upgrade
    from app.models import Role, TokenScope
    from app.users.schemas import UserCreate
    from app.users.service import create

    upgrade(url)
    engine = make_engine(Settings(database_url=url, secret_key=SECRET))
    try:
        with Session(writer(engine), expire_on_commit=False) as session:
            user, _ = create(
                session,
                data=UserCreate(
                    email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                    password="bench password 123",
                    role=Role.manager,
                    name="Bench",
                ),
                actor=None,
            )
            _, secret = create_token(
                session,
                Principal(user=user, via="session"),
                TokenCreate(name="bench", scope=TokenScope.write),
            )
            session.commit()
    finally:
        engine.dispose()
    assert secret is not None
    return secret


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class Server:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.port = _free_port()
        env = dict(
            os.environ,
            GEMBALOG_DATABASE_URL=url,
            GEMBALOG_DATA_DIR=str(data_dir),
            GEMBALOG_SECRET_KEY=SECRET,
            GEMBALOG_LOG_LEVEL="WARNING",
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far (Linux): a figure that, unlike req/s,
        does not depend on what else the machine is doing."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _Client:
    """One keep-alive HTTP/1.1 connection (http.client: the load generator shares the two
    cores with the server, and httpx cost ~1 ms of client CPU per request, more than half the
    server's, with 16 threads queueing for the client's GIL and inflating the tail)."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.auth = f"Bearer {token}"

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": self.auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def _load(
    base: str,
    token: str,
    clients: int,
    seconds: float,
    max_requests: int,
    request: Callable[[_Client, int], tuple[int, bytes]],
) -> tuple[int, float, list[float]]:
    """Runs `request` from `clients` threads (each with its own keep-alive connection) until
    the time or the request budget runs out. Returns (requests done, seconds, latencies)."""
    budget = threading.Semaphore(max_requests)
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(n: int) -> None:
        mine: list[float] = []
        client = _Client(base, token)
        try:
            barrier.wait()
            i = 0
            while time.monotonic() < stop_at and budget.acquire(blocking=False):
                t0 = time.perf_counter()
                status, body = request(client, n * 1_000_000 + i)
                mine.append(time.perf_counter() - t0)
                if status >= 300:
                    errors.append(f"{status} {body[:200]!r}")
                i += 1
        finally:
            client.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return len(latencies), elapsed, latencies


def _setup_catalogue(base: str, token: str) -> tuple[str, list[str]]:
    h = {"Authorization": f"Bearer {token}"}
    j = httpx.post(
        f"{base}/api/v1/journeys",
        headers=h,
        json={"name": f"Bench {uuid.uuid4().hex[:6]}", "stages": [{"name": "A"}, {"name": "B"}]},
    )
    j.raise_for_status()
    journey = j.json()
    pps = []
    for i in range(6):
        r = httpx.post(
            f"{base}/api/v1/pain-points",
            headers=h,
            json={"title": f"Bench pain {i}", "stage_id": journey["stages"][i % 2]["id"]},
        )
        r.raise_for_status()
        pps.append(r.json()["id"])
    return journey["id"], pps


def _ordered_id() -> uuid.UUID:
    from app.models.base import new_id

    return new_id()


def _observation(
    journey_id: str, pps: list[str], n: int, make_id: Callable[[], uuid.UUID] = _ordered_id
) -> dict[str, Any]:
    """An observation as the app sends it: its id made on the device, time-ordered (UUIDv7,
    frontend/src/ids.ts) unless `make_id` says otherwise."""
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n % 500_000)
    return {
        "id": str(make_id()),
        "journey_id": journey_id,
        "observed_at": when.isoformat().replace("+00:00", "Z"),
        "channel": "in_person",
        "note": f"Bench observation {n}: the queue did not move for ten minutes.",
        "customer_goal": "Return a kettle",
        "customer_minutes_lost": n % 30,
        "pain_points": [
            {"pain_point_id": pps[n % len(pps)], "severity": 1 + n % 5},
            {"pain_point_id": pps[(n + 1) % len(pps)], "severity": 1 + (n + 2) % 5},
        ],
        "location": {"lat": 51.5, "lon": -0.12, "accuracy_m": 20},
    }


def run(label: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"\n--- {label} ---", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if url == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            _reset_postgres(url)
        token = _prepare_database(url)
        server = Server(url, Path(tmp) / "data")
        try:
            return _measure(server, token, args)
        finally:
            server.stop()


def _measure(server: Server, token: str, args: argparse.Namespace) -> dict[str, float]:
    base = server.base
    journey_id, pps = _setup_catalogue(base, token)
    secs, cap, clients = args.seconds, args.max_requests, args.clients

    def me(c: _Client, _: int) -> tuple[int, bytes]:
        return c.request("GET", "/api/v1/me")

    def post(c: _Client, n: int) -> tuple[int, bytes]:
        body = json.dumps(_observation(journey_id, pps, n)).encode()
        return c.request("POST", "/api/v1/observations", body)

    _load(base, token, clients, 1.0, 200, me)  # warm-up: imports, pools, caches
    _load(base, token, clients, 1.0, 200, post)
    if args.sync_only:
        return {
            "sync": _sync(server, token, args, journey_id, pps),
            "sync_random_ids": _sync(server, token, args, journey_id, pps, uuid.uuid4),
        }
    cpu0, own0 = server.cpu_seconds(), time.process_time()
    n, t, _ = _load(base, token, clients, secs, cap, me)
    get_rps, get_cpu = n / t, (server.cpu_seconds() - cpu0) / n
    print(
        f"GET /api/v1/me                     {get_rps:8.0f} req/s  "
        f"({clients} clients; server CPU {get_cpu * 1000:.2f} ms/request, "
        f"load generator {(time.process_time() - own0) / n * 1000:.2f})"
    )
    cpu0, own0 = server.cpu_seconds(), time.process_time()
    n, t, _ = _load(base, token, clients, secs, cap, post)
    post_rps, post_cpu = n / t, (server.cpu_seconds() - cpu0) / n
    print(
        f"POST /api/v1/observations          {post_rps:8.0f} req/s  "
        f"({clients} clients; server CPU {post_cpu * 1000:.2f} ms/request, "
        f"load generator {(time.process_time() - own0) / n * 1000:.2f})"
    )
    print(
        f"  ratio POST/GET                   {post_rps / get_rps:8.0%}  (target >= 50%; by "
        f"server CPU per request: {get_cpu / post_cpu:.0%})"
    )

    sync_rate = _sync(server, token, args, journey_id, pps)
    sync_random = _sync(server, token, args, journey_id, pps, uuid.uuid4)

    cpu0 = server.cpu_seconds()
    n, t, lat = _load(base, token, 16, secs, cap, post)
    lat_cpu = (server.cpu_seconds() - cpu0) / n
    lat.sort()
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(
        f"POST latency, 16 clients           p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
        f"p99/p50 {p99 / p50:4.1f}  (target <= 3.0; {n} requests, {n / t:.0f} req/s, "
        f"server CPU {lat_cpu * 1000:.2f} ms/request)"
    )
    return {
        "get": get_rps,
        "post": post_rps,
        "sync": sync_rate,
        "sync_random_ids": sync_random,
        "p50": p50,
        "p99": p99,
    }


def _sync(
    server: Server,
    token: str,
    args: argparse.Namespace,
    journey_id: str,
    pps: list[str],
    make_id: Callable[[], uuid.UUID] = _ordered_id,
) -> float:
    """Observations per second through POST /sync in batches of 500 (payloads pre-built), with
    ids as the app makes them (time-ordered) or, with make_id=uuid.uuid4, as an API client
    sending random ids would."""
    secs, cap = args.seconds, args.max_requests
    batch, batches = 500, max(4, min(args.sync_batches, cap // 500))
    bodies = [
        json.dumps(
            {
                "observations": [
                    _observation(journey_id, pps, 10**8 + b * batch + i, make_id)
                    for i in range(batch)
                ]
            }
        ).encode()
        for b in range(batches)
    ]
    # One keep-alive http.client connection, like the other phases: the load generator shares
    # the two cores with the server.
    c = _Client(server.base, token)
    try:
        took: list[float] = []
        cpu0 = server.cpu_seconds()
        deadline = time.monotonic() + secs * 2
        for body in bodies:
            t0 = time.perf_counter()
            status, answer = c.request("POST", "/api/v1/sync", body)
            took.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"sync answered {status}: {answer[:300]!r}")
            if any(x["status"] != "created" for x in json.loads(answer)["results"]):
                raise RuntimeError(f"sync refused items: {answer[:300]!r}")
            if time.monotonic() > deadline:
                break
    finally:
        c.close()
    sync_rate = len(took) * batch / sum(took)
    sync_cpu = (server.cpu_seconds() - cpu0) / (len(took) * batch)
    ids = "random ids" if make_id is uuid.uuid4 else "ordered ids"
    print(
        f"POST /api/v1/sync, {ids:<15} {sync_rate:8.0f} obs/s  (target >= 20,000 on "
        f"SQLite; {len(took)} batches, median {statistics.median(took) * 1000:.0f} ms/batch; "
        f"server CPU {sync_cpu * 1e6:.0f} µs/observation = {1 / sync_cpu:.0f} obs/CPU-s)"
    )
    return sync_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per phase")
    parser.add_argument("--sync-batches", type=int, default=20, help="batches of 500 to sync")
    parser.add_argument("--clients", type=int, default=8, help="clients for the req/s phases")
    parser.add_argument(
        "--sync-only", action="store_true", help="only the sync phase (after the warm-up)"
    )
    args = parser.parse_args()
    run("SQLite", "sqlite", args)
    pg = os.environ.get("GEMBALOG_BENCH_POSTGRES_URL")
    if pg:
        run("PostgreSQL", pg, args)
    else:
        print("\n(set GEMBALOG_BENCH_POSTGRES_URL to also measure PostgreSQL)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
