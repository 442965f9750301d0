// The API's shapes (SPEC §5) as the app uses them.
export interface User { id: string; email: string; name: string; role: "observer" | "manager" | "admin" }
export interface Stage { id: string; journey_id: string; name: string; description: string; position: number }
export interface Journey { id: string; name: string; description: string; archived: boolean; stages: Stage[] }
export interface Site { id: string; name: string; kind: string; address: string; archived: boolean }
export interface PainPoint {
  id: string; journey_id: string; stage_id: string; title: string; description?: string;
  layer?: string | null; status?: string; observation_count: number; pending?: boolean;
}
export interface Tag { pain_point_id: string; severity: number }
export interface Location { lat: number; lon: number; accuracy_m?: number | null }
export interface ObservationPayload {
  id: string; journey_id: string; visit_id: string | null; site_id: string | null;
  channel: string | null; observed_at: string; note: string; customer_goal: string;
  customer_quote: string; customer_minutes_lost: number | null; pain_points: Tag[];
  location: Location | null; attachment_ids: string[];
}
export interface VisitPayload {
  id: string; site_id: string | null; channel: string | null; started_at: string;
  ended_at: string | null; customers_observed: number | null; purpose: string; notes: string;
}
export interface PainPointPayload { id: string; title: string; stage_id: string; description?: string }
export interface Problem { type?: string; title?: string; status: number; detail?: string; errors?: { field: string; message: string }[] }
export interface SyncResult { kind: string; id: string | null; status: "created" | "exists" | "error"; error?: Problem | null }
export interface Page<T> { items: T[]; next_cursor: string | null }
