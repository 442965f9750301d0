import { useEffect, useState } from "preact/hooks";
import { getJson } from "../api";
import { state } from "../store";

interface Item {
  rank: number;
  pain_point: { id: string; title: string; stage: { name: string } };
  frequency: number;
  share: number;
  avg_severity: number | null;
}

/** Read-only: the ranked backlog for one journey (the manager workspace comes later). */
export function Backlog() {
  const journeys = state.catalogue.journeys;
  const [journeyId, setJourneyId] = useState(localStorage.getItem("gembalog.journey") ?? journeys[0]?.id ?? "");
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = `journey_id=${encodeURIComponent(journeyId)}&limit=50`;
  useEffect(() => {
    if (!journeyId) return;
    setItems(null);
    setError(null);
    getJson<{ items: Item[] }>(`/api/v1/backlog?${query}`).then(
      (b) => setItems(b.items),
      (e: Error) => setError(navigator.onLine ? e.message : "The backlog needs a connection."),
    );
  }, [journeyId]);
  return (
    <section>
      <h1 tabIndex={-1}>Backlog</h1>
      <label for="bl-journey">Journey</label>
      <select id="bl-journey" value={journeyId} onChange={(e) => setJourneyId(e.currentTarget.value)}>
        {journeys.map((j) => (
          <option value={j.id}>{j.name}</option>
        ))}
      </select>
      <p class="hint">
        Last 90 days, most frequent first. <a href={`/api/v1/backlog?${query}&format=csv`}>Download CSV</a>
      </p>
      {error && <p role="alert" class="error-text">{error}</p>}
      {!items && !error && <p>Loading…</p>}
      {items && !items.length && <p>No pain points observed in this window.</p>}
      {items && items.length > 0 && (
        <table class="backlog">
          <caption class="visually-hidden">Pain points ranked by frequency</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Pain point</th>
              <th scope="col">Seen</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr>
                <td>{i.rank}</td>
                <td>
                  {i.pain_point.title}
                  <br />
                  <small>{i.pain_point.stage.name}</small>
                </td>
                <td>{i.frequency}</td>
                <td>{Math.round(i.share * 100)}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
