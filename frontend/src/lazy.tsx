import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

/** A screen loaded on first use, so the capture route stays small. */
export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let cached: ComponentType<P> | null = null;
  return (props: P) => {
    const [C, setC] = useState<ComponentType<P> | null>(() => cached);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (!C)
        load().then(
          (c) => {
            cached = c;
            setC(() => c);
          },
          () => setFailed(true),
        );
    }, []);
    if (failed) return <p role="alert">This screen could not be loaded. It needs a connection the first time.</p>;
    return C ? <C {...props} /> : <p>Loading…</p>;
  };
}
