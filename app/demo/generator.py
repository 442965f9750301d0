"""`gembalog demo`: a realistic, deterministic demo organisation for an empty database.

`generate(seed, today)` builds every row in memory from `random.Random(seed)` and the date
(nothing else: no wall clock, no uuid4, no set iteration), so the same seed on the same day gives
the same rows. `load(session, data)` inserts them in bulk (Core executemany) and rebuilds the
backlog rollups when that module exists. `run(...)` is what the CLI calls.

Shape of the data (see app/demo/content.py for the words):
- Observations over the 182 days before today (UTC), ~82% inside visits (an observer at a site
  for 1–3 h with 10–80 customers observed), the rest logged on the go. Store visits lean on
  Saturdays and lunchtimes, contact-centre sessions on Monday mornings; "peak" pain points are
  twice as likely then.
- Pain points are drawn with fixed Pareto-like weights; an improvement that is done multiplies
  its pain points' weight from done_at on (e.g. 0.3), which is what its effect measures; one
  verified improvement's pain point comes back six weeks ago (a regression: six times its old
  weight, which as the phone queue's top pain is ~1.2-1.6× its old weekly count; a smaller
  factor left it below the before-rate on about half the days of a month). One pain point
  emerges seven weeks ago, one was archived four months ago, two duplicates were merged (their
  tags point at the survivor, as after a real merge).
- ~10% of observations are untriaged (a note, no tags); the rest carry 1–3 tags.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import Session, SQLModel, col

from app.demo import content as C
from app.models import (
    Improvement,
    ImprovementPainPoint,
    Journey,
    Observation,
    ObservationTag,
    PainPoint,
    Site,
    Stage,
    User,
    Visit,
)
from app.pain_points.service import normalise_title

DAYS = 182
DEFAULT_SEED = 1
DEFAULT_OBSERVATIONS = 4000
IN_VISIT_SHARE = 0.82
UNTRIAGED_SHARE = 0.10
LOCAL = ZoneInfo("Europe/London")

Row = dict[str, Any]

# Relative chance of a gemba walk on each weekday (Monday first).
STORE_DAYS = (0.8, 0.7, 0.8, 0.9, 1.1, 1.7, 0.6)
PHONE_DAYS = (1.6, 1.1, 1.0, 1.0, 0.9, 0.4, 0.0)
STORE_HOURS = {9: 0.6, 10: 1.0, 11: 1.3, 12: 1.6, 13: 1.4, 14: 1.0, 15: 0.9, 16: 0.6}
PHONE_HOURS = {8: 0.7, 9: 1.6, 10: 1.4, 11: 1.1, 12: 0.8, 13: 0.9, 14: 1.0, 15: 0.9, 16: 0.7}


@dataclass
class DemoData:
    """Every row of the demo, ready for insertion (users without their password hash)."""

    seed: int
    today: date
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # role, email, password
    users: list[Row] = field(default_factory=list)
    journeys: list[Row] = field(default_factory=list)
    stages: list[Row] = field(default_factory=list)
    sites: list[Row] = field(default_factory=list)
    pain_points: list[Row] = field(default_factory=list)
    visits: list[Row] = field(default_factory=list)
    observations: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    improvements: list[Row] = field(default_factory=list)
    improvement_pain_points: list[Row] = field(default_factory=list)

    def tables(self) -> list[tuple[type[SQLModel], list[Row]]]:
        """In insertion order (foreign keys first; merged pain points after survivors)."""
        survivors = [p for p in self.pain_points if p["merged_into_id"] is None]
        merged = [p for p in self.pain_points if p["merged_into_id"] is not None]
        return [
            (User, self.users),
            (Journey, self.journeys),
            (Stage, self.stages),
            (Site, self.sites),
            (PainPoint, survivors),
            (PainPoint, merged),
            (Visit, self.visits),
            (Observation, self.observations),
            (ObservationTag, self.tags),
            (Improvement, self.improvements),
            (ImprovementPainPoint, self.improvement_pain_points),
        ]

    def counts(self) -> dict[str, int]:
        return {
            "journeys": len(self.journeys),
            "stages": len(self.stages),
            "sites": len(self.sites),
            "users": len(self.users),
            "pain points": len(self.pain_points),
            "visits": len(self.visits),
            "observations": len(self.observations),
            "tags": len(self.tags),
            "improvements": len(self.improvements),
        }

    def digest(self) -> str:
        """SHA-256 over every row, for comparing two generations."""
        payload = {
            (model.__tablename__ + str(i)): rows  # type: ignore[operator]
            for i, (model, rows) in enumerate(self.tables())
        }
        raw = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class _Pain:
    spec: C.PainSpec
    id: uuid.UUID
    journey: C.JourneySpec
    stage_name: str
    effects: list[tuple[datetime, float]] = field(default_factory=list)
    not_before: datetime | None = None
    not_after: datetime | None = None


class _Builder:
    def __init__(self, seed: int, today: date, observations: int) -> None:
        self.rng = random.Random(seed)
        self.data = DemoData(seed=seed, today=today)
        self.target = observations
        self.anchor = datetime(today.year, today.month, today.day, tzinfo=UTC)
        self.start = self.anchor - timedelta(days=DAYS)
        self.days = [self.start.date() + timedelta(days=i) for i in range(DAYS)]
        self.user_ids: dict[str, uuid.UUID] = {}
        self.people: dict[uuid.UUID, C.PersonSpec] = {}
        self.site_ids: dict[str, uuid.UUID] = {}
        self.sites: dict[str, C.SiteSpec] = {s.key: s for s in C.SITES}
        self.journey_ids: dict[str, uuid.UUID] = {}
        self.stage_ids: dict[tuple[str, str], uuid.UUID] = {}
        self.pains: dict[str, _Pain] = {}
        self.by_journey: dict[str, list[_Pain]] = {}

    # ------------------------------------------------------------------ helpers

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def ago(self, days: float, hour: int = 9) -> datetime:
        return self.anchor - timedelta(days=days) + timedelta(hours=hour)

    def local(self, day: date, hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL).astimezone(UTC)

    def pick_day(self, weights: Sequence[float]) -> date:
        return self.rng.choices(self.days, weights=[weights[d.weekday()] for d in self.days])[0]

    def pick_hour(self, hours: dict[int, float], day: date) -> int:
        keys = [h for h in hours if day.weekday() != 6 or 10 <= h <= 15]
        return self.rng.choices(keys, weights=[hours[h] for h in keys])[0]

    # ------------------------------------------------------------------ catalogue

    def users(self) -> None:
        created = self.ago(240)
        for person in C.PEOPLE:
            uid = self.uid()
            first, last = person.name.lower().split(" ", 1)
            email = f"{first}.{last.replace(' ', '')}@{C.EMAIL_DOMAIN}"
            self.user_ids[person.name] = uid
            self.people[uid] = person
            self.data.users.append(
                {
                    "id": uid,
                    "email": email,
                    "name": person.name,
                    "role": person.role,
                    "active": True,
                    "password_hash": "",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            self.data.logins.append((person.role, email, C.PASSWORDS[person.role]))

    def catalogue(self) -> None:
        admin = self.user_ids["Priya Nair"]
        lead = self.user_ids["Hannah Clarke"]
        created = self.ago(230)
        for site in C.SITES:
            sid = self.uid()
            self.site_ids[site.key] = sid
            self.data.sites.append(
                {
                    "id": sid,
                    "name": site.name,
                    "kind": site.kind,
                    "address": site.address,
                    "archived": False,
                    "created_by": admin,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        for journey in C.JOURNEYS:
            jid = self.uid()
            self.journey_ids[journey.key] = jid
            self.data.journeys.append(
                {
                    "id": jid,
                    "name": journey.name,
                    "description": journey.description,
                    "archived": False,
                    "created_by": lead,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for position, (name, description) in enumerate(journey.stages):
                stage_id = self.uid()
                self.stage_ids[(journey.key, name)] = stage_id
                self.data.stages.append(
                    {
                        "id": stage_id,
                        "journey_id": jid,
                        "name": name,
                        "description": description,
                        "position": position,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
        for journey in C.JOURNEYS:
            self.by_journey[journey.key] = []
            for spec in journey.pains:
                self.pain(journey, spec, lead)

    def pain(self, journey: C.JourneySpec, spec: C.PainSpec, lead: uuid.UUID) -> None:
        pid = self.uid()
        stage_id = self.stage_ids[(journey.key, spec.stage)]
        pain = _Pain(spec=spec, id=pid, journey=journey, stage_name=spec.stage)
        created, creator, updated = self.ago(DAYS + 20), lead, self.ago(DAYS + 20)
        status = "open"
        if spec.emerges_days_ago is not None:
            created = updated = pain.not_before = self.ago(spec.emerges_days_ago, 11)
            creator = self.observer_for(spec.sites[0] if spec.sites else C.STORES[0])
        if spec.archived_days_ago is not None:
            status = "archived"
            updated = pain.not_after = self.ago(spec.archived_days_ago, 15)
        self.data.pain_points.append(
            self.pain_row(
                pid,
                journey,
                stage_id,
                spec.title,
                spec.description,
                spec.layer,
                status,
                None,
                creator,
                created,
                updated,
            )
        )
        for title in spec.merged:
            merged_at = self.ago(self.rng.randint(40, 90), 14)
            self.data.pain_points.append(
                self.pain_row(
                    self.uid(),
                    journey,
                    stage_id,
                    title,
                    "",
                    spec.layer,
                    "merged",
                    pid,
                    self.observer_for(self.rng.choice(C.STORES)),
                    self.ago(self.rng.randint(120, 170), 12),
                    merged_at,
                )
            )
        self.pains[spec.key] = pain
        self.by_journey[journey.key].append(pain)

    def pain_row(
        self,
        pid: uuid.UUID,
        journey: C.JourneySpec,
        stage_id: uuid.UUID,
        title: str,
        description: str,
        layer: str | None,
        status: str,
        merged_into: uuid.UUID | None,
        creator: uuid.UUID,
        created: datetime,
        updated: datetime,
    ) -> Row:
        return {
            "id": pid,
            "journey_id": self.journey_ids[journey.key],
            "stage_id": stage_id,
            "title": title,
            "title_key": normalise_title(title),
            "description": description,
            "layer": layer,
            "status": status,
            "merged_into_id": merged_into,
            "payload_hash": "",
            "created_by": creator,
            "created_at": created,
            "updated_at": updated,
        }

    def observer_for(self, site_key: str) -> uuid.UUID:
        locals_ = [
            uid for uid, p in self.people.items() if p.role == "observer" and site_key in p.home
        ]
        if locals_ and self.rng.random() < 0.85:
            return self.rng.choice(locals_)
        if site_key == "contact":
            return self.rng.choice([self.user_ids["Tom Whitaker"], self.user_ids["Hannah Clarke"]])
        walkers = [
            uid
            for uid, p in self.people.items()
            if p.role == "manager" or (p.role == "observer" and "contact" not in p.home)
        ]
        return self.rng.choice(walkers)

    # ------------------------------------------------------------------ improvements

    def improvements(self) -> None:
        owners = {"buy": "Tom Whitaker", "return": "Tom Whitaker", "phone": "Hannah Clarke"}
        for spec in C.IMPROVEMENTS:
            iid = self.uid()
            first = self.pains[spec.pains[0]]
            owner = self.user_ids[owners[first.journey.key]]
            created = self.ago(spec.created_days_ago, 10)

            def at(days: int | None) -> datetime | None:
                return None if days is None else self.ago(days, 16)

            started, done, verified = (
                at(spec.started_days_ago),
                at(spec.done_days_ago),
                at(spec.verified_days_ago),
            )
            moments = [m for m in (created, started, done, verified) if m is not None]
            updated = max(moments)
            if spec.status == "dropped":
                updated = created + timedelta(days=30)
            self.data.improvements.append(
                {
                    "id": iid,
                    "title": spec.title,
                    "description": spec.description,
                    "hypothesis": spec.hypothesis,
                    "status": spec.status,
                    "owner_id": owner,
                    "due_on": None
                    if spec.due_in_days is None
                    else self.data.today + timedelta(days=spec.due_in_days),
                    "started_at": started,
                    "done_at": done,
                    "verified_at": verified,
                    "created_by": self.user_ids["Hannah Clarke"],
                    "payload_hash": "",
                    "created_at": created,
                    "updated_at": updated,
                }
            )
            for key in spec.pains:
                pain = self.pains[key]
                self.data.improvement_pain_points.append(
                    {"improvement_id": iid, "pain_point_id": pain.id}
                )
                for days_ago, factor in spec.effect:
                    # The first step starts at done_at exactly, so the effect windows see it.
                    when = done if days_ago == spec.done_days_ago and done else self.ago(days_ago)
                    pain.effects.append((when, factor))
                pain.effects.sort(key=lambda e: e[0])

    # ------------------------------------------------------------------ field work

    def weight(self, pain: _Pain, at: datetime, site_key: str, peak: bool) -> float:
        spec = pain.spec
        if spec.sites and site_key not in spec.sites:
            return 0.0
        if pain.not_before is not None and at < pain.not_before:
            return 0.0
        if pain.not_after is not None and at >= pain.not_after:
            return 0.0
        w = spec.weight
        for since, factor in pain.effects:
            if at >= since:
                w = spec.weight * factor
        return w * 2 if peak and spec.peak else w

    def is_peak(self, journey: C.JourneySpec, at: datetime) -> bool:
        local = at.astimezone(LOCAL)
        if journey.channel == "phone":
            return local.weekday() == 0 or 9 <= local.hour < 11
        return local.weekday() == 5 or 12 <= local.hour < 14

    def visits(self) -> None:
        in_visits = round(self.target * IN_VISIT_SHARE)
        journeys = list(C.JOURNEYS)
        shares = [j.share for j in journeys]
        stores = [s for s in C.SITES if s.key in C.STORES]
        while len(self.data.observations) < in_visits:
            journey = self.rng.choices(journeys, weights=shares)[0]
            phone = journey.channel == "phone"
            site = (
                self.sites["contact"]
                if phone
                else (self.rng.choices(stores, weights=[s.size for s in stores])[0])
            )
            observer = self.observer_for(site.key)
            day = self.pick_day(PHONE_DAYS if phone else STORE_DAYS)
            hours = PHONE_HOURS if phone else STORE_HOURS
            started = self.local(day, self.pick_hour(hours, day), self.rng.choice((0, 15, 30, 45)))
            minutes = self.rng.choice((60, 75, 90, 90, 105, 120, 120, 150, 180))
            ended = started + timedelta(minutes=minutes)
            hours_ = minutes / 60
            per_hour = self.rng.gauss(12, 3) if phone else self.rng.gauss(20, 6)
            customers = (
                None if self.rng.random() < 0.04 else (max(10, min(80, round(hours_ * per_hour))))
            )
            vid = self.uid()
            place = self.rng.choice(C.PLACES[journey.key])
            note = self.rng.choice(C.VISIT_NOTES).format(place=place, n=self.rng.randint(2, 6))
            self.data.visits.append(
                {
                    "id": vid,
                    "observer_id": observer,
                    "site_id": self.site_ids[site.key],
                    "channel": journey.channel,
                    "started_at": started,
                    "ended_at": ended,
                    "customers_observed": customers,
                    "purpose": self.rng.choice(C.VISIT_PURPOSES[journey.key]),
                    "notes": note,
                    "payload_hash": "",
                    "created_at": started,
                    "updated_at": ended + timedelta(minutes=self.rng.randint(1, 20)),
                }
            )
            count = max(2, round(hours_ * self.rng.gauss(3.2, 1.0)))
            moments = sorted(
                started + timedelta(seconds=self.rng.randint(60, minutes * 60 - 60))
                for _ in range(count)
            )
            for at in moments:
                j = journey
                if not phone and self.rng.random() < 0.12:
                    j = C.RETURN if journey is C.BUY else C.BUY
                self.observation(j, at, site.key, observer, vid)

    def loose(self) -> None:
        """Observations logged outside a visit: on the go, or from call recordings."""
        journeys = list(C.JOURNEYS)
        stores = [s for s in C.SITES if s.key in C.STORES]
        while len(self.data.observations) < self.target:
            journey = self.rng.choices(journeys, weights=[j.share for j in journeys])[0]
            phone = journey.channel == "phone"
            site = (
                "contact"
                if phone
                else (self.rng.choices(stores, weights=[s.size for s in stores])[0].key)
            )
            day = self.pick_day(PHONE_DAYS if phone else STORE_DAYS)
            hour = self.pick_hour(PHONE_HOURS if phone else STORE_HOURS, day)
            at = self.local(day, hour, self.rng.randint(0, 59))
            self.observation(journey, at, site, self.observer_for(site), None)

    def pick_pains(self, journey: C.JourneySpec, at: datetime, site: str) -> list[_Pain]:
        if self.rng.random() < UNTRIAGED_SHARE:
            return []
        peak = self.is_peak(journey, at)
        candidates = list(self.by_journey[journey.key])
        weights = [self.weight(p, at, site, peak) for p in candidates]
        r = self.rng.random()
        wanted = 1 if r < 0.72 else 2 if r < 0.93 else 3
        if not any(w > 0 for w in weights):
            return []
        # Drawn with replacement and deduplicated: a pain point's chance to be tagged then
        # scales with its weight, so an improvement's multiplier shows in its frequency (drawn
        # without replacement, a damped top pain point kept coming back as a second tag).
        picks = self.rng.choices(range(len(candidates)), weights=weights, k=wanted)
        return [candidates[i] for i in dict.fromkeys(picks)]

    def observation(
        self,
        journey: C.JourneySpec,
        at: datetime,
        site_key: str,
        observer: uuid.UUID,
        visit_id: uuid.UUID | None,
    ) -> None:
        rng = self.rng
        pains = self.pick_pains(journey, at, site_key)
        channel = journey.channel
        if visit_id is None and pains and pains[0].stage_name == "Find the number":
            channel, site_key = "web", "web"  # seen on the website, not on a call
        oid = self.uid()
        product = rng.choice(C.PRODUCTS)
        minutes: int | None = None
        if pains:
            lo, hi = pains[0].spec.minutes
            minutes = round(rng.triangular(lo, hi, lo + (hi - lo) / 3))
            for extra in pains[1:]:
                minutes += rng.randint(0, extra.spec.minutes[1] // 2)
            if rng.random() < 0.15:
                minutes = None
        elif rng.random() < 0.5:
            minutes = rng.randint(0, 10)
        fill = {"product": product, "n": rng.randint(2, 9), "m": max(2, minutes or 0)}
        if minutes is None:
            fill["m"] = rng.randint(3, 15)
        if pains:
            parts = [rng.choice(pains[0].spec.notes).format(**fill)]
            if len(pains) > 1 and rng.random() < 0.7:
                also = rng.choice(pains[1].spec.notes).format(**fill)
                parts.append("Also: " + also[0].lower() + also[1:])
            quote = rng.choice(pains[0].spec.quotes).format(**fill) if rng.random() < 0.55 else ""
        else:
            parts = [rng.choice(journey.untriaged).format(**fill)]
            quote = ""
        context = self.context(journey, at)
        if context and rng.random() < 0.35:
            parts.insert(0, context)
        goal = rng.choice(journey.goals).format(**fill) if rng.random() < 0.7 else ""
        site = self.sites[site_key]
        lat = lon = accuracy = None
        if channel == "in_person" and site.lat is not None and site.lon is not None:
            if rng.random() < 0.6:
                lat = round(site.lat + rng.gauss(0, 0.00015), 6)
                lon = round(site.lon + rng.gauss(0, 0.00015), 6)
                accuracy = float(rng.choice((5, 8, 12, 20, 35)))
        r = rng.random()
        delay = (
            timedelta(seconds=rng.randint(5, 180))
            if r < 0.7
            else timedelta(minutes=rng.randint(5, 90))
            if r < 0.95
            else timedelta(hours=rng.randint(12, 60))  # logged offline, synced later
        )
        if at + delay >= self.anchor:  # no sync from the future
            delay = timedelta(seconds=rng.randint(5, 180))
        created = at + delay
        self.data.observations.append(
            {
                "id": oid,
                "journey_id": self.journey_ids[journey.key],
                "visit_id": visit_id,
                "site_id": self.site_ids[site_key],
                "observer_id": observer,
                "channel": channel,
                "observed_at": at,
                "note": " ".join(parts),
                "customer_goal": goal,
                "customer_quote": quote,
                "customer_minutes_lost": minutes,
                "lat": lat,
                "lon": lon,
                "accuracy_m": accuracy,
                "payload_hash": "",
                "created_at": created,
                "updated_at": created,
                "deleted_at": None,
                "deleted_by": None,
            }
        )
        for i, pain in enumerate(pains):
            mean = pain.spec.severity - (0.6 if i else 0.0)
            severity = max(1, min(5, round(rng.gauss(mean, 0.8))))
            self.data.tags.append(
                {"observation_id": oid, "pain_point_id": pain.id, "severity": severity}
            )

    def context(self, journey: C.JourneySpec, at: datetime) -> str:
        local = at.astimezone(LOCAL)
        if journey.channel == "phone":
            if local.weekday() == 0 and local.hour < 12:
                return "Monday morning backlog."
            return self.rng.choice(C.PHONE_CONTEXT)
        if local.weekday() == 5:
            return "Saturday rush."
        if 12 <= local.hour < 14:
            return "Lunchtime peak."
        if local.month == 8 or (local.month == 7 and local.day > 20):
            return "School holidays, lots of families in."
        context = self.rng.choice(C.STORE_CONTEXT)
        return "Quiet morning." if context == "Quiet afternoon." and local.hour < 13 else context

    def build(self) -> DemoData:
        self.users()
        self.catalogue()
        self.improvements()
        self.visits()
        self.loose()
        self.data.observations.sort(key=lambda o: (o["observed_at"], str(o["id"])))
        return self.data


def generate(
    seed: int = DEFAULT_SEED, today: date | None = None, observations: int = DEFAULT_OBSERVATIONS
) -> DemoData:
    """Every demo row for `seed`, with six months of observations ending before `today` (UTC;
    default: the current UTC date)."""
    return _Builder(seed, today or datetime.now(UTC).date(), observations).build()


# ---------------------------------------------------------------------- database

_CONTENT: tuple[type[SQLModel], ...] = (
    User,
    Journey,
    Site,
    PainPoint,
    Visit,
    Observation,
    Improvement,
)


def is_empty(session: Session) -> bool:
    """No users, journeys, sites, pain points, visits, observations or improvements."""
    for model in _CONTENT:
        if session.execute(select(col(model.id)).limit(1)).first() is not None:  # type: ignore[attr-defined]
            return False
    return True


def load(session: Session, data: DemoData) -> bool:
    """Inserts the demo in bulk; returns whether the backlog rollups were rebuilt. Does not
    commit. Argon2id is slow, so each role's password is hashed once."""
    from app.core.security import hash_password

    hashes = {role: hash_password(password) for role, password in C.PASSWORDS.items()}
    for model, rows in data.tables():
        if model is User:
            rows = [{**row, "password_hash": hashes[row["role"]]} for row in rows]
        if rows:
            session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
    session.flush()
    return rebuild_rollups(session)


def rebuild_rollups(session: Session) -> bool:
    try:
        module = importlib.import_module("app.backlog.rollup")
    except ModuleNotFoundError as exc:
        if exc.name not in ("app.backlog.rollup", "app.backlog"):
            raise
        return False
    rebuild: Callable[[Session], object] | None = getattr(module, "rebuild", None)
    if rebuild is None:
        return False
    rebuild(session)
    return True


def report(data: DemoData, seconds: float, rollups: bool, out: TextIO) -> None:
    counts = ", ".join(f"{n:,} {name}" for name, n in data.counts().items())
    print(f"Loaded the {C.ORG} demo (seed {data.seed}) in {seconds:.1f} s: {counts}.", file=out)
    if rollups:
        print("Backlog rollups rebuilt.", file=out)
    print("", file=out)
    print("Demo logins (demo data only: never use these passwords for real accounts):", file=out)
    width = max(len(email) for _, email, _ in data.logins)
    print(f"  {'role':<9} {'email':<{width}}  password", file=out)
    for role, email, password in data.logins:
        print(f"  {role:<9} {email:<{width}}  {password}", file=out)


def run(
    session_factory: Callable[[], Session],
    *,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    today: date | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The CLI's work: refuse (1) or skip (0) a database that is not empty, else load and
    print the logins."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.perf_counter()
    with session_factory() as session:
        if not is_empty(session):
            if if_empty:
                print("The database already has data; the demo was not loaded.", file=out)
                return 0
            print(
                "The database is not empty: the demo loads only into an empty database "
                "(use --if-empty to skip quietly).",
                file=err,
            )
            return 1
        data = generate(seed=seed, today=today)
        rollups = load(session, data)
        session.commit()
    report(data, time.perf_counter() - started, rollups, out)
    return 0
