"""app.core.heap: the server's long-lived heap frozen out of full collections."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core import heap


def test_each_stage_collects_then_freezes_once() -> None:
    calls: list[str] = []
    with (
        mock.patch.object(heap, "_done", set()),
        mock.patch.object(heap.gc, "collect", side_effect=lambda: calls.append("collect")),
        mock.patch.object(heap.gc, "freeze", side_effect=lambda: calls.append("freeze")),
    ):
        assert heap.freeze_once("startup") is True
        assert heap.freeze_once("startup") is False
        assert heap.freeze_once("first write") is True
    assert calls == ["collect", "freeze", "collect", "freeze"]


def test_the_heap_is_frozen_after_the_1st_10th_100th_and_1000th_response() -> None:
    stages: list[str] = []
    with (
        mock.patch.object(heap.ResponseCounter, "served", 0),
        mock.patch.object(heap, "freeze_once", side_effect=stages.append),
    ):
        for _ in range(2_000):
            heap.ResponseCounter.count()
    assert stages == [f"after {n} responses" for n in (1, 10, 100, 1000)]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_app_freezes_at_startup_first_write_and_responses_when_enabled(
    make_app: Callable[..., FastAPI], enabled: bool
) -> None:
    stages: list[str] = []
    with (
        mock.patch.object(heap.ResponseCounter, "served", 0),
        mock.patch("app.main.freeze_once", side_effect=stages.append),
        mock.patch("app.observations.writelock.freeze_once", side_effect=stages.append),
        mock.patch.object(heap, "freeze_once", side_effect=stages.append),
    ):
        app = make_app(freeze_heap=enabled)
        with TestClient(app) as client:
            for _ in range(9):
                assert client.get("/healthz").status_code == 200
            # The first request on the write path (refused: nobody signed in) freezes too.
            assert client.post("/api/v1/sync", json={}).status_code == 401
        served = heap.ResponseCounter.served
    if enabled:
        assert served == 10
        assert stages == ["startup", "after 1 responses", "first write", "after 10 responses"]
    else:
        assert served == 0
        assert stages == ["first write"]  # the write path's own, always
