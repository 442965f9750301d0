from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import ProblemDetails

MAX_ITEMS = 1000


class SyncRequest(BaseModel):
    """The offline outbox. Items are checked one by one, so each list takes raw objects."""

    model_config = ConfigDict(extra="forbid")

    pain_points: list[Any] = Field(default_factory=list, description="PainPointCreate objects.")
    visits: list[Any] = Field(default_factory=list, description="VisitCreate objects.")
    observations: list[Any] = Field(default_factory=list, description="ObservationCreate objects.")


class SyncResult(BaseModel):
    kind: Literal["pain_point", "visit", "observation"]
    id: uuid.UUID | None = Field(description="The item's id (null when it sent none that parses).")
    status: Literal["created", "exists", "error"]
    error: ProblemDetails | None = Field(default=None, description="Why the item was refused.")


class SyncResponse(BaseModel):
    results: list[SyncResult] = Field(description="One per item, in the order sent.")
