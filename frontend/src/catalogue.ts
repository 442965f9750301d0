// The catalogue (journeys with stages, sites, pain points with counts) cached on the device so
// capture works offline; refreshed from the API whenever the app is online.
import { getAll } from "./api";
import { kvGet, kvSet, type DB } from "./db";
import type { Journey, PainPoint, Site } from "./types";

export interface Catalogue {
  journeys: Journey[];
  sites: Site[];
  painPoints: Record<string, PainPoint[]>; // by journey id
  refreshedAt: string | null;
}

export const EMPTY: Catalogue = { journeys: [], sites: [], painPoints: {}, refreshedAt: null };

export async function loadCached(db: DB): Promise<Catalogue> {
  return (await kvGet<Catalogue>(db, "catalogue")) ?? EMPTY;
}

export async function refresh(db: DB, current: Catalogue): Promise<Catalogue> {
  const [journeys, sites] = await Promise.all([
    getAll<Journey>("/api/v1/journeys"),
    getAll<Site>("/api/v1/sites"),
  ]);
  const active = journeys.filter((j) => !j.archived);
  for (const j of active) j.stages.sort((a, b) => a.position - b.position);
  const painPoints: Record<string, PainPoint[]> = {};
  for (const j of active) {
    const fetched = await getAll<PainPoint>(`/api/v1/pain-points?journey_id=${j.id}&status=open`);
    // pain points created on this device and not yet known to the server stay visible
    const local = (current.painPoints[j.id] ?? []).filter((p) => p.pending && !fetched.some((f) => f.id === p.id));
    painPoints[j.id] = [...fetched, ...local];
  }
  const next: Catalogue = {
    journeys: active,
    sites: sites.filter((s) => !s.archived),
    painPoints,
    refreshedAt: new Date().toISOString(),
  };
  await kvSet(db, "catalogue", next);
  return next;
}

export async function addLocalPainPoint(db: DB, cat: Catalogue, pp: PainPoint): Promise<Catalogue> {
  const next = { ...cat, painPoints: { ...cat.painPoints, [pp.journey_id]: [...(cat.painPoints[pp.journey_id] ?? []), pp] } };
  await kvSet(db, "catalogue", next);
  return next;
}

/** A stage's pain points, most observed first. */
export function stagePainPoints(cat: Catalogue, journeyId: string, stageId: string): PainPoint[] {
  return (cat.painPoints[journeyId] ?? [])
    .filter((p) => p.stage_id === stageId)
    .sort((a, b) => b.observation_count - a.observation_count || a.title.localeCompare(b.title));
}
