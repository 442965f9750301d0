import { useEffect, useState } from "preact/hooks";
import { isPending, type OutboxItem } from "../outbox";
import { navigate } from "../nav";
import { kick, outbox, showError, state, subscribe } from "../store";
import type { ObservationPayload, Problem } from "../types";

const EDIT_WINDOW_MS = 24 * 3600 * 1000;

function problemText(p: Problem): string {
  const fields = (p.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
  return [p.detail ?? p.title, fields].filter(Boolean).join(" — ");
}

function stateLabel(item: OutboxItem): { text: string; cls: string } {
  if (item.error) return { text: "Needs fixing", cls: "error" };
  if (isPending(item)) return { text: "Waiting", cls: "pending" };
  return { text: "Synced", cls: "ok" };
}

export function Mine() {
  const [items, setItems] = useState<OutboxItem[]>([]);
  const load = () => void outbox.all().then(setItems);
  useEffect(() => {
    load();
    const off1 = outbox.subscribe(load);
    const off2 = subscribe(load);
    return () => {
      off1();
      off2();
    };
  }, []);

  async function exportPending() {
    try {
      const json = await outbox.exportPending();
      const url = URL.createObjectURL(new Blob([json], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `gembalog-pending-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      showError(err);
    }
  }

  const titles = new Map(Object.values(state.catalogue.painPoints).flat().map((p) => [p.id, p.title]));
  const observations = items.filter((i) => i.kind === "observation");
  const others = items.filter((i) => i.kind !== "observation" && i.error);
  const now = Date.now();
  return (
    <section>
      <h1 tabIndex={-1}>My observations</h1>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => void kick()} disabled={!state.online}>
          Send now
        </button>
        <button type="button" class="secondary" onClick={() => void exportPending()}>
          Export pending items
        </button>
      </div>
      {others.map((item) => (
        <article class="item error">
          <p>
            <b>{item.kind.replace("_", " ")}</b> was refused: {problemText(item.error!)}
          </p>
          <div class="actions">
            <button type="button" class="secondary" onClick={() => void outbox.retry(item.id).then(kick)}>
              Retry
            </button>
            <button type="button" class="secondary danger" onClick={() => confirm("Discard this item?") && void outbox.discard(item.id)}>
              Discard
            </button>
          </div>
        </article>
      ))}
      {!observations.length && <p>Nothing logged on this phone yet.</p>}
      <ul class="items">
        {observations.map((item) => {
          const p = item.payload as unknown as ObservationPayload;
          const label = stateLabel(item);
          const editable = now - Date.parse(item.created_at) < EDIT_WINDOW_MS;
          const what = p.pain_points.map((t) => `${titles.get(t.pain_point_id) ?? "pain point"} · severity ${t.severity}`).join(", ");
          return (
            <li class={`item ${label.cls}`}>
              <div class="item-head">
                <time dateTime={p.observed_at}>
                  {new Date(p.observed_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}
                </time>
                <span class={`badge ${label.cls}`}>{label.text}</span>
              </div>
              {what && <p class="what">{what}</p>}
              {p.note && <p>{p.note}</p>}
              {p.attachment_ids.length > 0 && <p class="hint">{p.attachment_ids.length} photo(s)</p>}
              {item.error && (
                <p class="error-text" role="alert">
                  {problemText(item.error)}
                </p>
              )}
              <div class="actions">
                {editable && (
                  <button type="button" class="secondary" onClick={() => navigate(`/?edit=${item.id}`)} aria-label={`Edit observation from ${new Date(p.observed_at).toLocaleTimeString()}`}>
                    Edit
                  </button>
                )}
                {item.error && (
                  <button type="button" class="secondary danger" onClick={() => confirm("Discard this observation?") && void outbox.discard(item.id)}>
                    Discard
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
