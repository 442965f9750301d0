"""Indexes that serve the backlog, heatmap and timeline (issue 4), attached to the field tables.

Covering indexes: the backlog's range scan over `observed_at` reads every column it needs from
the index (no table lookups), and the tag lookup by observation reads pain point and severity
from the index too."""

from __future__ import annotations

import sqlalchemy as sa

from app.models.field import Observation, ObservationTag

_obs = Observation.__table__  # type: ignore[attr-defined]
_tags = ObservationTag.__table__  # type: ignore[attr-defined]

ix_observations_backlog = sa.Index(
    "ix_observations_backlog",
    _obs.c.observed_at,
    _obs.c.id,
    _obs.c.deleted_at,
    _obs.c.journey_id,
    _obs.c.site_id,
    _obs.c.channel,
    _obs.c.observer_id,
    _obs.c.customer_minutes_lost,
)
ix_observation_tags_backlog = sa.Index(
    "ix_observation_tags_backlog",
    _tags.c.observation_id,
    _tags.c.pain_point_id,
    _tags.c.severity,
)
