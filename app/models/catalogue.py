"""The catalogue: journeys with ordered stages, sites, and pain points (with aliases)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import new_id, utc_column, utcnow


class Layer(StrEnum):
    customer = "customer"
    frontstage = "frontstage"
    backstage = "backstage"
    support = "support"


class PainPointStatus(StrEnum):
    open = "open"
    merged = "merged"
    archived = "archived"


def fk(
    target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None
) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        sa.Uuid(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )


class Journey(SQLModel, table=True):
    __tablename__ = "journeys"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str = Field(default="", max_length=4000)
    archived: bool = Field(default=False)
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Stage(SQLModel, table=True):
    __tablename__ = "stages"
    __table_args__ = (sa.UniqueConstraint("journey_id", "name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    journey_id: uuid.UUID = Field(sa_column=fk("journeys.id"))
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    position: int = Field(ge=0)
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    kind: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=1000)
    archived: bool = Field(default=False)
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class PainPoint(SQLModel, table=True):
    __tablename__ = "pain_points"
    __table_args__ = (
        # One open pain point per normalised title in a stage, enforced by the database so
        # concurrent creates from the field cannot both insert.
        sa.Index(
            "uq_pain_points_open_title",
            "stage_id",
            "title_key",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    journey_id: uuid.UUID = Field(sa_column=fk("journeys.id"))
    stage_id: uuid.UUID = Field(sa_column=fk("stages.id"))
    title: str = Field(max_length=200)
    title_key: str = Field(max_length=200, description="Title folded for duplicate detection.")
    description: str = Field(default="", max_length=4000)
    layer: str | None = Field(default=None, max_length=16)
    status: str = Field(default=PainPointStatus.open, max_length=16, index=True)
    merged_into_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("pain_points.id", nullable=True)
    )
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class PainPointAlias(SQLModel, table=True):
    """An id that resolves to another pain point: a duplicate create's id."""

    __tablename__ = "pain_point_aliases"

    alias_id: uuid.UUID = Field(primary_key=True)
    pain_point_id: uuid.UUID = Field(sa_column=fk("pain_points.id"))
    payload_hash: str = Field(
        default="", max_length=64, description="Of the duplicate create's payload, for replays."
    )
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
