"""Countermeasures linked to pain points."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import new_id, utc_column, utcnow
from app.models.catalogue import fk


class ImprovementStatus(StrEnum):
    proposed = "proposed"
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    verified = "verified"
    dropped = "dropped"


class Improvement(SQLModel, table=True):
    __tablename__ = "improvements"
    # The list's keyset order (newest first).
    __table_args__ = (sa.Index("ix_improvements_created_at_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    hypothesis: str = Field(default="", max_length=4000)
    status: str = Field(default=ImprovementStatus.proposed, max_length=16, index=True)
    owner_id: uuid.UUID | None = Field(default=None, sa_column=fk("users.id", nullable=True))
    due_on: date | None = None
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    verified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ImprovementPainPoint(SQLModel, table=True):
    __tablename__ = "improvement_pain_points"

    improvement_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("improvements.id", ondelete="CASCADE"), primary_key=True
        )
    )
    pain_point_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("pain_points.id"), primary_key=True, index=True
        )
    )
