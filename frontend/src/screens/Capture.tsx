import { useEffect, useMemo, useState } from "preact/hooks";
import { addLocalPainPoint, stagePainPoints } from "../catalogue";
import { search } from "../fuzzy";
import { downscale } from "../image";
import { kvGet } from "../db";
import { navigate } from "../nav";
import { db, flash, kick, outbox, showError, state, update } from "../store";
import type { Location, ObservationPayload, PainPoint, VisitPayload } from "../types";
import { newId } from "../ids";

export const SEVERITIES: [number, string][] = [
  [1, "Minor"],
  [2, "Friction"],
  [3, "Real cost"],
  [4, "Failed"],
  [5, "Gave up"],
];
const JOURNEY_KEY = "gembalog.journey";
const SHOWN = 8;

interface Photo {
  id: string;
  url: string;
}

export function Capture({ editId }: { editId: string | null }) {
  const cat = state.catalogue;
  const [journeyId, setJourneyId] = useState<string>(() => localStorage.getItem(JOURNEY_KEY) ?? "");
  const journey = cat.journeys.find((j) => j.id === journeyId) ?? (cat.journeys.length === 1 ? cat.journeys[0] : undefined);
  const [stageId, setStageId] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [showAll, setShowAll] = useState(false);
  const [tags, setTags] = useState<Record<string, number>>({});
  const [minutes, setMinutes] = useState("");
  const [note, setNote] = useState("");
  const [goal, setGoal] = useState("");
  const [quote, setQuote] = useState("");
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [keptPhotos, setKeptPhotos] = useState<string[]>([]);
  const [locOn, setLocOn] = useState(false);
  const [location, setLocation] = useState<Location | null>(null);
  const [locMsg, setLocMsg] = useState("");
  const [observedAt, setObservedAt] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);

  // Editing: load the queued or sent item into the form.
  useEffect(() => {
    if (!editId) return;
    void outbox.get(editId).then((item) => {
      if (!item) return;
      const p = item.payload as unknown as ObservationPayload;
      setJourneyId(p.journey_id);
      const first = p.pain_points[0] && (cat.painPoints[p.journey_id] ?? []).find((x) => x.id === p.pain_points[0].pain_point_id);
      setStageId(first?.stage_id ?? null);
      setTags(Object.fromEntries(p.pain_points.map((t) => [t.pain_point_id, t.severity])));
      setMinutes(p.customer_minutes_lost == null ? "" : String(p.customer_minutes_lost));
      setNote(p.note);
      setGoal(p.customer_goal);
      setQuote(p.customer_quote);
      setKeptPhotos(p.attachment_ids);
      setLocation(p.location);
      setLocOn(Boolean(p.location));
      setObservedAt(p.observed_at);
    });
  }, [editId]);

  const all = journey ? cat.painPoints[journey.id] ?? [] : [];
  const stagePPs = useMemo(
    () => (journey && stageId ? stagePainPoints(cat, journey.id, stageId) : []),
    [cat, journey?.id, stageId],
  );
  const matches = search(stagePPs, query, (p) => p.title);
  const visible = showAll || query ? matches : matches.slice(0, SHOWN);
  const exact = stagePPs.some((p) => p.title.trim().toLowerCase() === query.trim().toLowerCase());

  function chooseJourney(id: string) {
    setJourneyId(id);
    localStorage.setItem(JOURNEY_KEY, id);
    setStageId(null);
    setTags({});
  }

  function toggle(pp: PainPoint) {
    setTags((t) => {
      const next = { ...t };
      if (pp.id in next) delete next[pp.id];
      else next[pp.id] = 3;
      return next;
    });
  }

  async function addPainPoint() {
    if (!journey || !stageId || !query.trim()) return;
    const id = newId();
    try {
      await outbox.add("pain_point", { id, title: query.trim(), stage_id: stageId });
      const pp: PainPoint = { id, journey_id: journey.id, stage_id: stageId, title: query.trim(), observation_count: 0, pending: true };
      update({ catalogue: await addLocalPainPoint(db, state.catalogue, pp) });
      setTags((t) => ({ ...t, [id]: 3 }));
      setQuery("");
    } catch (err) {
      showError(err);
    }
  }

  async function onPhoto(file: File | undefined) {
    if (!file) return;
    try {
      const blob = await downscale(file);
      const item = await outbox.add("attachment", { name: "photo.jpg", type: "image/jpeg", size: blob.size }, blob);
      setPhotos((p) => [...p, { id: item.id, url: URL.createObjectURL(blob) }]);
    } catch (err) {
      showError(err);
    }
  }

  function toggleLocation(on: boolean) {
    setLocOn(on);
    if (!on) {
      setLocation(null);
      setLocMsg("");
      return;
    }
    if (!navigator.geolocation) {
      setLocMsg("This device cannot share its location.");
      return;
    }
    setLocMsg("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setLocation({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: Math.min(pos.coords.accuracy, 100000) });
        setLocMsg(`Location added (±${Math.round(pos.coords.accuracy)} m).`);
      },
      () => {
        setLocMsg("Location is not available; the observation is saved without it.");
        setLocOn(false);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }

  function reset() {
    setTags({});
    setMinutes("");
    setNote("");
    setGoal("");
    setQuote("");
    setPhotos([]);
    setKeptPhotos([]);
    setQuery("");
    setObservedAt(null);
  }

  async function save(e: Event) {
    e.preventDefault();
    setFormError(null);
    if (!journey) return setFormError("Choose a journey first.");
    const pain_points = Object.entries(tags).map(([pain_point_id, severity]) => ({ pain_point_id, severity }));
    if (!note.trim() && !pain_points.length) return setFormError("Pick a pain point or write a note.");
    const mins = minutes.trim() === "" ? null : Number(minutes);
    if (mins !== null && (!Number.isInteger(mins) || mins < 0 || mins > 10000))
      return setFormError("Minutes lost must be a whole number from 0 to 10000.");
    setBusy(true);
    try {
      const visitId = await kvGet<string>(db, "active_visit");
      const visit = visitId ? ((await outbox.get(visitId))?.payload as unknown as VisitPayload | undefined) : undefined;
      const payload: ObservationPayload = {
        id: editId ?? newId(),
        journey_id: journey.id,
        visit_id: visit?.id ?? null,
        site_id: visit?.site_id ?? null,
        channel: visit?.channel ?? null,
        observed_at: observedAt ?? new Date().toISOString(),
        note: note.trim(),
        customer_goal: goal.trim(),
        customer_quote: quote.trim(),
        customer_minutes_lost: mins,
        pain_points,
        location: locOn ? location : null,
        attachment_ids: [...keptPhotos, ...photos.map((p) => p.id)],
      };
      if (editId) {
        const before = (await outbox.get(editId))?.payload as unknown as ObservationPayload | undefined;
        // an edit keeps the original visit and site
        if (before) Object.assign(payload, { visit_id: before.visit_id, site_id: before.site_id, channel: before.channel });
        await outbox.edit(editId, payload as unknown as Record<string, unknown>);
        flash("Changes saved on this phone.");
        navigate("/mine");
      } else {
        await outbox.add("observation", payload as unknown as Record<string, unknown>);
        flash("Saved on this phone.");
        reset();
        scrollTo({ top: 0 });
      }
      void kick();
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!cat.journeys.length) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Capture</h1>
        <p>{state.online ? "Loading journeys…" : "Connect once to download the journeys; then capture works offline."}</p>
      </section>
    );
  }

  const tagged = Object.keys(tags);
  return (
    <form class="capture" onSubmit={save} aria-labelledby="capture-title">
      <h1 id="capture-title" tabIndex={-1}>
        {editId ? "Edit observation" : "Capture"}
      </h1>
      <label for="journey">Journey</label>
      <select id="journey" value={journey?.id ?? ""} onChange={(e) => chooseJourney(e.currentTarget.value)}>
        {!journey && <option value="">Choose a journey…</option>}
        {cat.journeys.map((j) => (
          <option value={j.id}>{j.name}</option>
        ))}
      </select>

      {journey && (
        <fieldset>
          <legend>Stage</legend>
          <div class="stages">
            {journey.stages.map((s) => (
              <button
                type="button"
                class="stage"
                aria-pressed={stageId === s.id}
                onClick={() => {
                  setStageId(s.id);
                  setQuery("");
                  setShowAll(false);
                }}
              >
                {s.name}
              </button>
            ))}
          </div>
        </fieldset>
      )}

      {journey && stageId && (
        <fieldset>
          <legend>Pain points</legend>
          <label for="pp-search" class="visually-hidden">
            Find or add a pain point
          </label>
          <input
            id="pp-search"
            type="search"
            placeholder="Find or add a pain point"
            autocomplete="off"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <ul class="pp-list">
            {visible.map((pp) => (
              <li>
                <label class="pp">
                  <input type="checkbox" checked={pp.id in tags} onChange={() => toggle(pp)} />
                  <span class="pp-title">{pp.title}</span>
                  <span class="count" aria-label={`${pp.observation_count} observations`}>
                    {pp.pending ? "new" : pp.observation_count}
                  </span>
                </label>
              </li>
            ))}
          </ul>
          {!query && matches.length > SHOWN && !showAll && (
            <button type="button" class="link" onClick={() => setShowAll(true)}>
              Show all {matches.length}
            </button>
          )}
          {query.trim() && !exact && (
            <button type="button" class="secondary" onClick={() => void addPainPoint()}>
              Add new pain point “{query.trim()}”
            </button>
          )}
        </fieldset>
      )}

      {tagged.map((id) => {
        const pp = all.find((p) => p.id === id);
        return (
          <fieldset class="severity">
            <legend>Severity: {pp?.title ?? "pain point"}</legend>
            <div class="chips">
              {SEVERITIES.map(([n, label]) => (
                <label class="chip">
                  <input
                    type="radio"
                    name={`sev-${id}`}
                    value={n}
                    checked={tags[id] === n}
                    onChange={() => setTags((t) => ({ ...t, [id]: n }))}
                  />
                  <span>
                    <b>{n}</b> {label}
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        );
      })}

      <label for="note">What happened</label>
      <textarea id="note" rows={3} maxLength={10000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      <div class="row">
        <div>
          <label for="minutes">Minutes lost</label>
          <input id="minutes" type="number" inputMode="numeric" min={0} max={10000} step={1} value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />
        </div>
        <div>
          <label for="photo" class="button secondary photo-button">
            {photos.length + keptPhotos.length ? `Photo (${photos.length + keptPhotos.length}) +` : "Add photo"}
          </label>
          <input
            id="photo"
            class="visually-hidden"
            type="file"
            accept="image/*"
            capture="environment"
            onChange={(e) => {
              void onPhoto(e.currentTarget.files?.[0]);
              e.currentTarget.value = "";
            }}
          />
        </div>
      </div>
      {photos.length > 0 && (
        <div class="thumbs">
          {photos.map((p, i) => (
            <img src={p.url} alt={`Photo ${i + 1} to attach`} width={64} height={64} />
          ))}
        </div>
      )}
      <details>
        <summary>Goal, quote, location</summary>
        <label for="goal">What the customer was trying to do</label>
        <input id="goal" type="text" maxLength={2000} value={goal} onInput={(e) => setGoal(e.currentTarget.value)} />
        <label for="quote">In their own words</label>
        <textarea id="quote" rows={2} maxLength={4000} value={quote} onInput={(e) => setQuote(e.currentTarget.value)} />
        <label class="switch">
          <input type="checkbox" checked={locOn} onChange={(e) => toggleLocation(e.currentTarget.checked)} />
          <span>Add my location</span>
        </label>
        {locMsg && <p class="hint">{locMsg}</p>}
      </details>
      {formError && (
        <p class="error-text" role="alert">
          {formError}
        </p>
      )}
      <div class="save-bar">
        <button type="submit" class="primary big" disabled={busy}>
          {editId ? "Save changes" : "Save"}
        </button>
      </div>
    </form>
  );
}
