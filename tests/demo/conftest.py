"""Fixtures for the demo tests: a database loaded through `gembalog demo`."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from app import cli

LOGIN = re.compile(r"^\s+(admin|manager|observer)\s+(\S+@\S+)\s+(\S+)\s*$", re.MULTILINE)


@dataclass
class Loaded:
    out: str
    seconds: float
    day: date


@pytest.fixture
def on_db(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("GEMBALOG_DATABASE_URL", database_url)
    monkeypatch.setenv("GEMBALOG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "demo-test-secret-key-0123456789")
    return database_url


@pytest.fixture
def loaded(on_db: str, app: FastAPI, capsys: pytest.CaptureFixture[str]) -> Loaded:
    day = datetime.now(UTC).date()
    started = time.perf_counter()
    code = cli.main(["demo"])
    seconds = time.perf_counter() - started
    out = capsys.readouterr()
    assert code == 0, out.err
    if datetime.now(UTC).date() != day:
        pytest.skip("the UTC date changed during the load")
    return Loaded(out.out, seconds, day)
