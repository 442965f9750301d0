"""What observers record: visits, observations, pain point tags, attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import new_id, utc_column, utcnow
from app.models.catalogue import fk


class Channel(StrEnum):
    in_person = "in_person"
    phone = "phone"
    web = "web"
    app = "app"
    chat = "chat"
    email = "email"
    mail = "mail"
    other = "other"


class Visit(SQLModel, table=True):
    __tablename__ = "visits"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    observer_id: uuid.UUID = Field(sa_column=fk("users.id"))
    site_id: uuid.UUID | None = Field(default=None, sa_column=fk("sites.id", nullable=True))
    channel: str | None = Field(default=None, max_length=16)
    started_at: datetime = Field(sa_column=utc_column(index=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    customers_observed: int | None = Field(default=None, ge=0)
    purpose: str = Field(default="", max_length=1000)
    notes: str = Field(default="", max_length=10000)
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Observation(SQLModel, table=True):
    __tablename__ = "observations"
    __table_args__ = (
        # By time: ix_observations_backlog (app.models.rollups) leads with (observed_at, id).
        sa.Index("ix_observations_journey_id_observed_at", "journey_id", "observed_at"),
        # The list's keyset order: newest logged first.
        sa.Index("ix_observations_created_at_id", "created_at", "id"),
        # The optional links, indexed only where set (migration b1a0c0de0016): every query on
        # them compares them with a value, which implies NOT NULL on both databases.
        *(
            sa.Index(
                f"ix_observations_{name}",
                name,
                sqlite_where=sa.text(f"{name} IS NOT NULL"),
                postgresql_where=sa.text(f"{name} IS NOT NULL"),
            )
            for name in ("site_id", "visit_id")
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    journey_id: uuid.UUID = Field(sa_column=fk("journeys.id", index=False))
    visit_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("visits.id", nullable=True, index=False)
    )
    site_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("sites.id", nullable=True, index=False)
    )
    observer_id: uuid.UUID = Field(sa_column=fk("users.id"))
    channel: str | None = Field(default=None, max_length=16)
    observed_at: datetime = Field(sa_column=utc_column())
    note: str = Field(default="", max_length=10000)
    customer_goal: str = Field(default="", max_length=2000)
    customer_quote: str = Field(default="", max_length=4000)
    customer_minutes_lost: int | None = Field(default=None, ge=0)
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    payload_hash: str = Field(
        default="", max_length=64, description="Of the create payload, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deleted_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", nullable=True, index=False)
    )


class ObservationTag(SQLModel, table=True):
    """A pain point seen in an observation. Always points at a canonical (never merged) pain
    point: aliases are resolved on write and merges re-point tags."""

    __tablename__ = "observation_tags"
    __table_args__ = (
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="severity_range"),
        sa.Index("ix_observation_tags_pain_point_id", "pain_point_id", "observation_id"),
        # SQLite: the rows live in the primary key's b-tree (no rowid table beside a key index),
        # which with severity beside the key is also the covering index (migration
        # b1a0c0de0012). PostgreSQL ignores the option.
        {"sqlite_with_rowid": False},
    )

    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("observations.id", ondelete="CASCADE"), primary_key=True
        )
    )
    pain_point_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("pain_points.id"), primary_key=True)
    )
    severity: int = Field(ge=1, le=5)


class TagsPremarked(SQLModel, table=True):
    """While this table holds a row, SQLite's backlog_tags_insert trigger does not mark the
    tags' hours (migration b1a0c0de0014). A writer inserts the row only around inserting the
    tags of observations it inserted earlier in the same transaction — whose own insert
    trigger marked that same (day, hour) — and deletes it right after (the sync's bulk path:
    app.observations.service.insert_tags). The row can never be committed: `guard` references
    a row that does not exist, and the check is deferred to the commit, which fails while the
    row is there. PostgreSQL's statement-level trigger marks a whole insert in one pass and
    does not read this table."""

    __tablename__ = "tags_premarked"

    id: int = Field(primary_key=True)
    guard: int = Field(
        sa_column=sa.Column(
            sa.Integer(),
            sa.ForeignKey("tags_premarked.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        )
    )


# Indexes declared on these tables elsewhere that SQLite does not build: on the WITHOUT ROWID
# observation_tags the primary key's b-tree (observation_id, pain_point_id → severity) covers
# ix_observation_tags_backlog (app.models.rollups), so a second copy would only cost writes.
# migrations/env.py leaves them out of SQLite's autogenerate comparison.
SQLITE_OMITTED_INDEXES = frozenset({"ix_observation_tags_backlog"})


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    uploader_id: uuid.UUID = Field(sa_column=fk("users.id"))
    observation_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("observations.id", nullable=True, ondelete="SET NULL")
    )
    position: int = Field(default=0)
    content_type: str = Field(max_length=32)
    size: int
    width: int
    height: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=200)
    thumbnail_key: str = Field(default="", max_length=200)
    upload_sha256: str = Field(
        default="", max_length=64, description="Of the bytes as uploaded, for replays."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
