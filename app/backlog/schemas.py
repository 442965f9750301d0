"""Response models of the backlog, the journey heatmap and the pain point timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.improvements.schemas import ImprovementRef


class BacklogSort(StrEnum):
    frequency = "frequency"
    impact = "impact"
    minutes_lost = "minutes_lost"
    trend = "trend"
    recent = "recent"


class Bucket(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: datetime = Field(alias="from", description="Start, inclusive (UTC).")
    to: datetime = Field(description="End, exclusive (UTC).")


class StageRef(BaseModel):
    id: uuid.UUID = Field(description="The stage's id.")
    name: str = Field(description="The stage's name.")
    position: int = Field(description="The stage's 0-based position in its journey.")


class BacklogPainPoint(BaseModel):
    id: uuid.UUID = Field(description="The surviving pain point's id.")
    title: str = Field(description="Its title.")
    journey_id: uuid.UUID = Field(description="Its journey.")
    stage: StageRef = Field(description="Its stage.")
    layer: str | None = Field(description="Its blueprint layer, null when unspecified.")


class BacklogItem(BaseModel):
    rank: int = Field(description="1-based position in the response order.")
    pain_point: BacklogPainPoint = Field(description="The pain point.")
    frequency: int = Field(description="Distinct counted observations tagging it.")
    share: float = Field(description="frequency / total_mentions.")
    cumulative_share: float = Field(description="Running sum of share in response order.")
    previous_frequency: int = Field(description="Frequency in the previous window.")
    trend: float | None = Field(
        description="(frequency − previous_frequency) / previous_frequency; null when 0."
    )
    sites: int = Field(description="Distinct sites among its observations.")
    observers: int = Field(description="Distinct observers among its observations.")
    avg_severity: float = Field(description="Mean of each observation's highest severity.")
    impact: float = Field(description="frequency × avg_severity.")
    customer_minutes_lost: int = Field(description="Sum of its observations' minutes lost.")
    rate_per_100_customers: float | None = Field(
        description="100 × frequency / customers observed in the window; null when none."
    )
    first_seen: datetime = Field(description="Earliest observed_at in the window.")
    last_seen: datetime = Field(description="Latest observed_at in the window.")
    improvements: list[ImprovementRef] = Field(description="Improvements linked to it.")
    regressed: bool = Field(description="A verified improvement's pain point came back.")


class Backlog(BaseModel):
    window: Window = Field(description="The window [from, to).")
    previous_window: Window = Field(description="Same length, ending at from.")
    total_observations: int = Field(description="Counted observations with a matching tag.")
    total_mentions: int = Field(description="Sum of frequency over every matching pain point.")
    total_pain_points: int = Field(description="Pain points with frequency ≥ 1.")
    items: list[BacklogItem] = Field(description="Ranked pain points, at most `limit`.")


class JourneyRef(BaseModel):
    id: uuid.UUID = Field(description="The journey's id.")
    name: str = Field(description="The journey's name.")


class ByLayer(BaseModel):
    customer: int = Field(default=0, description="Mentions of customer-layer pain points.")
    frontstage: int = Field(default=0, description="Mentions of frontstage pain points.")
    backstage: int = Field(default=0, description="Mentions of backstage pain points.")
    support: int = Field(default=0, description="Mentions of support pain points.")
    unspecified: int = Field(default=0, description="Mentions of pain points without a layer.")


class TopPainPoint(BaseModel):
    id: uuid.UUID = Field(description="The pain point's id.")
    title: str = Field(description="Its title.")
    frequency: int = Field(description="Its backlog frequency.")


class HeatmapStage(BaseModel):
    stage: StageRef = Field(description="The stage.")
    observations: int = Field(description="Counted observations tagging its pain points.")
    mentions: int = Field(description="Sum of its pain points' frequency.")
    by_layer: ByLayer = Field(description="mentions split by layer.")
    top_pain_points: list[TopPainPoint] = Field(description="First three by frequency order.")


class Heatmap(BaseModel):
    journey: JourneyRef = Field(description="The journey.")
    window: Window = Field(description="The window [from, to).")
    stages: list[HeatmapStage] = Field(description="Every stage, in position order.")


class TimelinePoint(BaseModel):
    start: datetime = Field(description="Bucket start (UTC).")
    frequency: int = Field(description="Non-deleted observations tagging it in the bucket.")
