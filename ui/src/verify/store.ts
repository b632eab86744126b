//! Verify and Repair's state (pure: each action computes the next state) and its side effects
//! (asking the studio, the periodic verification of the edges it is switched on for) beside it.
import { create } from "zustand";
import { readStored, writeStored } from "../stores/stored";
import { asErrorBody, native, type ApplyReport, type RepairPlan, type ErrorBody, type Verdict, type VerifyReport } from "../platform";

/** A periodic verification runs this often, per edge it is switched on for. */
export const PERIODIC_MS = 5 * 60_000;

/** What an edge shows of its last verification. */
export interface LastResult {
  at: number;
  verdict: Verdict;
  summary: string;
}

/** The Verify dialog of one edge: its report, then a repair's plan and its outcome. */
export interface VerifyDialog {
  edge: string;
  title: string;
  instances: string[];
  channels: string[];
  report: VerifyReport | null;
  busy: "verify" | "plan" | "repair" | null;
  /** The running verification's name (to cancel it) and the share of its reading done. */
  run: string | null;
  progress: number;
  plan: RepairPlan | null;
  applied: ApplyReport | null;
  error: ErrorBody | null;
}

interface VerifyState {
  /** By edge id. */
  last: Record<string, LastResult>;
  /** Edges verified every PERIODIC_MS (off by default). */
  periodic: Record<string, boolean>;
  dialog: VerifyDialog | null;
  opened: (d: Pick<VerifyDialog, "edge" | "title" | "instances" | "channels">) => void;
  busy: (what: VerifyDialog["busy"]) => void;
  started: (run: string) => void;
  progressed: (run: string, share: number) => void;
  verified: (edge: string, report: VerifyReport) => void;
  planned: (plan: RepairPlan) => void;
  applied: (report: ApplyReport) => void;
  failed: (e: ErrorBody) => void;
  /** A periodic verification could not run: the edge says why. */
  notVerified: (edge: string, e: ErrorBody) => void;
  closed: () => void;
  setPeriodic: (edge: string, on: boolean) => void;
}

/** Where each edge's last result and periodic switch are kept across restarts. */
const LAST_KEY = "switchyard.verify.last";
const PERIODIC_KEY = "switchyard.verify.periodic";
const isRecord = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

export const useVerify = create<VerifyState>((set) => ({
  last: readStored<Record<string, LastResult>>(LAST_KEY, {}, isRecord),
  periodic: readStored<Record<string, boolean>>(PERIODIC_KEY, {}, isRecord),
  dialog: null,
  opened: (d) => set({ dialog: { ...d, report: null, busy: "verify", run: null, progress: 0, plan: null, applied: null, error: null } }),
  busy: (what) => set((s) => (s.dialog ? { dialog: { ...s.dialog, busy: what, error: null } } : {})),
  started: (run) => set((s) => (s.dialog ? { dialog: { ...s.dialog, busy: "verify", run, progress: 0, error: null } } : {})),
  progressed: (run, share) => set((s) => (s.dialog?.run === run ? { dialog: { ...s.dialog, progress: share } } : {})),
  verified: (edge, report) =>
    set((s) => ({
      last: { ...s.last, [edge]: { at: report.at, verdict: report.verdict, summary: report.summary } },
      dialog: s.dialog?.edge === edge ? { ...s.dialog, report, busy: null, run: null, error: null } : s.dialog,
    })),
  planned: (plan) => set((s) => (s.dialog ? { dialog: { ...s.dialog, plan, busy: null, applied: null } } : {})),
  applied: (report) => set((s) => (s.dialog ? { dialog: { ...s.dialog, applied: report, plan: null, busy: null } } : {})),
  failed: (error) => set((s) => (s.dialog ? { dialog: { ...s.dialog, error, busy: null, run: null } } : {})),
  notVerified: (edge, e) => set((s) => ({ last: { ...s.last, [edge]: { at: Date.now(), verdict: "failed", summary: `could not verify: ${e.message}` } } })),
  closed: () => set({ dialog: null }),
  setPeriodic: (edge, on) => set((s) => ({ periodic: { ...s.periodic, [edge]: on } })),
}));

// Kept across restarts (a subscriber: the store stays pure).
useVerify.subscribe((now, before) => {
  if (now.last !== before.last) writeStored(LAST_KEY, now.last);
  if (now.periodic !== before.periodic) writeStored(PERIODIC_KEY, now.periodic);
});

/** Opens the dialog and verifies at once. */
export function openVerify(edge: string, title: string, instances: string[], channels: string[]) {
  useVerify.getState().opened({ edge, title, instances, channels });
  void verifyAgain();
}

/** Verifies the dialog's edge (again). */
export async function verifyAgain() {
  const d = useVerify.getState().dialog;
  if (!d) return;
  const run = `run-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  useVerify.getState().started(run);
  try {
    const report = await native.verify_run({ instances: d.instances, channels: d.channels, run }, (share) => useVerify.getState().progressed(run, share));
    useVerify.getState().verified(d.edge, report);
  } catch (e) {
    useVerify.getState().failed(asErrorBody(e));
    useVerify.getState().notVerified(d.edge, asErrorBody(e));
  }
}

/** Plans the repair; `copyMissing` also copies records a scanned node lacks (HarperDB: deleted
 * there or never received, it does not say) from the nodes that hold them. */
export async function planRepair(copyMissing = false) {
  const d = useVerify.getState().dialog;
  if (!d?.report) return;
  useVerify.getState().busy("plan");
  try {
    useVerify.getState().planned(await native.verify_repair_plan(d.report.id, copyMissing));
  } catch (e) {
    useVerify.getState().failed(asErrorBody(e));
  }
}

/** Applies the shown repair, then verifies again to show its effect. */
export async function applyRepair() {
  const d = useVerify.getState().dialog;
  if (!d?.plan) return;
  useVerify.getState().busy("repair");
  try {
    useVerify.getState().applied(await native.verify_repair_apply(d.plan.id));
  } catch (e) {
    useVerify.getState().failed(asErrorBody(e));
    return;
  }
  await verifyAgain();
}

/** Stops the verification under way (it answers "cancelled"). */
export function cancelVerify() {
  const run = useVerify.getState().dialog?.run;
  if (run) void native.verify_cancel(run).catch(() => undefined);
}

export function closeVerify() {
  cancelVerify();
  const plan = useVerify.getState().dialog?.plan;
  if (plan) void native.verify_repair_drop(plan.id).catch(() => undefined);
  useVerify.getState().closed();
}

/**
 * Verifies, every PERIODIC_MS, each edge its switch is on for (`edges` says which instances and
 * channels an edge has now); answers the stop function.
 */
export function startPeriodic(edges: () => Record<string, { instances: string[]; channels: string[] }>): () => void {
  const timer = setInterval(() => {
    const { periodic } = useVerify.getState();
    const now = edges();
    for (const [edge, on] of Object.entries(periodic)) {
      const e = now[edge];
      if (!on || !e || e.channels.length === 0) continue;
      native.verify_run({ instances: e.instances, channels: e.channels }, () => undefined).then(
        (r) => useVerify.getState().verified(edge, r),
        (e) => useVerify.getState().notVerified(edge, asErrorBody(e)),
      );
    }
  }, PERIODIC_MS);
  return () => clearInterval(timer);
}
