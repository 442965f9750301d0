from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=4000)]


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Unique within the journey.")
    description: Description = Field(default="", description="Free text.")


class StageCreate(StageIn):
    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    position: int | None = Field(
        default=None, ge=0, le=1000, description="0-based; later stages shift. Default: last."
    )


class StageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    position: int | None = Field(default=None, ge=0, le=1000, description="Move to this position.")

    @field_validator("name", "description", "position", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value


class StagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The resource's id (UUID).")
    journey_id: uuid.UUID = Field(description="The journey the stage belongs to.")
    name: str = Field(description="Unique within the journey.")
    description: str = Field(description="Free text.")
    position: int = Field(description="0-based order in the journey.")


class JourneyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    name: Name = Field(description="Unique.")
    description: Description = ""
    stages: list[StageIn] = Field(default_factory=list, max_length=50, description="In order.")


class JourneyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    archived: bool | None = None

    @field_validator("name", "description", "archived", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value


class JourneyPublic(BaseModel):
    id: uuid.UUID = Field(description="The resource's id (UUID).")
    name: str = Field(description="Unique among journeys.")
    description: str = Field(description="Free text.")
    archived: bool = Field(
        description="Archived journeys stay readable but are hidden from pickers."
    )
    stages: list[StagePublic] = Field(description="Ordered by position 0…n−1.")
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
