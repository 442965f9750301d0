// The app is a client of the public API like any other: cookie session + X-CSRF-Token.
import type { Transport, TransportResponse } from "./outbox";
import type { Page } from "./types";

let csrf: string | null = null;

export function setCsrf(token: string | null): void {
  csrf = token;
}

export class HttpError extends Error {
  constructor(
    public status: number,
    public body: unknown,
  ) {
    super((body as { detail?: string } | null)?.detail ?? `The server answered ${status}.`);
  }
}

async function parse(res: Response): Promise<unknown> {
  const type = res.headers.get("content-type") ?? "";
  if (res.status === 204) return null;
  if (type.includes("json")) return res.json().catch(() => null);
  return res.text();
}

export async function request(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<TransportResponse> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (method !== "GET" && method !== "HEAD" && csrf) headers.set("X-CSRF-Token", csrf);
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers.set("Content-Type", "application/json");
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { ...init, method, headers, body: payload, credentials: "same-origin" });
  return { status: res.status, body: await parse(res) };
}

/** GET that throws on anything but 2xx. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await request("GET", path);
  if (res.status < 200 || res.status >= 300) throw new HttpError(res.status, res.body);
  return res.body as T;
}

/** Every page of a list (bounded, in case a server misbehaves). */
export async function getAll<T>(path: string, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page: Page<T> = await getJson<Page<T>>(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const transport: Transport = {
  upload(id, blob, name) {
    const form = new FormData();
    form.append("id", id);
    form.append("file", blob, name);
    return request("POST", "/api/v1/attachments", form);
  },
  sync(body) {
    return request("POST", "/api/v1/sync", body);
  },
  patch(kind, id, body) {
    return request("PATCH", `/api/v1/${kind === "visit" ? "visits" : "observations"}/${id}`, body);
  },
};
