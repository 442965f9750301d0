"""Serves the PWA (frontend/dist) at `/`: hashed assets cached for a year, the shell, the
service worker and the manifest revalidated on every load, and an SPA fallback that never
answers for the API, the docs or the operations endpoints."""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from app.core.config import PROJECT_ROOT
from app.core.errors import problem_response

# Paths the fallback must leave to their own handlers (or to a 404 problem).
RESERVED_PREFIXES = ("/api", "/docs", "/redoc")
RESERVED_PATHS = frozenset({"/openapi.json", "/healthz", "/readyz", "/metrics"})

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Files whose names carry no content hash: revalidated on every load so a deploy is seen.
ALWAYS_FRESH = frozenset({"index.html", "sw.js", "registerSW.js", "manifest.webmanifest"})

HASHED_WORKBOX = re.compile(r"workbox-[0-9a-f]{8}\.js")

MISSING_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gembalog</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Gembalog</h1>
<p>The field app has not been built. Run <code>make run</code> (or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>
<p>The API is available at <a href="/docs">/docs</a>.</p></body></html>
"""


def default_dist() -> Path:
    root = Path(os.environ.get("GEMBALOG_PROJECT_ROOT", PROJECT_ROOT))
    return root / "frontend" / "dist"


def is_reserved(path: str) -> bool:
    if path in RESERVED_PATHS:
        return True
    return any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)


def _cache_control(relative: str) -> str:
    name = relative.rsplit("/", 1)[-1]
    if name in ALWAYS_FRESH:
        return NO_CACHE
    if relative.startswith("assets/") or HASHED_WORKBOX.fullmatch(name):
        # Vite writes every file under assets/ with a content hash in its name, and so does
        # the Workbox runtime next to sw.js.
        return IMMUTABLE
    # Icons and other public files keep their names between builds.
    return "public, max-age=86400"


def _resolve(dist: Path, path: str) -> Path | None:
    """The file under dist for a URL path, or None (never a path outside dist)."""
    relative = path.lstrip("/")
    if not relative:
        return None
    try:
        candidate = (dist / relative).resolve()
        candidate.relative_to(dist.resolve())
    except (ValueError, OSError):
        return None
    return candidate if candidate.is_file() else None


def mount_frontend(app: FastAPI, dist: Path | None = None) -> None:
    """Serves the app for every request no route matched (neither fully nor by path only, so
    405s and routes added later keep working). `app.state.frontend_dist` may be changed later
    (tests)."""
    app.state.frontend_dist = dist or default_dist()
    not_found = app.router.not_found

    async def frontend(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_reserved(scope["path"]):
            await not_found(scope, receive, send)
            return
        response = _respond(Request(scope, receive), app.state.frontend_dist)
        await response(scope, receive, send)

    app.router.default = frontend


def _respond(request: Request, root: Path) -> Response:
    url_path = request.url.path
    if request.method not in ("GET", "HEAD"):
        return problem_response(
            405, "The app's pages are read-only.", headers={"Allow": "GET, HEAD"}
        )
    index = root / "index.html"
    if not index.is_file():
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(MISSING_HTML, status_code=503, headers=_no_store())
        return problem_response(
            503, "The field app has not been built; run 'make run' or 'npm run build'."
        )
    file = _resolve(root, url_path)
    if file is not None:
        relative = file.relative_to(root.resolve()).as_posix()
        return FileResponse(file, headers={"Cache-Control": _cache_control(relative)})
    last = url_path.rsplit("/", 1)[-1]
    if url_path.startswith("/assets/") or "." in last:
        # A missing asset must not turn into the HTML shell (a script parsed as HTML).
        return problem_response(404, f"No file {url_path}.")
    return FileResponse(index, headers={"Cache-Control": NO_CACHE})


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
