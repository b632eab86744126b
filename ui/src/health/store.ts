//! Health in the window: each edge's trend from the canvas's views, the rules and alerts the
//! studio keeps, and the history of the edge whose panel is open. Pure actions; the side
//! effects (asking the studio) in the functions beside them.
import { create } from "zustand";
import { native, onHealthChanged, asErrorBody, type EdgeHistory, type ErrorBody, type HealthRules, type HealthState, type Thresholds } from "../platform";
import { useTopology } from "../topology/store";
import { sampled, type Trends } from "./model";

interface HealthStore {
  trends: Trends;
  state: HealthState | null;
  history: EdgeHistory | null;
  error: ErrorBody | null;
  sampledView: (trends: Trends) => void;
  received: (state: HealthState) => void;
  receivedHistory: (history: EdgeHistory | null) => void;
  failed: (error: ErrorBody) => void;
}

export const useHealth = create<HealthStore>((set) => ({
  trends: {},
  state: null,
  history: null,
  error: null,
  sampledView: (trends) => set({ trends }),
  received: (state) => set({ state, error: null }),
  receivedHistory: (history) => set({ history }),
  failed: (error) => set({ error }),
}));

/** Asks the studio for the rules and alerts. */
export async function refreshHealth(): Promise<void> {
  try {
    useHealth.getState().received(await native.health_state());
  } catch (e) {
    useHealth.getState().failed(asErrorBody(e));
  }
}

/** Asks for an edge's last 24 hours (its panel's chart). */
export async function loadHistory(edge: string): Promise<void> {
  try {
    useHealth.getState().receivedHistory(await native.health_history(edge));
  } catch (e) {
    useHealth.getState().failed(asErrorBody(e));
  }
}

/** Sets one edge's thresholds (`null`: back to the default), or the default's. */
export async function setThresholds(edge: string | null, t: Thresholds | null): Promise<void> {
  const rules = useHealth.getState().state?.rules;
  if (!rules) return;
  const next: HealthRules = edge === null ? { ...rules, default: t ?? {} } : { ...rules, perEdge: { ...rules.perEdge } };
  if (edge !== null) {
    if (t) next.perEdge[edge] = t;
    else delete next.perEdge[edge];
  }
  try {
    useHealth.getState().received(await native.health_set_rules(next));
  } catch (e) {
    useHealth.getState().failed(asErrorBody(e));
    throw e;
  }
}

/** While the canvas is open: the views it gets are the points of each edge's trend, and the rules
 * and alerts follow it (and every alert the studio announces). */
export function startHealth(): () => void {
  let stopped = false;
  const unsubscribe = useTopology.subscribe((now, before) => {
    if (!now.view || now.view === before.view) return;
    const trends = useHealth.getState().trends;
    const next = sampled(trends, now.view, now.takenAt);
    if (next !== trends) useHealth.getState().sampledView(next);
    void refreshHealth();
  });
  let unlisten: (() => void) | null = null;
  void onHealthChanged(() => void refreshHealth()).then((u) => (stopped ? u() : (unlisten = u)), () => undefined);
  void refreshHealth();
  return () => {
    stopped = true;
    unsubscribe();
    unlisten?.();
  };
}
