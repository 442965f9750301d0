import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { init, kick, signOut, state, subscribe } from "./store";
import { SignIn } from "./screens/SignIn";
import { Capture } from "./screens/Capture";
import { VisitScreen } from "./screens/Visit";
import { Mine } from "./screens/Mine";
import { StatusBar } from "./screens/StatusBar";
import { lazy } from "./lazy";
import { navigate } from "./nav";

const Backlog = lazy(() => import("./screens/Backlog").then((m) => m.Backlog));


function useRoute(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => {
      setPath(location.pathname + location.search);
      // move focus to the new screen's heading for keyboard and screen-reader users
      requestAnimationFrame(() => document.querySelector<HTMLElement>("main h1")?.focus());
    };
    addEventListener("popstate", on);
    return () => removeEventListener("popstate", on);
  }, []);
  return path;
}

function useAppState() {
  const [, force] = useState(0);
  useEffect(() => subscribe(() => force((n) => n + 1)), []);
  return state;
}

const TABS = [
  { path: "/", label: "Capture" },
  { path: "/visit", label: "Visit" },
  { path: "/mine", label: "Mine" },
  { path: "/backlog", label: "Backlog" },
];

function App() {
  const s = useAppState();
  const route = useRoute();
  const path = route.split("?")[0];
  if (!s.ready) return <p class="loading">Loading…</p>;
  const signingIn = !s.user || path === "/signin";
  let screen;
  if (signingIn) screen = <SignIn />;
  else if (path === "/visit") screen = <VisitScreen />;
  else if (path === "/mine") screen = <Mine />;
  else if (path === "/backlog") screen = <Backlog />;
  else screen = <Capture editId={new URLSearchParams(route.split("?")[1] ?? "").get("edit")} />;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Gembalog</span>
        {s.user && !signingIn && (
          <button type="button" class="link small" onClick={() => void signOut()}>
            Sign out
          </button>
        )}
      </header>
      {s.user && <StatusBar signingIn={signingIn} onSignIn={() => navigate("/signin")} onSync={() => void kick()} />}
      <main id="main">{screen}</main>
      {s.error && (
        <div class="toast error" role="alert">
          {s.error}
        </div>
      )}
      <div class="toast" role="status" aria-live="polite">
        {s.message ?? ""}
      </div>
      {!signingIn && (
        <nav class="tabs" aria-label="Screens">
          {TABS.map((t) => (
            <a
              href={t.path}
              aria-current={path === t.path ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(t.path);
              }}
            >
              {t.label}
            </a>
          ))}
        </nav>
      )}
    </>
  );
}

async function start(): Promise<void> {
  if ("serviceWorker" in navigator && import.meta.env.PROD) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  }
  await init();
  render(<App />, document.getElementById("app")!);
}

void start();
