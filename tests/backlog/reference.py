"""A straightforward pure-Python reference of SPEC §5 "Backlog", "Heatmap" and "Timeline",
over an in-memory model of what the tests stored through the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

LAYERS = ("customer", "frontstage", "backstage", "support")


@dataclass
class PP:
    id: str
    title: str
    journey_id: str
    stage_id: str
    layer: str | None
    status: str = "open"
    merged_into: str | None = None


@dataclass
class Obs:
    id: str
    journey_id: str
    site_id: str | None
    channel: str | None
    observer_id: str
    observed_at: datetime
    minutes: int | None
    tags: dict[str, int]  # pain point id as sent → severity
    deleted: bool = False


@dataclass
class VisitRec:
    site_id: str | None
    channel: str | None
    started_at: datetime
    customers: int | None


@dataclass
class World:
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → {name, position, j}
    journeys: dict[str, str] = field(default_factory=dict)  # id → name
    pps: dict[str, PP] = field(default_factory=dict)
    obs: dict[str, Obs] = field(default_factory=dict)
    visits: list[VisitRec] = field(default_factory=list)

    def survivor(self, pid: str) -> PP:
        pp = self.pps[pid]
        while pp.merged_into is not None:
            pp = self.pps[pp.merged_into]
        return pp

    def resolved_tags(self, o: Obs) -> dict[str, int]:
        out: dict[str, int] = {}
        for pid, sev in o.tags.items():
            s = self.survivor(pid).id
            out[s] = max(out.get(s, 0), sev)
        return out


def _obs_matches(o: Obs, f: dict[str, Any], start: datetime, end: datetime) -> bool:
    if o.deleted or not (start <= o.observed_at < end):
        return False
    for key in ("journey_id", "site_id", "channel", "observer_id"):
        if f.get(key) is not None and getattr(o, key) != f[key]:
            return False
    return True


def _pp_matches(pp: PP, f: dict[str, Any]) -> bool:
    if pp.status == "archived":
        return False
    if f.get("stage_id") is not None and pp.stage_id != f["stage_id"]:
        return False
    layer = f.get("layer")
    if layer == "unspecified":
        return pp.layer is None
    return layer is None or pp.layer == layer


def _measures(w: World, f: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    total_obs = 0
    for o in w.obs.values():
        if not _obs_matches(o, f, start, end):
            continue
        hit = False
        for pid, sev in w.resolved_tags(o).items():
            pp = w.pps[pid]
            if not _pp_matches(pp, f):
                continue
            hit = True
            m = per.setdefault(
                pid, {"obs": [], "sev": 0, "min": 0, "sites": set(), "observers": set()}
            )
            m["obs"].append(o)
            m["sev"] += sev
            m["min"] += o.minutes or 0
            if o.site_id is not None:
                m["sites"].add(o.site_id)
            m["observers"].add(o.observer_id)
        total_obs += hit
    return {"per": per, "total_observations": total_obs}


def backlog(
    w: World, f: dict[str, Any], start: datetime, end: datetime, sort: str
) -> dict[str, Any]:
    cur = _measures(w, f, start, end)
    prev_start = start - (end - start)
    prev = _measures(w, f, prev_start, start)["per"]
    customers = sum(
        v.customers or 0
        for v in w.visits
        if start <= v.started_at < end
        and (f.get("site_id") is None or v.site_id == f["site_id"])
        and (f.get("channel") is None or v.channel == f["channel"])
    )
    items = []
    for pid, m in cur["per"].items():
        pp = w.pps[pid]
        freq = len(m["obs"])
        pf = len(prev.get(pid, {"obs": []})["obs"])
        st = w.stages[pp.stage_id]
        items.append(
            {
                "pain_point": {
                    "id": pid,
                    "title": pp.title,
                    "journey_id": pp.journey_id,
                    "stage": {"id": pp.stage_id, "name": st["name"], "position": st["position"]},
                    "layer": pp.layer,
                },
                "frequency": freq,
                "previous_frequency": pf,
                "trend": None if pf == 0 else (freq - pf) / pf,
                "sites": len(m["sites"]),
                "observers": len(m["observers"]),
                "avg_severity": m["sev"] / freq,
                "impact": freq * (m["sev"] / freq),
                "customer_minutes_lost": m["min"],
                "rate_per_100_customers": 100 * freq / customers if customers else None,
                "first_seen": min(o.observed_at for o in m["obs"]),
                "last_seen": max(o.observed_at for o in m["obs"]),
            }
        )
    total_mentions = sum(i["frequency"] for i in items)

    def key(i: dict[str, Any]) -> tuple[Any, ...]:
        tie = (-i["last_seen"].timestamp(), i["pain_point"]["title"], i["pain_point"]["id"])
        if sort == "frequency":
            return (-i["frequency"], *tie)
        if sort == "impact":
            return (-round(i["impact"], 9), *tie)
        if sort == "minutes_lost":
            return (-i["customer_minutes_lost"], *tie)
        if sort == "trend":
            t = i["trend"]
            return (t is None, -round(t or 0.0, 9), *tie)
        return tie

    items.sort(key=key)
    running = 0.0
    for n, i in enumerate(items, 1):
        i["rank"] = n
        i["share"] = i["frequency"] / total_mentions
        running += i["share"]
        i["cumulative_share"] = running
    return {
        "window": {"from": start, "to": end},
        "previous_window": {"from": prev_start, "to": start},
        "total_observations": cur["total_observations"],
        "total_mentions": total_mentions,
        "total_pain_points": len(items),
        "items": items,
    }


def heatmap(
    w: World, journey_id: str, f: dict[str, Any], start: datetime, end: datetime
) -> dict[str, Any]:
    f = {**{k: f.get(k) for k in ("site_id", "channel", "observer_id")}, "journey_id": journey_id}
    ranked = backlog(w, f, start, end, "frequency")["items"]
    stages = sorted(
        ((sid, s) for sid, s in w.stages.items() if s["journey"] == journey_id),
        key=lambda x: x[1]["position"],
    )
    out = []
    for sid, s in stages:
        mine = [i for i in ranked if i["pain_point"]["stage"]["id"] == sid]
        by_layer = dict.fromkeys((*LAYERS, "unspecified"), 0)
        for i in mine:
            by_layer[i["pain_point"]["layer"] or "unspecified"] += i["frequency"]
        n_obs = 0
        for o in w.obs.values():
            if not _obs_matches(o, f, start, end):
                continue
            if any(
                w.pps[p].stage_id == sid and w.pps[p].status != "archived"
                for p in w.resolved_tags(o)
            ):
                n_obs += 1
        out.append(
            {
                "stage": {"id": sid, "name": s["name"], "position": s["position"]},
                "observations": n_obs,
                "mentions": sum(i["frequency"] for i in mine),
                "by_layer": by_layer,
                "top_pain_points": [
                    {
                        "id": i["pain_point"]["id"],
                        "title": i["pain_point"]["title"],
                        "frequency": i["frequency"],
                    }
                    for i in mine[:3]
                ],
            }
        )
    return {"journey": {"id": journey_id, "name": w.journeys[journey_id]}, "stages": out}


def _bucket(d: date, bucket: str) -> date:
    if bucket == "week":
        return d - timedelta(days=d.weekday())
    if bucket == "month":
        return d.replace(day=1)
    return d


def timeline(
    w: World, pid: str, start: datetime, end: datetime, bucket: str
) -> list[dict[str, Any]]:
    target = w.survivor(pid).id
    starts: list[date] = []
    d = _bucket(start.date(), bucket)
    while datetime.combine(d, time(0), tzinfo=UTC) < end:
        starts.append(d)
        if bucket == "day":
            d += timedelta(days=1)
        elif bucket == "week":
            d += timedelta(days=7)
        else:
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    counts = dict.fromkeys(starts, 0)
    for o in w.obs.values():
        if o.deleted or not (start <= o.observed_at < end):
            continue
        if target in w.resolved_tags(o):
            counts[_bucket(o.observed_at.date(), bucket)] += 1
    return [
        {"start": datetime.combine(s, time(0), tzinfo=UTC), "frequency": counts[s]} for s in starts
    ]
