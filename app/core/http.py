"""Pure ASGI middleware (cheap on the hot path): body limits and content types, security
headers, request metrics; plus ETag helpers."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PreconditionFailed, problem_response
from app.core.heap import ResponseCounter

log = logging.getLogger("gembalog.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP_APP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive docs load Swagger UI from its CDN.
CSP_DOCS = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyLimitMiddleware:
    """Refuses oversized bodies with 413 before they are read whole, and wrong content types
    with 415. `limits` maps a path prefix to (byte limit, accepted media type)."""

    def __init__(self, app: ASGIApp, *, default: int, limits: dict[str, tuple[int, str]]) -> None:
        self.app = app
        self.default = default
        self.limits = sorted(limits.items(), key=lambda kv: -len(kv[0]))

    def _rule(self, path: str) -> tuple[int, str]:
        for prefix, rule in self.limits:
            if path == prefix or path.startswith(prefix + "/"):
                return rule
        return self.default, "application/json"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["method"] == "DELETE"
        ):
            await self.app(scope, receive, send)
            return
        limit, media = self._rule(scope["path"])
        headers = dict(scope["headers"])
        length_raw = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
        has_body = chunked or (length_raw is not None and length_raw != b"0")
        if length_raw is not None:
            try:
                length = int(length_raw)
            except ValueError:
                await problem_response(400, "Content-Length is not a number.")(scope, receive, send)
                return
            if length > limit:
                await BodyTooLargeResponse(limit)(scope, receive, send)
                return
        if has_body and scope["path"].startswith("/api/"):
            ctype = (
                headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            )
            if not _media_ok(ctype, media):
                await problem_response(
                    415, f"Send the body as {media} (got {ctype or 'no content type'})."
                )(scope, receive, send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


def BodyTooLargeResponse(limit: int) -> Any:
    return problem_response(413, f"The request body is larger than the limit of {limit} bytes.")


def _media_ok(ctype: str, media: str) -> bool:
    if media == "application/json":
        return ctype == "application/json" or (
            ctype.startswith("application/") and ctype.endswith("+json")
        )
    return ctype == media


class EdgeMiddleware:
    """The outermost layer: security headers on every response, and the last-resort 500 as
    problem+json (logged, no internals leaked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (CSP_DOCS if path.startswith(("/docs", "/redoc")) else CSP_APP).encode()

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", csp),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                headers.extend((k, v) for k, v in extra if k not in names)
                message["headers"] = headers
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            response = problem_response(500, "An unexpected error occurred; it has been logged.")
            await response(scope, receive, send_with_headers)


class MetricsMiddleware:
    """Counts requests and latency by route template (never by raw path: ids would explode
    the label space)."""

    def __init__(
        self, app: ASGIApp, *, registry: CollectorRegistry, freeze_heap: bool = False
    ) -> None:
        self.app = app
        # Also where the responses are counted for app.core.heap's freezes.
        self.count = ResponseCounter.count if freeze_heap else None
        self.requests = Counter(
            "gembalog_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "gembalog_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("static" if status < 400 else "unmatched")
            self.requests.labels(scope["method"], name, str(status)).inc()
            self.latency.labels(scope["method"], name).observe(time.perf_counter() - start)
            if self.count is not None:
                self.count()


def make_etag(*parts: Any) -> str:
    raw = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Request, current: str) -> None:
    """Honours If-Match on PATCH/DELETE: a stale tag is 412 (a missing header is allowed)."""
    given = request.headers.get("if-match")
    if given is None:
        return
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed("The resource changed since you read it; fetch it again and retry.")
