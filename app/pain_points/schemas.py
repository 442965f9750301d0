from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import Layer, PainPointStatus


class PainPointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    title: str = Field(min_length=1, max_length=200, description="The problem, in a few words.")
    stage_id: uuid.UUID = Field(description="The journey stage where customers meet it.")
    description: str = Field(default="", max_length=4000)
    layer: Layer | None = Field(
        default=None, description="Blueprint layer of the cause; null: unspecified."
    )


class PainPointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    stage_id: uuid.UUID | None = Field(
        default=None, description="Another stage of the same journey."
    )
    layer: Layer | None = Field(default=None, description="Send null to clear.")
    status: PainPointStatus | None = Field(
        default=None, description="open or archived (merging has its own endpoint)."
    )

    @field_validator("title", "description", "stage_id", "status", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value


class PainPointMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into_id: uuid.UUID = Field(description="The surviving pain point (same journey, open).")


class PainPointPublic(BaseModel):
    id: uuid.UUID = Field(description="The resource's id (UUID).")
    journey_id: uuid.UUID = Field(description="The journey of its stage.")
    stage_id: uuid.UUID = Field(description="The stage where customers meet it.")
    title: str = Field(description="The problem in a few words.")
    description: str = Field(description="Free text.")
    layer: Layer | None = Field(
        description="customer, frontstage, backstage or support; null: unspecified."
    )
    status: PainPointStatus = Field(description="open, merged or archived.")
    merged_into_id: uuid.UUID | None = Field(
        description="The survivor, when status is merged; else null."
    )
    observation_count: int = Field(description="Non-deleted observations tagging it, all time.")
    last_seen_at: datetime | None = Field(description="Latest observed_at among them.")
    created_by: uuid.UUID | None = Field(
        description="The user who created it; null when made by the system."
    )
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
    match_score: float | None = Field(
        default=None, description="With ?q=: title similarity 0–1 (typo-tolerant)."
    )
