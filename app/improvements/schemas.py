from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.schemas import Timestamp
from app.models import ImprovementStatus

MAX_PAIN_POINTS = 50

_TITLE = "The countermeasure in a few words."
_DESCRIPTION = "What will be changed, and how."
_HYPOTHESIS = "What should happen to the pain points once it is done."
_PAIN_POINT_IDS = (
    "The pain points it addresses (1–50). Aliases and merged ids are accepted and stored as "
    "the surviving pain point."
)
_OWNER = "An active user responsible for it; null: nobody yet."
_DUE = "Target date (YYYY-MM-DD); null: none."
_STARTED = (
    "Set by the server when it first enters in_progress (kept when reopened or dropped). May be "
    "given explicitly (e.g. to backdate) while the status is in_progress, done or verified."
)
_DONE = (
    "Set by the server each time it becomes done; cleared when reopened. May be given "
    "explicitly while the status is done or verified. The effect is measured from it."
)
_VERIFIED = (
    "Set by the server when it becomes verified; cleared when reopened. May be given "
    "explicitly while the status is verified."
)


class ImprovementRef(BaseModel):
    """An improvement as the backlog lists it under a pain point."""

    id: uuid.UUID = Field(description="The improvement's id.")
    title: str = Field(description=_TITLE)
    status: ImprovementStatus = Field(description="Its workflow status.")


class ImprovementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    title: str = Field(min_length=1, max_length=200, description=_TITLE)
    description: str = Field(default="", max_length=10000, description=_DESCRIPTION)
    hypothesis: str = Field(default="", max_length=4000, description=_HYPOTHESIS)
    pain_point_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=MAX_PAIN_POINTS, description=_PAIN_POINT_IDS
    )
    status: ImprovementStatus = Field(
        default=ImprovementStatus.proposed,
        description="Initial status (default proposed); an improvement recorded after the fact "
        "may start as done or verified.",
    )
    owner_id: uuid.UUID | None = Field(default=None, description=_OWNER)
    due_on: date | None = Field(default=None, description=_DUE)
    started_at: Timestamp | None = Field(default=None, description=_STARTED)
    done_at: Timestamp | None = Field(default=None, description=_DONE)
    verified_at: Timestamp | None = Field(default=None, description=_VERIFIED)

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class ImprovementUpdate(BaseModel):
    """Every field optional; only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200, description=_TITLE)
    description: str | None = Field(default=None, max_length=10000, description=_DESCRIPTION)
    hypothesis: str | None = Field(default=None, max_length=4000, description=_HYPOTHESIS)
    pain_point_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PAIN_POINTS,
        description=_PAIN_POINT_IDS + " Replaces the whole set.",
    )
    status: ImprovementStatus | None = Field(
        default=None,
        description="Move along the workflow: proposed → planned → in_progress → done → "
        "verified; proposed, planned or in_progress → dropped; done or verified → in_progress "
        "(reopen). Any other move is 409. Sending the current status changes nothing.",
    )
    owner_id: uuid.UUID | None = Field(default=None, description=_OWNER + " Send null to clear.")
    due_on: date | None = Field(default=None, description=_DUE + " Send null to clear.")
    started_at: Timestamp | None = Field(default=None, description=_STARTED)
    done_at: Timestamp | None = Field(default=None, description=_DONE)
    verified_at: Timestamp | None = Field(default=None, description=_VERIFIED)

    @field_validator(
        "title",
        "description",
        "hypothesis",
        "pain_point_ids",
        "status",
        "started_at",
        "done_at",
        "verified_at",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null (leave it out to keep the current value)")
        return value

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip()
            if not value:
                raise ValueError("must not be blank")
        return value


class ImprovementPublic(BaseModel):
    id: uuid.UUID = Field(description="The improvement's id (UUID).")
    title: str = Field(description=_TITLE)
    description: str = Field(description=_DESCRIPTION)
    hypothesis: str = Field(description=_HYPOTHESIS)
    pain_point_ids: list[uuid.UUID] = Field(
        description="The surviving pain points it addresses (merges are followed), sorted."
    )
    status: ImprovementStatus = Field(description="Its workflow status.")
    allowed_moves: list[ImprovementStatus] = Field(
        description="The statuses a PATCH may move it to from here."
    )
    owner_id: uuid.UUID | None = Field(description="The responsible user; null: nobody yet.")
    due_on: date | None = Field(description="Target date; null: none.")
    started_at: datetime | None = Field(description="When it first entered in_progress (UTC).")
    done_at: datetime | None = Field(description="When it (last) became done (UTC).")
    verified_at: datetime | None = Field(description="When it became verified (UTC).")
    created_by: uuid.UUID | None = Field(description="The user who created it.")
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")


class EffectWindow(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    from_: datetime = Field(alias="from", description="Start of the window, inclusive (UTC).")
    to: datetime = Field(description="End of the window, exclusive (UTC).")
    frequency: int = Field(
        description="Distinct non-deleted observations in the window tagging any linked pain "
        "point (through merges); one observation tagging two of them counts once."
    )
    per_week: float = Field(description="frequency × 7 / window_days.")


class ImprovementEffect(BaseModel):
    improvement_id: uuid.UUID = Field(description="The improvement measured.")
    window_days: int = Field(description="The length of each window in days.")
    before: EffectWindow = Field(description="[done_at − window_days, done_at).")
    after: EffectWindow = Field(description="[done_at, done_at + window_days).")
    change: float | None = Field(
        description="(after.per_week − before.per_week) / before.per_week; null when the "
        "before frequency is 0."
    )
    p_value: float = Field(
        description="Two-sided exact p-value of the conditional binomial test of equal rates: "
        "after.frequency out of before.frequency + after.frequency with p = 0.5 (1.0 when "
        "both are 0)."
    )
    enough_data: bool = Field(
        description="True when the after window has ended, the two windows together hold at "
        "least 10 observations, and p_value < 0.05."
    )
