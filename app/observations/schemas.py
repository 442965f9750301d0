from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Timestamp
from app.models import Channel

MAX_TAGS = 20
MAX_ATTACHMENTS = 10


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pain_point_id: uuid.UUID = Field(
        description="A pain point of the observation's journey (aliases resolve)."
    )
    severity: int = Field(
        ge=1,
        le=5,
        description="1 annoyance · 2 friction · 3 real cost · 4 failed to get what they came "
        "for · 5 gave up, was harmed or left.",
    )


class TagPublic(BaseModel):
    pain_point_id: uuid.UUID = Field(description="The surviving pain point.")
    severity: int


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class ObservationFields(BaseModel):
    """What a create and an update share."""

    model_config = ConfigDict(extra="forbid")

    visit_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = Field(default=None, description="Defaults to the visit's site.")
    channel: Channel | None = Field(default=None, description="Defaults to the visit's channel.")
    note: str = Field(default="", max_length=10_000, description="What happened.")
    customer_goal: str = Field(
        default="", max_length=2000, description="What the customer was trying to do."
    )
    customer_quote: str = Field(default="", max_length=4000, description="Their own words.")
    customer_minutes_lost: int | None = Field(default=None, ge=0, le=10_000)
    pain_points: list[TagIn] = Field(default_factory=list, max_length=MAX_TAGS)
    location: Location | None = None
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class ObservationCreate(ObservationFields):
    id: uuid.UUID | None = Field(
        default=None, description="Optional client-chosen id (the outbox's)."
    )
    journey_id: uuid.UUID
    observed_at: Timestamp = Field(
        description="When it happened; at most 10 minutes in the future."
    )


class ObservationUpdate(BaseModel):
    """Only the fields sent change; `pain_points` and `attachment_ids` replace the lists."""

    model_config = ConfigDict(extra="forbid")

    journey_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    channel: Channel | None = None
    observed_at: Timestamp | None = None
    note: str | None = Field(default=None, max_length=10_000)
    customer_goal: str | None = Field(default=None, max_length=2000)
    customer_quote: str | None = Field(default=None, max_length=4000)
    customer_minutes_lost: int | None = Field(default=None, ge=0, le=10_000)
    pain_points: list[TagIn] | None = Field(default=None, max_length=MAX_TAGS)
    location: Location | None = None
    attachment_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_ATTACHMENTS)


class ObservationPublic(BaseModel):
    id: uuid.UUID
    journey_id: uuid.UUID
    visit_id: uuid.UUID | None
    site_id: uuid.UUID | None
    channel: Channel | None
    observed_at: datetime
    note: str
    customer_goal: str
    customer_quote: str
    customer_minutes_lost: int | None
    pain_points: list[TagPublic]
    location: Location | None
    attachment_ids: list[uuid.UUID]
    observer_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
