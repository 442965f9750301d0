import { useEffect, useState } from "preact/hooks";
import { kvGet, kvSet } from "../db";
import { db, flash, kick, kickSoon, outbox, showError, state } from "../store";
import type { VisitPayload } from "../types";
import { newId } from "../ids";

const CHANNELS = ["in_person", "phone", "web", "app", "chat", "email", "mail", "other"];

export function VisitScreen() {
  const [visit, setVisit] = useState<VisitPayload | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [siteId, setSiteId] = useState("");
  const [channel, setChannel] = useState("in_person");
  const [purpose, setPurpose] = useState("");

  useEffect(() => {
    void (async () => {
      const id = await kvGet<string>(db, "active_visit");
      const item = id ? await outbox.get(id) : undefined;
      setVisit(item ? (item.payload as unknown as VisitPayload) : null);
      setLoaded(true);
    })();
  }, []);

  async function start(e: Event) {
    e.preventDefault();
    const payload: VisitPayload = {
      id: newId(),
      site_id: siteId || null,
      channel,
      started_at: new Date().toISOString(),
      ended_at: null,
      customers_observed: 0,
      purpose: purpose.trim(),
      notes: "",
    };
    try {
      await outbox.add("visit", payload as unknown as Record<string, unknown>);
      await kvSet(db, "active_visit", payload.id);
      setVisit(payload);
      flash("Visit started. New observations belong to it.");
      void kick();
    } catch (err) {
      showError(err);
    }
  }

  async function change(patch: Partial<VisitPayload>) {
    if (!visit) return;
    const next = { ...visit, ...patch };
    setVisit(next);
    try {
      await outbox.edit(visit.id, next as unknown as Record<string, unknown>);
      kickSoon();
    } catch (err) {
      showError(err);
    }
  }

  async function end() {
    if (!visit) return;
    await change({ ended_at: new Date().toISOString() });
    await kvSet(db, "active_visit", null);
    setVisit(null);
    flash("Visit ended.");
    void kick();
  }

  if (!loaded) return <p>Loading…</p>;
  if (!visit) {
    return (
      <form class="card" onSubmit={start}>
        <h1 tabIndex={-1}>Start a visit</h1>
        <label for="site">Site</label>
        <select id="site" required value={siteId} onChange={(e) => setSiteId(e.currentTarget.value)}>
          <option value="">Choose a site…</option>
          {state.catalogue.sites.map((s) => (
            <option value={s.id}>{s.name}</option>
          ))}
        </select>
        <label for="channel">Channel</label>
        <select id="channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
          {CHANNELS.map((c) => (
            <option value={c}>{c.replace("_", " ")}</option>
          ))}
        </select>
        <label for="purpose">Purpose (optional)</label>
        <input id="purpose" type="text" maxLength={1000} value={purpose} onInput={(e) => setPurpose(e.currentTarget.value)} />
        <button type="submit" class="primary big">
          Start visit
        </button>
      </form>
    );
  }
  const site = state.catalogue.sites.find((s) => s.id === visit.site_id);
  const count = visit.customers_observed ?? 0;
  return (
    <section class="card visit">
      <h1 tabIndex={-1}>Visit at {site?.name ?? "a site"}</h1>
      <p>
        Since {new Date(visit.started_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} ·{" "}
        {visit.channel?.replace("_", " ")}
      </p>
      <p class="counter" aria-live="polite">
        <span class="number">{count}</span> customers observed
      </p>
      <button type="button" class="primary huge" onClick={() => void change({ customers_observed: count + 1 })}>
        +1 customer
      </button>
      <button
        type="button"
        class="secondary"
        disabled={count === 0}
        onClick={() => void change({ customers_observed: Math.max(0, count - 1) })}
      >
        −1 (undo)
      </button>
      <button type="button" class="secondary danger" onClick={() => void end()}>
        End visit
      </button>
    </section>
  );
}
