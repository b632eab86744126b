//! The factory scenario: its instances and links (shown as link plans before anything is
//! wired), its load generator and the check that hq holds every out-of-range reading.
import { create } from "zustand";
import { refreshTopology, useTopology } from "../topology/store";
import { asErrorBody, native, type ApplyReport, type Arrival, type ClusterNode, type FactorySetup, type LinkPlan, type LoadStats, type ErrorBody } from "../platform";

/** Where the scenario's nodes go on the canvas: the edges left, hq right. */
// Wide enough apart that each link of a pair carries its label on its own line.
export const LAYOUT: Record<ClusterNode, { x: number; y: number }> = { "edge-1": { x: 0, y: 0 }, "edge-2": { x: 0, y: 300 }, hq: { x: 680, y: 150 } };
export const DEFAULT_RATE = 200;
export const DEFAULT_EXPIRATION_S = 600;

export type Phase = "idle" | "setting-up" | "review" | "applying" | "ready";

interface FactoryState {
  phase: Phase;
  setup: FactorySetup | null;
  plans: LinkPlan[];
  reports: ApplyReport[];
  stats: LoadStats | null;
  arrival: Arrival | null;
  error: ErrorBody | null;
  busy: boolean;
}

export const useFactory = create<FactoryState>(() => ({ phase: "idle", setup: null, plans: [], reports: [], stats: null, arrival: null, error: null, busy: false }));

const patch = (p: Partial<FactoryState>) => useFactory.setState(p);

/** Starts (or reuses) edge-1, edge-2 and hq with their tables, then shows the links' plans. */
export async function setUp(rawExpirationS = DEFAULT_EXPIRATION_S): Promise<void> {
  patch({ phase: "setting-up", error: null, plans: [], reports: [], arrival: null });
  try {
    const setup = await native.factory_setup(rawExpirationS);
    patch({ setup, plans: setup.plans, phase: "review" });
  } catch (e) {
    patch({ phase: "idle", error: asErrorBody(e) });
  }
}

/** Applies the links shown, then lays the three nodes out. */
export async function applyLinks(): Promise<void> {
  patch({ phase: "applying", error: null });
  let reports: ApplyReport[] = [];
  try {
    reports = await native.factory_apply();
    const layout = await native.layout_load();
    const positions = { ...layout.positions, ...LAYOUT };
    await native.layout_save({ positions });
    useTopology.getState().loadedPositions(positions);
    // The links just made are drawn now, not at the next poll (as after the link dialog's Apply).
    void refreshTopology();
    const ok = reports.every((r) => r.ok);
    patch({ reports, plans: [], phase: ok ? "ready" : "review" });
  } catch (e) {
    patch({ reports, phase: "review", error: asErrorBody(e) });
  }
}

/** Drops the plans shown; nothing was wired. */
export async function cancelLinks(): Promise<void> {
  patch({ plans: [], phase: "idle" });
  await native.factory_drop().catch(() => undefined);
}

export async function startLoad(rate: number): Promise<void> {
  await run(async () => patch({ stats: await native.factory_load_start(rate) }));
}

export async function stopLoad(): Promise<void> {
  await run(async () => patch({ stats: await native.factory_load_stop() }));
}

export async function refreshStats(): Promise<void> {
  try {
    patch({ stats: await native.factory_load_stats() });
  } catch {
    // The next refresh tries again.
  }
}

export async function checkArrival(): Promise<void> {
  await run(async () => patch({ arrival: await native.factory_check() }));
}

export async function removeScenario(): Promise<string[]> {
  let removed: string[] = [];
  await run(async () => {
    removed = await native.factory_remove();
    patch({ phase: "idle", setup: null, stats: null, arrival: null, reports: [] });
  });
  return removed;
}

async function run(f: () => Promise<void>): Promise<void> {
  patch({ busy: true, error: null });
  try {
    await f();
  } catch (e) {
    patch({ error: asErrorBody(e) });
  } finally {
    patch({ busy: false });
  }
}

/** Readings per second from two looks at the totals `seconds` apart. */
export function perSecond(before: number, after: number, seconds: number): number {
  return seconds > 0 ? Math.max(0, after - before) / seconds : 0;
}
