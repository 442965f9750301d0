"""Every table lives here, so Alembic and the features import one place."""

from app.models.audit import AuditEvent
from app.models.base import UTCDateTime, new_id, utcnow
from app.models.catalogue import (
    Journey,
    Layer,
    PainPoint,
    PainPointAlias,
    PainPointStatus,
    Site,
    Stage,
)
from app.models.field import Attachment, Channel, Observation, ObservationTag, Visit
from app.models.improvements import Improvement, ImprovementPainPoint, ImprovementStatus
from app.models.rollups import (  # noqa: F401 - the indexes register on the field tables
    BacklogBlock,
    BacklogDaily,
    BacklogDirty,
    BacklogHourBlock,
    BacklogHourly,
    BacklogMember,
    BacklogPresence,
    BacklogPresenceDaily,
    BacklogTotals,
    BacklogTotalsHourly,
    BacklogVisitsDaily,
    BacklogVisitsHourly,
    ix_observation_tags_backlog,
    ix_observations_backlog,
)
from app.models.users import ApiToken, AuthSession, LoginFailure, Role, TokenScope, User

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "AuthSession",
    "BacklogBlock",
    "BacklogDaily",
    "BacklogDirty",
    "BacklogHourBlock",
    "BacklogHourly",
    "BacklogMember",
    "BacklogPresence",
    "BacklogPresenceDaily",
    "BacklogTotals",
    "BacklogTotalsHourly",
    "BacklogVisitsDaily",
    "BacklogVisitsHourly",
    "Channel",
    "Improvement",
    "ImprovementPainPoint",
    "ImprovementStatus",
    "Journey",
    "Layer",
    "LoginFailure",
    "Observation",
    "ObservationTag",
    "PainPoint",
    "PainPointAlias",
    "PainPointStatus",
    "Role",
    "Site",
    "Stage",
    "TokenScope",
    "UTCDateTime",
    "User",
    "Visit",
    "new_id",
    "utcnow",
]
