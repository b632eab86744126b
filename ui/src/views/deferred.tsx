//! Views whose code is loaded the first time they open (or when preloaded), then drawn at once.
//! Not React.lazy: a view that suspends keeps its fallback on screen for at least 300 ms in
//! React 19, even when its code is already there, and the Cluster view's first open is measured
//! in that range (BENCHMARKS.md, "Cluster view").
import { useEffect, useState, type ComponentType } from "react";

export type Deferred<P> = {
  /** Draws the view, or a line saying it loads (or why it could not). */
  View: ComponentType<P>;
  /** Fetches and evaluates the view's code without drawing it. */
  preload: () => Promise<void>;
};

export function deferred<P extends object>(load: () => Promise<ComponentType<P>>): Deferred<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  const preload = (): Promise<void> => {
    pending ??= load().then(
      (c) => void (loaded = c),
      (e: unknown) => {
        pending = null; // The next open tries again.
        throw e;
      },
    );
    return pending;
  };
  function View(props: P) {
    const [, setReady] = useState(false);
    const [failed, setFailed] = useState<string | null>(null);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      preload().then(
        () => live && setReady(true),
        (e: unknown) => live && setFailed(e instanceof Error ? e.message : String(e)),
      );
      return () => void (live = false);
    }, []);
    if (loaded) {
      const Loaded = loaded;
      return <Loaded {...props} />;
    }
    if (failed) return <div className="error-panel" role="alert">This view could not be loaded: {failed}</div>;
    return <div className="muted loading-view" data-testid="view-loading">Loading…</div>;
  }
  return { View, preload };
}
