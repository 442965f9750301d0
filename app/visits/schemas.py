from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.core.schemas import Timestamp
from app.models import Channel


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    site_id: uuid.UUID | None = Field(
        default=None, description="Where; null when not tied to a site."
    )
    channel: Channel | None = Field(
        default=None, description="in_person, phone, web, app, chat, email, mail or other."
    )
    started_at: Timestamp
    ended_at: Timestamp | None = Field(default=None, description="Not before started_at.")
    customers_observed: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Customers watched: the exposure behind rates.",
    )
    purpose: str = Field(default="", max_length=1000)
    notes: str = Field(default="", max_length=10000)

    @field_validator("ended_at")
    @classmethod
    def _order(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A validator on the field (not the model) so the 422 names `ended_at`.
        started = info.data.get("started_at")
        if value is not None and started is not None and value < started:
            raise ValueError("must not be before started_at")
        return value


class VisitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = None
    channel: Channel | None = None
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    customers_observed: int | None = Field(default=None, ge=0, le=1_000_000)
    purpose: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=10000)

    @field_validator("started_at", "purpose", "notes", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value


class VisitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The resource's id (UUID).")
    observer_id: uuid.UUID = Field(description="The user who made the visit (its creator).")
    site_id: uuid.UUID | None = Field(description="Where; null when not tied to a site.")
    channel: Channel | None = Field(
        description="in_person, phone, web, app, chat, email, mail or other; null: unspecified."
    )
    started_at: datetime = Field(description="Start of the visit (UTC).")
    ended_at: datetime | None = Field(description="End of the visit (UTC); null while it goes on.")
    customers_observed: int | None = Field(
        description="Customers watched during the visit: the exposure behind rates."
    )
    purpose: str = Field(description="Why the visit was made.")
    notes: str = Field(description="Free text.")
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
