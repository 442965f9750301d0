// @vitest-environment node
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type DB } from "../src/db";
import { backoffDelay, Outbox, QuotaError, Scheduler, type Transport, type TransportResponse } from "../src/outbox";

type Call = { op: "upload" | "sync" | "patch"; id?: string; body?: unknown };

/** A fake server with idempotent creates keyed by id, recording every request. */
class FakeServer implements Transport {
  calls: Call[] = [];
  stored = new Map<string, string>();
  next: Array<number | "network"> = []; // forced answers for the next requests
  patched = new Map<string, unknown>();
  uploads = new Set<string>();
  onSync?: () => Promise<void>;

  private forced(): TransportResponse | null {
    const f = this.next.shift();
    if (f === undefined) return null;
    if (f === "network") throw new TypeError("Failed to fetch");
    return { status: f, body: { status: f, title: "x", detail: `forced ${f}` } };
  }

  async upload(id: string): Promise<TransportResponse> {
    this.calls.push({ op: "upload", id });
    const f = this.forced();
    if (f) return f;
    const again = this.uploads.has(id);
    this.uploads.add(id);
    return { status: again ? 200 : 201, body: { id } };
  }

  async sync(body: Record<string, Record<string, unknown>[]>): Promise<TransportResponse> {
    this.calls.push({ op: "sync", body: structuredClone(body) });
    const f = this.forced();
    if (f) return f;
    if (this.onSync) await this.onSync();
    const results = [];
    for (const [key, kind] of [["pain_points", "pain_point"], ["visits", "visit"], ["observations", "observation"]] as const) {
      for (const item of body[key]) {
        const id = String(item.id);
        const json = JSON.stringify(item);
        const before = this.stored.get(id);
        if (item.note === "bad") {
          results.push({ kind, id, status: "error", error: { status: 422, title: "Invalid", detail: "bad note", errors: [{ field: "note", message: "bad" }] } });
        } else if (before === undefined) {
          this.stored.set(id, json);
          results.push({ kind, id, status: "created" });
        } else if (before === json) {
          results.push({ kind, id, status: "exists" });
        } else {
          results.push({ kind, id, status: "error", error: { status: 409, title: "Conflict", detail: "different content" } });
        }
      }
    }
    return { status: 200, body: { results } };
  }

  async patch(_kind: string, id: string, body: Record<string, unknown>): Promise<TransportResponse> {
    this.calls.push({ op: "patch", id, body });
    const f = this.forced();
    if (f) return f;
    this.patched.set(id, body);
    return { status: 200, body: { id, ...body } };
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}

let db: DB;
let outbox: Outbox;
let server: FakeServer;

function obs(extra: Record<string, unknown> = {}) {
  return { journey_id: "j1", observed_at: "2026-11-20T10:00:00Z", note: "queue too long", pain_points: [], attachment_ids: [], ...extra };
}

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory(); // a fresh, empty IndexedDB for every test
  db = await openDatabase();
  outbox = new Outbox(db);
  server = new FakeServer();
});

describe("Outbox", () => {
  it("gives every item a time-ordered client UUID and keeps it across a reopen (reload/restart)", async () => {
    const item = await outbox.add("observation", obs());
    const later = await outbox.add("visit", { started_at: "2026-11-20T09:00:00Z" });
    expect(item.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(later.id > item.id).toBe(true);
    await outbox.discard(later.id);
    expect(item.payload.id).toBe(item.id);
    db.close();
    const again = new Outbox(await openDatabase());
    expect((await again.all()).map((i) => i.id)).toEqual([item.id]);
    expect((await again.status()).waiting).toBe(1);
  });

  it("uploads photos first, then sends one sync in kind order, then reports all synced", async () => {
    const photo = await outbox.add("attachment", { name: "p.jpg" }, new Blob(["jpeg"]));
    await outbox.add("observation", obs({ attachment_ids: [photo.id] }));
    await outbox.add("pain_point", { title: "New one", stage_id: "s1" });
    await outbox.add("visit", { started_at: "2026-11-20T09:00:00Z" });
    expect(await outbox.flush(server)).toBe("done");
    expect(server.ops()).toEqual(["upload", "sync"]);
    const body = server.calls[1].body as Record<string, unknown[]>;
    expect([body.pain_points.length, body.visits.length, body.observations.length]).toEqual([1, 1, 1]);
    const status = await outbox.status();
    expect(status.waiting).toBe(0);
    expect(status.lastSyncedAt).not.toBeNull();
    expect((await outbox.get(photo.id))?.blob).toBeNull(); // the photo leaves the phone once stored
  });

  it("keeps items through network failures and resends the identical payload", async () => {
    await outbox.add("observation", obs());
    server.next = ["network"];
    await expect(outbox.flush(server)).rejects.toThrow();
    expect((await outbox.status()).waiting).toBe(1);
    server.next = [503];
    expect(await outbox.flush(server)).toBe("retry");
    expect(await outbox.flush(server)).toBe("done");
    const sent = server.calls.filter((c) => c.op === "sync").map((c) => JSON.stringify(c.body));
    expect(new Set(sent).size).toBe(1);
    expect(server.stored.size).toBe(1);
  });

  it("edits a queued item in place before it is sent", async () => {
    const item = await outbox.add("observation", obs());
    await outbox.edit(item.id, obs({ note: "edited" }));
    await outbox.flush(server);
    expect(JSON.parse(server.stored.get(item.id)!).note).toBe("edited");
    expect(server.ops()).toEqual(["sync"]);
  });

  it("never sends two payloads under one id: an edit during an in-flight create becomes a PATCH", async () => {
    const item = await outbox.add("observation", obs());
    server.onSync = async () => {
      server.onSync = undefined;
      await outbox.edit(item.id, obs({ note: "edited while sending" }));
    };
    // the create goes out as first queued; the edit follows as a PATCH once it is confirmed
    expect(await outbox.flush(server)).toBe("done");
    expect(JSON.parse(server.stored.get(item.id)!).note).toBe("queue too long");
    expect(server.ops()).toEqual(["sync", "patch"]);
    expect((server.patched.get(item.id) as { note: string }).note).toBe("edited while sending");
    expect(server.calls[1].body).not.toHaveProperty("id");
  });

  it("keeps the frozen create after a lost answer, even if edited meanwhile", async () => {
    const item = await outbox.add("observation", obs());
    // the server stores it but the answer is lost
    server.onSync = async () => {
      server.onSync = undefined;
      throw new TypeError("connection reset");
    };
    await expect(outbox.flush(server)).rejects.toThrow();
    await outbox.edit(item.id, obs({ note: "changed after the lost answer" }));
    expect(await outbox.flush(server)).toBe("done");
    const syncs = server.calls.filter((c) => c.op === "sync");
    expect(syncs.map((c) => (c.body as { observations: { note: string }[] }).observations[0].note)).toEqual([
      "queue too long",
      "queue too long",
    ]);
    expect(server.ops().at(-1)).toBe("patch");
  });

  it("edits of synced items go out as PATCH", async () => {
    const item = await outbox.add("observation", obs());
    await outbox.flush(server);
    await outbox.edit(item.id, obs({ note: "later fix" }));
    expect((await outbox.status()).waiting).toBe(1);
    await outbox.flush(server);
    expect(server.ops()).toEqual(["sync", "patch"]);
    expect((await outbox.status()).waiting).toBe(0);
  });

  it("a 401 pauses the outbox and drops nothing; resuming sends it", async () => {
    await outbox.add("observation", obs());
    server.next = [401];
    expect(await outbox.flush(server)).toBe("paused");
    expect((await outbox.status()).paused).toBe(true);
    expect(await outbox.flush(server)).toBe("paused");
    expect(server.calls).toHaveLength(1);
    await outbox.setPaused(false);
    expect(await outbox.flush(server)).toBe("done");
    expect(server.stored.size).toBe(1);
  });

  it("shows rejected items to fix and never drops them; a fixed one is sent", async () => {
    const good = await outbox.add("observation", obs());
    const bad = await outbox.add("observation", obs({ note: "bad" }));
    expect(await outbox.flush(server)).toBe("done");
    const item = await outbox.get(bad.id);
    expect(item?.error?.detail).toBe("bad note");
    expect((await outbox.status()).errors).toBe(1);
    expect(server.stored.has(good.id)).toBe(true);
    await outbox.flush(server); // not resent while it waits for a fix
    expect(server.calls.filter((c) => c.op === "sync")).toHaveLength(1);
    await outbox.edit(bad.id, obs({ note: "fixed" }));
    await outbox.flush(server);
    expect(JSON.parse(server.stored.get(bad.id)!).note).toBe("fixed");
    expect((await outbox.status()).errors).toBe(0);
  });

  it("an observation waits for its photo; a refused photo is shown, not dropped", async () => {
    const photo = await outbox.add("attachment", { name: "p.jpg" }, new Blob(["x"]));
    const o = await outbox.add("observation", obs({ attachment_ids: [photo.id] }));
    server.next = [415];
    await outbox.flush(server);
    expect((await outbox.get(photo.id))?.error?.status).toBe(415);
    expect(server.ops()).toEqual(["upload"]);
    expect((await outbox.get(o.id))?.confirmed).toBe(false);
    await outbox.retry(photo.id);
    expect(await outbox.flush(server)).toBe("done");
    expect(server.ops()).toEqual(["upload", "upload", "sync"]);
  });

  it("accepts 200 for an attachment the server already had", async () => {
    const photo = await outbox.add("attachment", { name: "p.jpg" }, new Blob(["x"]));
    server.uploads.add(photo.id);
    expect(await outbox.flush(server)).toBe("done");
    expect((await outbox.get(photo.id))?.confirmed).toBe(true);
  });

  it("runs one flush at a time", async () => {
    await outbox.add("observation", obs());
    const [a, b] = await Promise.all([outbox.flush(server), outbox.flush(server)]);
    expect([a, b]).toEqual(["done", "done"]);
    expect(server.ops()).toEqual(["sync"]);
  });

  it("exports pending and failed items with photos inline", async () => {
    await outbox.add("attachment", { name: "p.jpg" }, new Blob(["jpeg"]));
    await outbox.add("observation", obs());
    const doc = JSON.parse(await outbox.exportPending());
    expect(doc.items).toHaveLength(2);
    expect(doc.items.find((i: { kind: string }) => i.kind === "attachment").photo_base64).toBe(btoa("jpeg"));
  });

  it("turns a full disk into a QuotaError the app can show", async () => {
    const broken = new Outbox({
      get: async () => undefined,
      put: async () => {
        throw new DOMException("full", "QuotaExceededError");
      },
    } as unknown as DB);
    await expect(broken.add("observation", obs())).rejects.toBeInstanceOf(QuotaError);
  });

  it("prunes only synced items older than a week", async () => {
    let now = new Date("2026-11-01T00:00:00Z");
    const clocked = new Outbox(db, () => now);
    await clocked.add("observation", obs());
    const pending = await clocked.add("observation", obs({ note: "bad" }));
    await clocked.flush(server);
    now = new Date("2026-11-20T00:00:00Z");
    expect(await clocked.prune()).toBe(1);
    expect((await clocked.all()).map((i) => i.id)).toEqual([pending.id]);
  });
});

describe("Scheduler", () => {
  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(0, () => 0)).toBe(1000);
    expect(backoffDelay(0, () => 1)).toBe(2000);
    expect(backoffDelay(3, () => 1)).toBe(16000);
    expect(backoffDelay(30, () => 1)).toBe(300000);
    expect(backoffDelay(30, () => 0)).toBe(150000);
  });

  it("retries after failures with growing delays and resets after success", async () => {
    await outbox.add("observation", obs());
    const timers: { fn: () => void; ms: number }[] = [];
    const scheduler = new Scheduler(
      outbox,
      server,
      { setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined, random: () => 1 },
      () => true,
    );
    server.next = ["network", 500];
    expect(await scheduler.kick()).toBe("retry");
    expect(await scheduler.kick()).toBe("retry");
    expect(timers.map((t) => t.ms)).toEqual([2000, 4000]);
    expect(await scheduler.kick()).toBe("done");
    expect(server.stored.size).toBe(1);
  });

  it("does not try while offline but schedules a retry", async () => {
    await outbox.add("observation", obs());
    const timers: number[] = [];
    const scheduler = new Scheduler(
      outbox,
      server,
      { setTimeout: (_fn, ms) => timers.push(ms), clearTimeout: () => undefined, random: () => 0.5 },
      () => false,
    );
    expect(await scheduler.kick()).toBe("retry");
    expect(server.calls).toHaveLength(0);
    expect(timers).toHaveLength(1);
  });
});
