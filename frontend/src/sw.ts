// The service worker: precaches the app shell (so the app opens with no signal), serves
// index.html for app routes but never for the API or docs, and flushes the outbox on
// Background Sync where the browser has it.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { setCsrf, transport } from "./api";
import { kvGet, openDatabase } from "./db";
import { Outbox } from "./outbox";

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SyncEvent extends ExtendableEvent {
  tag: string;
}
declare global {
  // replaced by the list of files to precache at build time
  var __WB_MANIFEST: Array<string | { url: string; revision: string | null }>;
}
interface WorkerSelf {
  skipWaiting(): Promise<void>;
  clients: {
    claim(): Promise<void>;
    matchAll(o: { type: string }): Promise<Array<{ postMessage(m: unknown): void }>>;
  };
  addEventListener(type: string, fn: (e: ExtendableEvent) => void): void;
}
const sw = self as unknown as WorkerSelf;

export const SYNC_TAG = "gembalog-outbox";

sw.addEventListener("install", () => void sw.skipWaiting());
sw.addEventListener("activate", (e) => e.waitUntil(sw.clients.claim()));

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("index.html"), {
    denylist: [/^\/api(\/|$)/, /^\/docs/, /^\/redoc/, /^\/openapi\.json$/, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/],
  }),
);

async function flushFromWorker(): Promise<void> {
  const windows = await sw.clients.matchAll({ type: "window" });
  if (windows.length) {
    // An open page owns the outbox; let it flush (it shows the result).
    for (const w of windows) w.postMessage({ type: "flush" });
    return;
  }
  const db = await openDatabase();
  setCsrf((await kvGet<string>(db, "csrf")) ?? null);
  const outcome = await new Outbox(db).flush(transport);
  // Rejecting asks the browser to try the sync again later.
  if (outcome === "retry") throw new Error("outbox not empty yet");
}

sw.addEventListener("sync", (e) => {
  if ((e as SyncEvent).tag === SYNC_TAG) e.waitUntil(flushFromWorker());
});
