// IndexedDB: the outbox (every item the observer created or edited) and a key-value store
// for the cached catalogue, the session's CSRF token and small preferences.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { OutboxItem } from "./outbox";

export interface GembalogDB extends DBSchema {
  outbox: { key: string; value: OutboxItem; indexes: { by_kind: string } };
  kv: { key: string; value: unknown };
}

export type DB = IDBPDatabase<GembalogDB>;

export const DB_NAME = "gembalog";

export function openDatabase(name = DB_NAME): Promise<DB> {
  return openDB<GembalogDB>(name, 1, {
    upgrade(db) {
      const outbox = db.createObjectStore("outbox", { keyPath: "id" });
      outbox.createIndex("by_kind", "kind");
      db.createObjectStore("kv");
    },
  });
}

export async function kvGet<T>(db: DB, key: string): Promise<T | undefined> {
  return (await db.get("kv", key)) as T | undefined;
}

export async function kvSet(db: DB, key: string, value: unknown): Promise<void> {
  await db.put("kv", value, key);
}
