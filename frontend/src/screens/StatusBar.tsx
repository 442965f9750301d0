import { state } from "../store";

function hhmm(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function statusText(waiting: number, lastSyncedAt: string | null, online: boolean): string {
  const last = lastSyncedAt ? ` · last synced ${hhmm(lastSyncedAt)}` : "";
  if (!waiting) return online ? "all synced" : `offline · all saved${last}`;
  return `${waiting} waiting${online ? "" : " · offline"}${last}`;
}

export function StatusBar({ signingIn, onSignIn, onSync }: { signingIn: boolean; onSignIn: () => void; onSync: () => void }) {
  const s = state.status;
  return (
    <div class={`status ${s.waiting ? "pending" : "ok"}`} role="status" aria-live="polite" data-testid="outbox-status">
      <span>{statusText(s.waiting, s.lastSyncedAt, state.online)}</span>
      {s.errors > 0 && (
        <a class="badge-error" href="/mine">
          {s.errors} to fix
        </a>
      )}
      {state.authRequired ? (
        !signingIn && (
        <button type="button" class="small warn" onClick={onSignIn}>
          Sign in to send
        </button>
        )
      ) : (
        s.waiting > 0 && state.online && (
          <button type="button" class="small" onClick={onSync}>
            Send now
          </button>
        )
      )}
    </div>
  );
}
