//! Wiring as code in the window: the last export's file, the plan of an opened file and what
//! applying it did. Pure actions; asking the studio in the functions beside them.
import { create } from "zustand";
import { asErrorBody, native, type ApplyReport, type Drift, type ErrorBody, type WiringPreview } from "../platform";
import { refreshTopology } from "../topology/store";

interface WiringStore {
  exported: { path: string; leftOut: string[] } | null;
  preview: WiringPreview | null;
  /** The text of the file last opened (what Attach keeps). */
  opened: string | null;
  /** A file is attached to the canvas; its drift from the live cluster (null until checked). */
  attached: boolean;
  drift: Drift[] | null;
  reports: ApplyReport[] | null;
  busy: boolean;
  error: ErrorBody | null;
  set: (p: Partial<WiringStore>) => void;
}

export const useWiring = create<WiringStore>((set) => ({
  exported: null,
  preview: null,
  opened: null,
  attached: false,
  drift: null,
  reports: null,
  busy: false,
  error: null,
  set: (p) => set(p),
}));

/** Writes the live cluster's wiring to the exports folder (no password in it). */
export async function exportWiring(): Promise<void> {
  const s = useWiring.getState();
  s.set({ busy: true, error: null });
  try {
    const w = await native.wiring_export();
    const path = await native.exports_write("switchyard-wiring.toml", w.text);
    s.set({ exported: { path, leftOut: w.leftOut }, busy: false });
  } catch (e) {
    s.set({ error: asErrorBody(e), busy: false });
  }
}

/** Plans a wiring file against the live cluster; nothing is sent. */
export async function planWiring(text: string): Promise<void> {
  const s = useWiring.getState();
  s.set({ busy: true, error: null, preview: null, reports: null, opened: text });
  try {
    s.set({ preview: await native.wiring_plan(text), busy: false });
  } catch (e) {
    s.set({ error: asErrorBody(e), busy: false });
  }
}

/** Sends the plan on show (refused if the cluster changed since it was made). */
export async function applyWiring(): Promise<void> {
  const s = useWiring.getState();
  if (!s.preview) return;
  s.set({ busy: true, error: null });
  try {
    const reports = await native.wiring_apply(s.preview.id);
    s.set({ reports, busy: false });
    void refreshTopology();
  } catch (e) {
    s.set({ error: asErrorBody(e), busy: false });
  }
}

/** Closes the plan; one shown and not applied is dropped (nothing was sent). */
export async function closeWiring(): Promise<void> {
  const s = useWiring.getState();
  const id = s.reports ? null : s.preview?.id;
  s.set({ preview: null, reports: null, error: null });
  if (id) await native.wiring_drop(id).catch(() => undefined);
}

/** Keeps the file last opened attached to the canvas, which then marks its drift. */
export async function attachWiring(): Promise<void> {
  const s = useWiring.getState();
  if (!s.opened) return;
  try {
    await native.wiring_attach(s.opened);
    s.set({ attached: true, drift: null });
    await checkDrift();
  } catch (e) {
    s.set({ error: asErrorBody(e) });
  }
}

export async function detachWiring(): Promise<void> {
  await native.wiring_attach(null).catch(() => undefined);
  useWiring.getState().set({ attached: false, drift: null });
}

/** Asks how the live cluster differs from the attached file. */
export async function checkDrift(): Promise<void> {
  try {
    const drift = await native.wiring_drift();
    useWiring.getState().set({ drift, attached: drift !== null });
  } catch (e) {
    useWiring.getState().set({ error: asErrorBody(e) });
  }
}

/** While a file is attached: its drift checked every 3 s. */
export function startDriftChecks(): () => void {
  const timer = setInterval(() => {
    if (useWiring.getState().attached) void checkDrift();
  }, 3000);
  return () => clearInterval(timer);
}

/** The drift marked on the edge between the nodes named `a` and `b` (either way), if any. */
export function edgeDrift(drift: Drift[] | null, a: string, b: string): Drift | undefined {
  return drift?.find((d) => d.kind !== "missing" && ((d.dialer === a && d.to === b) || (d.dialer === b && d.to === a)));
}
