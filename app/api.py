"""Mounts the feature routers under /api/v1."""

from fastapi import APIRouter

from app.attachments.router import router as attachments_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.backlog.router import router as backlog_router
from app.core.errors import COMMON_RESPONSES
from app.improvements.router import router as improvements_router
from app.journeys.router import router as journeys_router
from app.observations.router import router as observations_router
from app.pain_points.router import router as pain_points_router
from app.sites.router import router as sites_router
from app.sync.router import router as sync_router
from app.users.router import router as users_router
from app.visits.router import router as visits_router

api_router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES)
for router in (
    auth_router,
    users_router,
    audit_router,
    journeys_router,
    sites_router,
    visits_router,
    pain_points_router,
    observations_router,
    sync_router,
    attachments_router,
    backlog_router,
    improvements_router,
):
    api_router.include_router(router)
