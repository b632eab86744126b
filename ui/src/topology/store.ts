//! The cluster canvas's state (pure: each action computes the next state) and its side effects
//! (polling every instance about once a second, keeping positions) in functions beside it.
import { create } from "zustand";
import { native, type ApplyReport, type LinkPlan, type LinkRequest, type Position, type TopoEdge, type TopologyView, type ErrorBody } from "../platform";
import { asErrorBody } from "../platform";
import { useInstances } from "../stores/instances";
import { toastError } from "../stores/ui";
import { layout, rates, sameOr, seed, shareView, type DialogSeed, type Rates } from "./model";

export const REFRESH_MS = 1000;

export type Dialog =
  | { kind: "link"; seed: DialogSeed; plan: LinkPlan | null; report: ApplyReport | null; busy: boolean; error: ErrorBody | null }
  | { kind: "unlink"; dialer: string; linkName: string; plan: LinkPlan | null; report: ApplyReport | null; busy: boolean; error: ErrorBody | null }
  | null;

interface TopologyState {
  view: TopologyView | null;
  takenAt: number;
  rates: Rates;
  error: ErrorBody | null;
  /** Node positions by node name; saved ones survive restarts. */
  positions: Record<string, Position>;
  positionsLoaded: boolean;
  /** Bumped whenever the studio (not the user) places nodes: the canvas frames them all again. */
  placements: number;
  /** A view fed from outside (the benchmark's synthetic topology): refreshes are ignored. */
  frozen: boolean;
  selectedChannel: string | null;
  selectedNode: string | null;
  selectedEdge: string | null;
  dialog: Dialog;
  received: (view: TopologyView, at: number) => void;
  failed: (e: ErrorBody) => void;
  loadedPositions: (p: Record<string, Position>) => void;
  moved: (name: string, p: Position) => void;
  selectChannel: (c: string | null) => void;
  selectNode: (id: string | null) => void;
  selectEdge: (id: string | null) => void;
  setDialog: (d: Dialog) => void;
}

export const useTopology = create<TopologyState>((set) => ({
  view: null,
  takenAt: 0,
  rates: {},
  error: null,
  positions: {},
  positionsLoaded: false,
  placements: 0,
  frozen: false,
  selectedChannel: null,
  selectedNode: null,
  selectedEdge: null,
  dialog: null,
  received: (answer, at) =>
    set((s) => {
      if (s.frozen) return {};
      // What did not change keeps its objects, so that nothing is drawn again for it.
      const view = shareView(s.view, answer);
      return {
        view,
        takenAt: at,
        error: null,
        rates: sameOr(s.rates, s.view ? rates(s.view, view, (at - s.takenAt) / 1000) : {}),
        // New nodes are laid out once; placed ones never move on a refresh.
        positions: s.positionsLoaded ? sameOr(s.positions, layout(view, s.positions)) : s.positions,
      };
    }),
  failed: (error) => set({ error }),
  loadedPositions: (p) => set((s) => ({ positionsLoaded: true, positions: s.view ? layout(s.view, p) : p, placements: s.placements + 1 })),
  moved: (name, p) => set((s) => ({ positions: { ...s.positions, [name]: p } })),
  selectChannel: (selectedChannel) => set({ selectedChannel }),
  selectNode: (selectedNode) => set({ selectedNode, selectedEdge: null }),
  selectEdge: (selectedEdge) => set({ selectedEdge, selectedNode: null }),
  setDialog: (dialog) => set({ dialog }),
}));

/**
 * The benchmark's way in (`window.switchyardBench.loadTopology(view)`): the canvas shows `view`,
 * laid out as new, and stops refreshing from the instances.
 */
export function loadFixedTopology(view: TopologyView): void {
  benchView = JSON.stringify(view);
  useTopology.setState({ frozen: false, positions: {}, positionsLoaded: true });
  useTopology.getState().received(view, Date.now());
  useTopology.setState({ frozen: true });
}

/** The view the benchmark loaded, as the text a poll's answer arrives in. */
let benchView = "null";
/** Refreshes the benchmark made with traffic: each carried one more entry on its edges. */
let benchTraffic = 0;

/** The benchmark's refresh: the view it loaded arrives again as a poll's answer would (parsed
 * from its text: new objects, equal to the last), the positions kept. With `everyNth`, every
 * nth edge has carried one more entry on each channel than at the refresh before. */
export function refreshFixedTopology(everyNth = 0): void {
  const view = JSON.parse(benchView) as TopologyView;
  if (everyNth > 0) {
    benchTraffic += 1;
    view.edges.forEach((e, i) => {
      if (i % everyNth === 0) for (const c of e.channels) c.carried += benchTraffic;
    });
  }
  useTopology.setState({ frozen: false });
  useTopology.getState().received(view, Date.now());
  useTopology.setState({ frozen: true });
}

if (typeof window !== "undefined") {
  (window as unknown as { switchyardBench?: object }).switchyardBench = { loadTopology: loadFixedTopology, refreshTopology: refreshFixedTopology };
}

/** Refreshes the view now. */
export async function refreshTopology(): Promise<void> {
  try {
    const view = await native.topology_view();
    useTopology.getState().received(view, Date.now());
  } catch (e) {
    useTopology.getState().failed(asErrorBody(e));
  }
}

/** Polls while the canvas is open: one refresh at a time, about once a second. */
export function startTopologyPolling(): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const tick = async () => {
    const started = Date.now();
    await refreshTopology();
    if (!stopped) timer = setTimeout(tick, Math.max(100, REFRESH_MS - (Date.now() - started)));
  };
  if (!useTopology.getState().frozen) {
    void native
      .layout_load()
      .then((l) => useTopology.getState().loadedPositions(l.positions))
      .catch((e) => {
        // Unreadable (a damaged file): said, and the nodes laid out anew.
        toastError(e);
        useTopology.getState().loadedPositions({});
      });
  }
  void tick();
  // A local instance started or stopped (from any view): drawn at once, not at the next tick.
  const unsubscribe = useInstances.subscribe((now, before) => {
    if (now.switched !== before.switched) void refreshTopology();
  });
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}

let saveTimer: ReturnType<typeof setTimeout> | null = null;

/** Keeps positions on disk, at most twice a second while nodes are dragged. */
export function savePositionsSoon(): void {
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    saveTimer = null;
    const rounded = Object.fromEntries(Object.entries(useTopology.getState().positions).map(([name, p]) => [name, { x: Math.round(p.x), y: Math.round(p.y) }]));
    void native.layout_save({ positions: rounded }).catch(toastError);
  }, 500);
}

type LinkDialog = Extract<Dialog, { kind: "link" }>;
type UnlinkDialog = Extract<Dialog, { kind: "unlink" }>;

function patch(p: Partial<LinkDialog> | Partial<UnlinkDialog>) {
  const d = useTopology.getState().dialog;
  if (d) useTopology.getState().setDialog({ ...d, ...p } as Dialog);
}

/** Shows what a link request would send (nothing is sent yet). */
export async function previewLink(request: LinkRequest): Promise<void> {
  patch({ busy: true, error: null, plan: null, report: null });
  try {
    patch({ plan: await native.link_plan(request), busy: false });
  } catch (e) {
    patch({ error: asErrorBody(e), busy: false });
  }
}

/** Shows what removing a link would send. */
export async function previewUnlink(dialer: string, linkName: string): Promise<void> {
  patch({ busy: true, error: null, plan: null, report: null });
  try {
    patch({ plan: await native.link_plan_removal(dialer, linkName), busy: false });
  } catch (e) {
    patch({ error: asErrorBody(e), busy: false });
  }
}

/** Sends the plan on show; the report says per node what happened. */
export async function applyPlan(): Promise<ApplyReport | null> {
  const d = useTopology.getState().dialog;
  if (!d?.plan) return null;
  patch({ busy: true, error: null });
  try {
    const report = await native.link_apply(d.plan.id);
    patch({ report, busy: false, plan: null });
    void refreshTopology();
    return report;
  } catch (e) {
    patch({ error: asErrorBody(e), busy: false });
    return null;
  }
}

/** Closes the dialog; a plan shown and not applied is dropped, nothing was sent. */
export async function closeDialog(): Promise<void> {
  const d = useTopology.getState().dialog;
  useTopology.getState().setDialog(null);
  if (d?.plan) await native.link_drop(d.plan.id).catch(() => undefined);
}

/** Opens the link dialog for `a` and `b`, seeded with what they carry. */
export function openLink(view: TopologyView, a: string, b: string) {
  useTopology.getState().setDialog({ kind: "link", seed: seed(view, a, b), plan: null, report: null, busy: false, error: null });
}

/** Opens the removal of an edge's link. */
export function openUnlink(edge: TopoEdge) {
  const c = edge.channels[0];
  if (!c) return;
  useTopology.getState().setDialog({ kind: "unlink", dialer: c.dialer, linkName: c.linkName, plan: null, report: null, busy: false, error: null });
}
