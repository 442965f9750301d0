// App-wide state: the signed-in user, the cached catalogue, the outbox and its status.
import { HttpError, request, setCsrf } from "./api";
import { EMPTY, loadCached, refresh, type Catalogue } from "./catalogue";
import { kvGet, kvSet, openDatabase, type DB } from "./db";
import { Outbox, QuotaError, Scheduler, type OutboxStatus } from "./outbox";
import { transport } from "./api";
import type { User } from "./types";

export interface State {
  ready: boolean;
  user: User | null;
  /** The session expired or was revoked: the outbox waits for a sign-in. */
  authRequired: boolean;
  online: boolean;
  catalogue: Catalogue;
  status: OutboxStatus;
  message: string | null;
  error: string | null;
}

export const state: State = {
  ready: false,
  user: null,
  authRequired: false,
  online: typeof navigator === "undefined" ? true : navigator.onLine,
  catalogue: EMPTY,
  status: { waiting: 0, errors: 0, paused: false, lastSyncedAt: null },
  message: null,
  error: null,
};

const listeners = new Set<() => void>();
export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
export function update(patch: Partial<State>): void {
  Object.assign(state, patch);
  for (const fn of listeners) fn();
}

export let db: DB;
export let outbox: Outbox;
let scheduler: Scheduler;

async function refreshStatus(): Promise<void> {
  const status = await outbox.status();
  update({ status, authRequired: status.paused });
}

export function flash(message: string): void {
  update({ message, error: null });
  setTimeout(() => state.message === message && update({ message: null }), 4000);
}

export function showError(err: unknown): void {
  const text = err instanceof QuotaError ? err.message : err instanceof Error ? err.message : String(err);
  update({ error: text, message: null });
}

export async function init(): Promise<void> {
  db = await openDatabase();
  outbox = new Outbox(db);
  scheduler = new Scheduler(outbox, transport);
  outbox.subscribe(() => void refreshStatus());
  setCsrf((await kvGet<string>(db, "csrf")) ?? null);
  const user = (await kvGet<User>(db, "user")) ?? null;
  update({ user, catalogue: await loadCached(db) });
  await refreshStatus();
  await outbox.prune();
  update({ ready: true });

  void navigator.storage?.persist?.().catch(() => undefined);
  window.addEventListener("online", () => {
    update({ online: true });
    void kick();
    void refreshCatalogue();
  });
  window.addEventListener("offline", () => update({ online: false }));
  navigator.serviceWorker?.addEventListener("message", (e: MessageEvent) => {
    if ((e.data as { type?: string })?.type === "flush") void kick();
  });

  if (navigator.onLine) {
    const me = await request("GET", "/api/v1/me").catch(() => null);
    if (me?.status === 200) {
      await kvSet(db, "user", me.body);
      update({ user: me.body as User });
      void refreshCatalogue();
    } else if (me?.status === 401) {
      if (user) await outbox.setPaused(true);
      else update({ user: null });
    }
  }
  void kick();
}

export async function kick(): Promise<void> {
  try {
    const outcome = await scheduler.kick();
    if (outcome === "retry") void registerBackgroundSync();
  } catch (err) {
    showError(err);
  }
  await refreshStatus();
}

let soonTimer: ReturnType<typeof setTimeout> | null = null;
/** Flush a little later (a run of quick taps becomes one request). */
export function kickSoon(ms = 1500): void {
  if (soonTimer) clearTimeout(soonTimer);
  soonTimer = setTimeout(() => void kick(), ms);
}

async function registerBackgroundSync(): Promise<void> {
  try {
    const reg = (await navigator.serviceWorker?.ready) as
      | (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
      | undefined;
    await reg?.sync?.register("gembalog-outbox");
  } catch {
    // not supported or not allowed: the periodic retry covers it
  }
}

export async function refreshCatalogue(): Promise<void> {
  if (!navigator.onLine || state.authRequired || !state.user) return;
  try {
    update({ catalogue: await refresh(db, state.catalogue) });
  } catch (err) {
    // keep the cached copy; it is refreshed again when the signal returns
    if (err instanceof HttpError && err.status === 401) await outbox.setPaused(true);
  }
}

export async function signIn(email: string, password: string): Promise<string | null> {
  const res = await request("POST", "/api/v1/auth/login", { email, password }).catch(() => null);
  if (!res) return "No connection. Your saved items stay on this phone; try again with signal.";
  if (res.status !== 200) {
    const body = res.body as { detail?: string } | null;
    return res.status === 401 ? "Email or password is wrong." : body?.detail ?? `Sign-in failed (${res.status}).`;
  }
  const { user, csrf_token } = res.body as { user: User; csrf_token: string };
  setCsrf(csrf_token);
  await kvSet(db, "csrf", csrf_token);
  await kvSet(db, "user", user);
  await outbox.setPaused(false);
  update({ user, authRequired: false });
  void refreshCatalogue();
  void kick();
  return null;
}

export async function signOut(): Promise<void> {
  await request("POST", "/api/v1/auth/logout").catch(() => null);
  setCsrf(null);
  await kvSet(db, "csrf", null);
  update({ user: null });
}
