from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    name: str = Field(min_length=1, max_length=200, description="Unique.")
    kind: str = Field(
        default="", max_length=100, description="e.g. store, branch, call centre, web."
    )
    address: str = Field(default="", max_length=1000)


class SiteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=1000)
    archived: bool | None = None

    @field_validator("name", "kind", "address", "archived", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value


class SitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The resource's id (UUID).")
    name: str = Field(description="Unique among sites.")
    kind: str = Field(description="e.g. store, branch, call centre, web.")
    address: str = Field(description="Free text.")
    archived: bool = Field(description="Archived sites stay readable but are hidden from pickers.")
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
