import { useState } from "preact/hooks";
import { signIn, state } from "../store";
import { navigate } from "../nav";

export function SignIn() {
  const [email, setEmail] = useState(state.user?.email ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const expired = state.authRequired;
  return (
    <section class="card">
      <h1 tabIndex={-1}>Sign in</h1>
      {expired && (
        <p class="note">
          Your session has ended.{" "}
          {state.status.waiting === 1 ? "1 saved item is" : `${state.status.waiting} saved items are`} waiting on this phone
          and will be sent once you sign in.
        </p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          const err = await signIn(email.trim(), password);
          setBusy(false);
          setError(err);
          if (!err) navigate("/");
        }}
      >
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error && (
          <p class="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary big" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
