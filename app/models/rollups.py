"""Derived tables and indexes that serve the backlog, heatmap and timeline (issue 4).

The rollups hold whole UTC days (and, for the partial days at a window's edges, whole UTC
hours) and are keyed by pain point, so stage moves, layer changes and archives need no
maintenance: the pain point is joined at query time. A *slice* is the
observation filter a row answers: `dim` 'a' = all observations (`dim_value` ''), 's' = one site,
'c' = one channel, 'o' = one observer; uuids are stored as 32 lowercase hex digits.

They are kept exact by invalidation, not by deltas: database triggers (migration b1a0c0de0006)
append the UTC day of every changed observation, tag or visit to `backlog_dirty` on every write
path, in the writing transaction; readers answer dirty days from the raw rows, and
`app.backlog.rollup.refresh` recomputes them. See app/backlog/rollup.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utc_column
from app.models.field import Observation, ObservationTag

_obs = Observation.__table__  # type: ignore[attr-defined]
_tags = ObservationTag.__table__  # type: ignore[attr-defined]

# Covering indexes for the raw path (partial days at the window's edges, dirty days).
ix_observations_backlog = sa.Index(
    "ix_observations_backlog",
    _obs.c.observed_at,
    _obs.c.id,
    _obs.c.deleted_at,
    _obs.c.journey_id,
    _obs.c.site_id,
    _obs.c.channel,
    _obs.c.observer_id,
    _obs.c.customer_minutes_lost,
)
ix_observation_tags_backlog = sa.Index(
    "ix_observation_tags_backlog",
    _tags.c.observation_id,
    _tags.c.pain_point_id,
    _tags.c.severity,
)


class BacklogDaily(SQLModel, table=True):
    """Per slice, UTC day and pain point: the tags of non-deleted observations (one tag = one
    observation of one pain point: tags are canonical and unique per observation)."""

    __tablename__ = "backlog_daily"
    __table_args__ = (
        sa.Index("ix_backlog_daily_pain_point", "pain_point_id", "dim", "dim_value", "day"),
        sa.Index("ix_backlog_daily_day", "day"),
    )

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    n: int
    severity_sum: int
    minutes_sum: int
    first_at: datetime = Field(sa_column=utc_column())
    last_at: datetime = Field(sa_column=utc_column())


class BacklogBlock(SQLModel, table=True):
    """`backlog_daily` added up over aligned blocks of `span` days (4, 16 or 64; `day` is the
    block's first day, whose number of days since 1970-01-01 is a multiple of `span`): a long
    window reads a few blocks per pain point instead of every day. Derived from
    `backlog_daily`, recomputed with the days it covers."""

    __tablename__ = "backlog_blocks"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    span: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    n: int
    severity_sum: int
    minutes_sum: int
    first_at: datetime = Field(sa_column=utc_column())
    last_at: datetime = Field(sa_column=utc_column())


class BacklogMember(SQLModel, table=True):
    """A dense number per site ('s') and observer ('o') seen by the rollups: its bit in the
    presence sets (`idx` // 63 = chunk, `idx` % 63 = bit). Never renumbered."""

    __tablename__ = "backlog_members"
    __table_args__ = (sa.UniqueConstraint("kind", "idx", name="uq_backlog_members_kind_idx"),)

    kind: str = Field(primary_key=True, max_length=1)
    member: str = Field(primary_key=True, max_length=32)
    idx: int


class BacklogPresence(SQLModel, table=True):
    """Which sites ('s') and observers ('o') saw a pain point in a slice on the days of an
    aligned block (`span` 1, 4, 16 or 64 days from `day`, as in `backlog_blocks`): the set
    of their `backlog_members` numbers, 63 per `chunk`, as bits. The distinct count over
    any set of whole days is the popcount of the OR of a few rows per pain point. Derived
    from `backlog_presence_daily`."""

    __tablename__ = "backlog_presence"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    span: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    member_kind: str = Field(primary_key=True, max_length=1)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    chunk: int = Field(primary_key=True)
    bits: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class BacklogTotals(SQLModel, table=True):
    """Per slice and UTC day: distinct non-deleted observations with a tag on a non-archived
    pain point of a journey ('j'), stage ('s') or layer ('l', '-' = none). Depends on pain
    point attributes, so a change of status, stage or layer marks every day stale."""

    __tablename__ = "backlog_totals"
    __table_args__ = (sa.Index("ix_backlog_totals_day", "day"),)

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=1)
    value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    n: int


class BacklogVisitsDaily(SQLModel, table=True):
    """Per slice ('a', 's', 'c') and UTC day of `started_at`: customers observed."""

    __tablename__ = "backlog_visits_daily"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    customers: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class BacklogHourly(SQLModel, table=True):
    """`backlog_daily` per UTC hour: the whole hours of a window's partial edge days."""

    __tablename__ = "backlog_hourly"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    hour: int = Field(primary_key=True)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    n: int
    severity_sum: int
    minutes_sum: int
    first_at: datetime = Field(sa_column=utc_column())
    last_at: datetime = Field(sa_column=utc_column())


class BacklogHourBlock(SQLModel, table=True):
    """`backlog_hourly` added up over aligned blocks of `span` hours (4 or 12) of a UTC day
    starting at `hour`: a partial edge day reads a few rows per pain point, not one per
    hour. Derived from `backlog_hourly`, recomputed with its day."""

    __tablename__ = "backlog_hour_blocks"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    span: int = Field(primary_key=True)
    hour: int = Field(primary_key=True)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    n: int
    severity_sum: int
    minutes_sum: int
    first_at: datetime = Field(sa_column=utc_column())
    last_at: datetime = Field(sa_column=utc_column())


class BacklogPresenceDaily(SQLModel, table=True):
    """`backlog_presence` per UTC day, bit h of `bits` = seen in hour h: the whole hours of a
    window's partial edge days."""

    __tablename__ = "backlog_presence_daily"

    day: date = Field(primary_key=True)
    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    member_kind: str = Field(primary_key=True, max_length=1)
    pain_point_id: uuid.UUID = Field(primary_key=True)
    member: str = Field(primary_key=True, max_length=32)
    bits: int


class BacklogTotalsHourly(SQLModel, table=True):
    """`backlog_totals` per UTC hour."""

    __tablename__ = "backlog_totals_hourly"
    # The totals of all journeys (no `value`) by slice and time; the primary key has `value`
    # before `day`.
    __table_args__ = (
        sa.Index("ix_backlog_totals_hourly_slice_time", "dim", "dim_value", "kind", "day", "hour"),
    )

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=1)
    value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    hour: int = Field(primary_key=True)
    n: int


class BacklogVisitsHourly(SQLModel, table=True):
    """`backlog_visits_daily` per UTC hour."""

    __tablename__ = "backlog_visits_hourly"

    dim: str = Field(primary_key=True, max_length=1)
    dim_value: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    hour: int = Field(primary_key=True)
    customers: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class BacklogDirty(SQLModel, table=True):
    """Days whose rollups may be stale, appended by triggers (NULL day: the totals of every
    day). Append-only on PostgreSQL so concurrent writers never wait on each other; a
    refresh deletes the rows it has seen before recomputing (app/backlog/rollup.py)."""

    __tablename__ = "backlog_dirty"
    __table_args__ = (sa.Index("ix_backlog_dirty_day_hour", "day", "hour"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date | None = None
    # 0-23: that hour (and the day's day-level rollups) is stale; -1: only the day-level
    # rollups are; NULL: the whole day (marks made before hour marks existed).
    hour: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger()))
