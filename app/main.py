"""create_app(): middleware, routers, error handlers, health and metrics, the PWA."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlmodel import Session
from starlette.responses import JSONResponse, Response

from app import __version__
from app.api import api_router
from app.core.config import Settings, get_settings
from app.core.db import make_engine, writer
from app.core.errors import install_handlers, problem_media_in_openapi, problem_response
from app.core.heap import freeze_once
from app.core.http import BodyLimitMiddleware, EdgeMiddleware, MetricsMiddleware
from app.core.hygiene import NulGuardMiddleware
from app.core.migrations import current_revision, head_revision
from app.web import mount_frontend

log = logging.getLogger("gembalog")


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings)
    head = head_revision()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _bootstrap_admin(app)
        if settings.freeze_heap:
            freeze_once("startup")
        yield
        engine.dispose()

    app = FastAPI(
        title="Gembalog",
        version=__version__,
        description="Journey logging for the customer gemba: observations, pain points and a "
        "ranked improvement backlog. Errors are application/problem+json (RFC 9457).",
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_engine = writer(engine)
    app.state.head = head
    registry = CollectorRegistry()

    install_handlers(app)
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_in_openapi(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(api_router)

    @app.get("/healthz", operation_id="get_health", tags=["ops"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        operation_id="get_readiness",
        tags=["ops"],
        summary="Database reachable and migrated",
    )
    def readyz() -> Response:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = current_revision(engine)
        except Exception as exc:
            log.warning("readiness: database unreachable: %s", type(exc).__name__)
            return problem_response(503, "The database is not reachable.")
        if current != head:
            return problem_response(
                503, f"The database is at revision {current}, not {head}; run 'gembalog migrate'."
            )
        return JSONResponse({"status": "ready", "revision": current})

    @app.get(
        "/metrics",
        operation_id="get_metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        include_in_schema=True,
    )
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    mount_frontend(app)

    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_json_bytes,
        limits={
            "/api/v1/sync": (settings.max_sync_bytes, "application/json"),
            # multipart framing adds a little to the image itself
            "/api/v1/attachments": (settings.max_upload_bytes + 64 * 1024, "multipart/form-data"),
        },
    )
    app.add_middleware(MetricsMiddleware, registry=registry, freeze_heap=settings.freeze_heap)
    app.add_middleware(EdgeMiddleware)
    return app


def _bootstrap_admin(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if not (settings.admin_email and settings.admin_password):
        return
    from app.users.service import bootstrap_admin

    if current_revision(app.state.engine) != app.state.head:
        log.warning("bootstrap admin skipped: the database is not migrated")
        return
    with Session(app.state.write_engine, expire_on_commit=False) as session:
        user = bootstrap_admin(
            session, settings.admin_email, settings.admin_password.get_secret_value()
        )
        session.commit()
    if user is not None:
        log.info("created the first admin %s", user.email)
