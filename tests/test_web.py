"""The PWA's serving rules: shell and fallback, caching headers, never shadowing the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import assert_problem

ASSET = "assets/index-AbC123xy.js"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "icons").mkdir()
    (root / "index.html").write_text("<!doctype html><title>Gembalog shell</title>")
    (root / ASSET).write_text("console.log('app')")
    (root / "sw.js").write_text("self.x = 1")
    (root / "manifest.webmanifest").write_text('{"name": "Gembalog"}')
    (root / "icons" / "icon-192.png").write_bytes(b"\x89PNG")
    (tmp_path / "secret.txt").write_text("outside dist")
    return root


@pytest.fixture
def web(app: FastAPI, dist: Path) -> TestClient:
    app.state.frontend_dist = dist
    return TestClient(app, raise_server_exceptions=False)


def test_root_serves_the_shell_uncached(web: TestClient) -> None:
    r = web.get("/")
    assert r.status_code == 200
    assert "Gembalog shell" in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/mine", "/visit", "/backlog", "/signin?next=x", "/a/b/c"])
def test_app_routes_fall_back_to_the_shell(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 200
    assert "Gembalog shell" in r.text
    assert r.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_immutable(web: TestClient) -> None:
    r = web.get("/" + ASSET)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/sw.js", "/manifest.webmanifest", "/index.html"])
def test_service_worker_and_manifest_are_revalidated(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"


def test_icons_are_served(web: TestClient) -> None:
    r = web.get("/icons/icon-192.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert "immutable" not in r.headers["cache-control"]


@pytest.mark.parametrize("path", ["/assets/index-missing.js", "/missing.png", "/../secret.txt"])
def test_missing_files_are_404_not_the_shell(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 404
    assert "Gembalog shell" not in r.text
    assert "outside dist" not in r.text


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing-here", "/api", "/api/", "/docs/nothing", "/redoc/x"],
)
def test_the_fallback_never_shadows_reserved_paths(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert_problem(r, 404)
    assert "Gembalog shell" not in r.text


def test_the_api_docs_and_ops_endpoints_still_answer(web: TestClient) -> None:
    assert web.get("/openapi.json").json()["info"]["title"] == "Gembalog"
    assert "swagger" in web.get("/docs").text.lower()
    assert web.get("/healthz").json() == {"status": "ok"}
    assert web.get("/metrics").status_code == 200
    assert web.get("/api/v1/me").status_code == 401
    assert "/{path}" not in web.get("/openapi.json").json()["paths"]


def test_unsafe_methods_on_app_paths_are_405(web: TestClient) -> None:
    r = web.post("/mine", content=b"")
    assert_problem(r, 405)


def test_missing_build_is_a_clear_503(app: FastAPI, tmp_path: Path) -> None:
    app.state.frontend_dist = tmp_path / "nothing"
    web = TestClient(app, raise_server_exceptions=False)
    r = web.get("/", headers={"Accept": "application/json"})
    assert_problem(r, 503)
    assert "npm run build" in r.json()["detail"]
    html = web.get("/capture", headers={"Accept": "text/html"})
    assert html.status_code == 503
    assert "make run" in html.text
    assert web.get("/api/v1/nothing").status_code == 404


def test_wrong_methods_on_real_routes_stay_405(web: TestClient) -> None:
    assert_problem(web.delete("/healthz"), 405)
    assert_problem(web.delete("/api/v1/journeys"), 405)


def test_routes_added_after_the_app_are_not_shadowed(app: FastAPI, web: TestClient) -> None:
    @app.get("/added-later")
    def added() -> dict[str, bool]:
        return {"ok": True}

    assert web.get("/added-later").json() == {"ok": True}
