// The outbox: every item the observer creates is saved here first (IndexedDB, so it survives
// reloads, restarts and expired sessions) and sent later — photos first, then one
// POST /api/v1/sync, then PATCHes for items edited after the server confirmed them.
//
// The invariant that keeps resends safe: once a create has left the device its payload is
// frozen (`created_payload`) and every retry sends exactly those bytes again, so the server's
// idempotent create answers "exists" and never 409. Edits made after that point wait in
// `payload` and go out as a PATCH once the create is confirmed.
import type { DB } from "./db";
import type { Problem, SyncResult } from "./types";
import { newId } from "./ids";

export type Kind = "pain_point" | "visit" | "observation" | "attachment";
type Json = Record<string, unknown>;

export interface OutboxItem {
  id: string;
  kind: Kind;
  /** What the observer wants the server to hold (attachments: {name, type, size}). */
  payload: Json;
  /** The photo itself, until the server has it. */
  blob?: Blob | null;
  /** The create as it was first sent; never changes afterwards. */
  created_payload: Json | null;
  /** What the server holds, once confirmed. */
  server_payload: Json | null;
  confirmed: boolean;
  error: Problem | null;
  created_at: string;
  updated_at: string;
  synced_at: string | null;
}

export interface TransportResponse {
  status: number;
  body: unknown;
}

/** Network failures reject; every HTTP answer resolves. */
export interface Transport {
  upload(id: string, blob: Blob, name: string): Promise<TransportResponse>;
  sync(body: { pain_points: Json[]; visits: Json[]; observations: Json[] }): Promise<TransportResponse>;
  patch(kind: "visit" | "observation", id: string, body: Json): Promise<TransportResponse>;
}

export type FlushOutcome = "done" | "paused" | "retry" | "busy";

export interface OutboxStatus {
  waiting: number;
  errors: number;
  paused: boolean;
  lastSyncedAt: string | null;
}

export class QuotaError extends Error {
  constructor() {
    super("This phone is out of storage for Gembalog. Free some space, then save again.");
    this.name = "QuotaError";
  }
}

export const MAX_BATCH = 1000;
const PATCHABLE: ReadonlySet<Kind> = new Set<Kind>(["visit", "observation"]);
const KEEP_SYNCED_MS = 7 * 24 * 3600 * 1000;

export function isPending(item: OutboxItem): boolean {
  if (item.error) return false;
  if (!item.confirmed) return true;
  return PATCHABLE.has(item.kind) && !samePayload(item.payload, item.server_payload);
}

export function samePayload(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Json).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** Exponential back-off with jitter: 2 s, 4 s, 8 s … capped at 5 minutes, each scaled into
 * [50 %, 100 %] at random so many phones regaining signal together do not stampede. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = 2000 * 2 ** Math.min(attempt, 20);
  const capped = Math.min(base, 5 * 60 * 1000);
  return Math.round(capped * (0.5 + random() * 0.5));
}

function isQuota(err: unknown): boolean {
  return err instanceof DOMException && (err.name === "QuotaExceededError" || err.code === 22);
}

function problemOf(res: TransportResponse): Problem {
  const body = res.body as Partial<Problem> | null;
  if (body && typeof body === "object" && "status" in body) return body as Problem;
  return { status: res.status, title: "Error", detail: `The server answered ${res.status}.` };
}

/** 5xx, 408 and 429 are the server's or network's trouble: retry later, unchanged. */
function transient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 0;
}

export class Outbox {
  private listeners = new Set<() => void>();
  private running: Promise<FlushOutcome> | null = null;

  constructor(
    private db: DB,
    private now: () => Date = () => new Date(),
  ) {}

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  private async put(item: OutboxItem): Promise<void> {
    try {
      await this.db.put("outbox", item);
    } catch (err) {
      if (isQuota(err)) throw new QuotaError();
      throw err;
    }
  }

  /** Read-modify-write of one item in one transaction, so a flush never overwrites an edit
   * the observer made while the request was in flight. */
  private async update(id: string, fn: (item: OutboxItem) => void): Promise<OutboxItem | undefined> {
    try {
      const tx = this.db.transaction("outbox", "readwrite");
      const item = await tx.store.get(id);
      if (item) {
        fn(item);
        item.updated_at = this.stamp();
        await tx.store.put(item);
      }
      await tx.done;
      return item;
    } catch (err) {
      if (isQuota(err)) throw new QuotaError();
      throw err;
    }
  }

  async add(kind: Kind, payload: Json, blob?: Blob): Promise<OutboxItem> {
    const id = String(payload.id ?? newId());
    const at = this.stamp();
    const item: OutboxItem = {
      id,
      kind,
      payload: { ...payload, ...(kind === "attachment" ? {} : { id }) },
      blob: blob ?? null,
      created_payload: null,
      server_payload: null,
      confirmed: false,
      error: null,
      created_at: at,
      updated_at: at,
      synced_at: null,
    };
    if (await this.db.get("outbox", id)) throw new Error(`An item with id ${id} is already queued.`);
    await this.put(item);
    this.emit();
    return item;
  }

  /** Change an item the observer created. Before it was ever sent, the queued create changes;
   * afterwards the change waits for the create's confirmation and goes out as a PATCH. */
  async edit(id: string, payload: Json): Promise<OutboxItem> {
    const item = await this.update(id, (it) => {
      it.payload = { ...payload, id: it.id };
      if (it.error) {
        // A create the server refused stored nothing, so a corrected one may go; a 409 means
        // something else holds this id, so the frozen payload stays and the observer must
        // discard or export it.
        if (!it.confirmed && it.error.status !== 409) it.created_payload = null;
        it.error = null;
      }
    });
    if (!item) throw new Error(`Nothing queued with id ${id}.`);
    this.emit();
    return item;
  }

  /** Send a refused item again unchanged (e.g. after the server was fixed or upgraded). */
  async retry(id: string): Promise<void> {
    await this.update(id, (it) => {
      it.error = null;
    });
    this.emit();
  }

  /** Dropping is only ever the observer's explicit choice. */
  async discard(id: string): Promise<void> {
    await this.db.delete("outbox", id);
    this.emit();
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    return this.db.get("outbox", id);
  }

  async all(): Promise<OutboxItem[]> {
    const items = await this.db.getAll("outbox");
    return items.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }

  async status(): Promise<OutboxStatus> {
    const items = await this.db.getAll("outbox");
    return {
      // what the observer counts: observations and visits (new pain points and photos travel with them)
      waiting: items.filter((i) => (i.kind === "observation" || i.kind === "visit") && isPending(i)).length,
      errors: items.filter((i) => i.error).length,
      paused: Boolean(await this.db.get("kv", "outbox_paused")),
      lastSyncedAt: ((await this.db.get("kv", "last_synced_at")) as string | undefined) ?? null,
    };
  }

  async setPaused(paused: boolean): Promise<void> {
    await this.db.put("kv", paused, "outbox_paused");
    this.emit();
  }

  /** Forget synced items older than a week (pending and failed ones are never pruned). */
  async prune(): Promise<number> {
    const limit = this.now().getTime() - KEEP_SYNCED_MS;
    let removed = 0;
    for (const item of await this.db.getAll("outbox")) {
      if (item.confirmed && !isPending(item) && !item.error && Date.parse(item.created_at) < limit) {
        await this.db.delete("outbox", item.id);
        removed += 1;
      }
    }
    return removed;
  }

  /** The pending and failed items as a JSON document (photos inline), a last resort. */
  async exportPending(): Promise<string> {
    const items = (await this.db.getAll("outbox")).filter((i) => isPending(i) || i.error);
    const out = [];
    for (const item of items) {
      const { blob, ...rest } = item;
      out.push({ ...rest, photo_base64: blob ? await blobToBase64(blob) : undefined });
    }
    return JSON.stringify({ exported_at: this.stamp(), items: out }, null, 2);
  }

  /** One flush at a time; concurrent callers share it. */
  flush(transport: Transport): Promise<FlushOutcome> {
    if (!this.running) {
      this.running = this.doFlush(transport).finally(() => {
        this.running = null;
        this.emit();
      });
    }
    return this.running;
  }

  private async pause(): Promise<FlushOutcome> {
    await this.setPaused(true);
    return "paused";
  }

  private async doFlush(transport: Transport): Promise<FlushOutcome> {
    if (await this.db.get("kv", "outbox_paused")) return "paused";
    let items = await this.db.getAll("outbox");

    // 1. Photos, each with its client id (200 and 201 both mean the server has it).
    for (const item of items) {
      if (item.kind !== "attachment" || item.confirmed || item.error || !item.blob) continue;
      const res = await transport.upload(item.id, item.blob, String(item.payload.name ?? "photo.jpg"));
      if (res.status === 401) return this.pause();
      if (res.status === 200 || res.status === 201) {
        await this.update(item.id, (it) => {
          it.confirmed = true;
          it.server_payload = it.payload;
          it.synced_at = this.stamp();
          it.blob = null;
        });
      } else if (transient(res.status)) {
        return "retry";
      } else {
        await this.update(item.id, (it) => {
          it.error = problemOf(res);
        });
      }
      this.emit();
    }

    // 2. Creates, in one sync call: pain points, then visits, then observations.
    items = await this.db.getAll("outbox");
    const photos = new Map(items.filter((i) => i.kind === "attachment").map((i) => [i.id, i]));
    const ready = (item: OutboxItem): boolean => {
      if (item.kind === "attachment" || item.confirmed || item.error) return false;
      if (item.kind !== "observation") return true;
      const ids = ((item.created_payload ?? item.payload).attachment_ids as string[] | undefined) ?? [];
      return ids.every((id) => {
        const photo = photos.get(id);
        return !photo || photo.confirmed; // unknown ids were uploaded long ago
      });
    };
    const order: Kind[] = ["pain_point", "visit", "observation"];
    const batch = items
      .filter(ready)
      .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.created_at < b.created_at ? -1 : 1))
      .slice(0, MAX_BATCH);
    if (batch.length) {
      // Freeze before sending: from here on this id only ever carries these bytes.
      for (const item of batch) {
        const frozen = await this.update(item.id, (it) => {
          it.created_payload ??= structuredClone(it.payload);
        });
        item.created_payload = frozen?.created_payload ?? item.payload;
      }
      const pick = (kind: Kind) => batch.filter((i) => i.kind === kind).map((i) => i.created_payload as Json);
      const inOrder = order.flatMap((k) => batch.filter((i) => i.kind === k));
      const res = await transport.sync({
        pain_points: pick("pain_point"),
        visits: pick("visit"),
        observations: pick("observation"),
      });
      if (res.status === 401) return this.pause();
      if (transient(res.status)) return "retry";
      if (res.status !== 200) {
        const problem = problemOf(res);
        for (const item of inOrder) await this.update(item.id, (it) => void (it.error = problem));
      } else {
        const results = ((res.body as { results?: SyncResult[] }).results ?? []) as SyncResult[];
        for (let i = 0; i < inOrder.length; i++) {
          const item = inOrder[i];
          const result = results[i];
          if (!result || result.kind !== item.kind) continue; // answered nothing for it: resend later
          await this.update(item.id, (it) => {
            if (result.status === "created" || result.status === "exists") {
              it.confirmed = true;
              it.server_payload = it.created_payload;
              it.synced_at = this.stamp();
              it.error = null;
            } else {
              it.error = result.error ?? { status: 422, title: "Rejected", detail: "The server refused this item." };
            }
          });
        }
      }
      this.emit();
    }

    // 3. Edits of items the server already holds.
    items = await this.db.getAll("outbox");
    for (const item of items) {
      if (!item.confirmed || item.error || !PATCHABLE.has(item.kind) || !isPending(item)) continue;
      const body = { ...item.payload };
      delete body.id;
      const res = await transport.patch(item.kind as "visit" | "observation", item.id, body);
      if (res.status === 401) return this.pause();
      if (transient(res.status)) return "retry";
      await this.update(item.id, (it) => {
        if (res.status === 200) {
          // What was sent, not what is there now: an edit made meanwhile stays pending.
          it.server_payload = { ...body, id: it.id };
          it.synced_at = this.stamp();
        } else {
          it.error = problemOf(res);
        }
      });
      this.emit();
    }

    const left = (await this.db.getAll("outbox")).filter(isPending);
    if (!left.length) await this.db.put("kv", this.stamp(), "last_synced_at");
    return left.length ? "retry" : "done";
  }
}

async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

/** When to flush: now (start, `online`, after a save), and after failures with back-off. */
export class Scheduler {
  private attempt = 0;
  private timer: unknown = null;

  constructor(
    private outbox: Outbox,
    private transport: Transport,
    private timers: Timers = {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: Math.random,
    },
    private isOnline: () => boolean = () => typeof navigator === "undefined" || navigator.onLine,
  ) {}

  async kick(): Promise<FlushOutcome> {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.isOnline()) {
      this.schedule();
      return "retry";
    }
    let outcome: FlushOutcome;
    try {
      outcome = await this.outbox.flush(this.transport);
    } catch (err) {
      if (err instanceof QuotaError) throw err;
      outcome = "retry"; // offline, DNS, a dropped connection …
    }
    if (outcome === "retry") this.schedule();
    else this.attempt = 0;
    return outcome;
  }

  /** The delay chosen for the next retry (exposed for tests and the status bar). */
  nextDelay = 0;

  private schedule(): void {
    this.nextDelay = backoffDelay(this.attempt, this.timers.random);
    this.attempt += 1;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.kick();
    }, this.nextDelay);
  }

  stop(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
