//! Health in time, pure: lag as words, its level against an edge's thresholds, each edge's
//! trend over the last minutes (from the views the canvas gets), the time to catch up while a
//! backlog drains, and the points of a sparkline or chart.
import type { HealthRules, Sample, Thresholds, TopoEdge, TopologyView } from "../platform";

/** How much trend an edge keeps on the canvas. */
export const TREND_MS = 5 * 60_000;

/** One reading of an edge on the canvas. */
export interface Point {
  at: number;
  lagMs: number | null;
  backlog: number;
}

/** Per edge id, its readings, oldest first. */
export type Trends = Record<string, Point[]>;

/** Lag in words: "0 s", "850 ms", "2.3 s", "4 min 10 s", "1 h 2 min". */
export function lagText(ms: number): string {
  if (ms <= 0) return "0 s";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

export type Level = "ok" | "warn" | "alert";

/** The thresholds that hold for an edge: its own, else the default. */
export function thresholdsOf(rules: HealthRules | null, edge: string): Thresholds {
  return rules?.perEdge[edge] ?? rules?.default ?? {};
}

/** Past the lag threshold: alert; past a fifth of it (and a second): warn. */
export function lagLevel(ms: number, t: Thresholds): Level {
  const limit = t.lagSeconds;
  if (limit === undefined) return ms >= 1000 ? "warn" : "ok";
  if (ms > limit * 1000) return "alert";
  if (ms >= 1000 && ms > (limit * 1000) / 5) return "warn";
  return "ok";
}

/** How far apart an edge's trend points are: sixty over TREND_MS, plenty for its sparkline. A
 * point every poll (a second) made every poll copy every edge's five minutes: at 3,000 edges,
 * 900,000 points a second. */
export const TREND_STEP_MS = TREND_MS / 60;

/** The trends with `view`'s readings at `at` added to each edge whose last point is TREND_STEP_MS
 * old (or which has none); what is older than TREND_MS dropped, and edges no longer in the view
 * forgotten. `trends` itself when nothing changed. */
export function sampled(trends: Trends, view: TopologyView, at: number): Trends {
  let changed = Object.keys(trends).length !== view.edges.length;
  const next: Trends = {};
  for (const e of view.edges) {
    const was = trends[e.id];
    const last = was?.[was.length - 1];
    if (was && last && at >= last.at && at - last.at < TREND_STEP_MS) {
      next[e.id] = was;
      continue;
    }
    changed = true;
    const kept = (was ?? []).filter((p) => at - p.at <= TREND_MS && p.at < at);
    kept.push({ at, lagMs: e.lagMs ?? null, backlog: edgeOwed(e) });
    next[e.id] = kept;
  }
  return changed ? next : trends;
}

/** Entries the edge's target lacks, over its channels. */
export function edgeOwed(e: TopoEdge): number {
  return e.channels.reduce((sum, c) => sum + (c.backlog ?? 0), 0);
}

/**
 * While the backlog drains, about how long until it is gone (ms): the backlog now over the
 * rate it fell at over the last ~15 s. Null when it is not draining (or there is none).
 */
export function catchUpMs(points: Point[]): number | null {
  const last = points[points.length - 1];
  if (!last || last.backlog <= 0) return null;
  const from = points.find((p) => last.at - p.at <= 15_000) ?? last;
  if (from === last || from.backlog <= last.backlog) return null;
  const perMs = (from.backlog - last.backlog) / (last.at - from.at);
  return last.backlog / perMs;
}

/** A polyline's points for values over times, in a box `w` × `h` (higher values up). */
export function polyline(values: { at: number; v: number }[], w: number, h: number, from?: number, to?: number): string {
  if (values.length === 0) return "";
  const t0 = from ?? values[0].at;
  const t1 = to ?? values[values.length - 1].at;
  const top = Math.max(...values.map((p) => p.v), 1);
  const x = (t: number) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * w : w);
  return values.map((p) => `${x(p.at).toFixed(1)},${(h - (p.v / top) * h).toFixed(1)}`).join(" ");
}

/** The stretches a history was down, as [from, to] times. */
export function outages(samples: Sample[], spacing: (s: Sample) => number): [number, number][] {
  const out: [number, number][] = [];
  for (const s of samples) {
    if (!s.down) continue;
    const end = s.at + spacing(s);
    const last = out[out.length - 1];
    if (last && s.at <= last[1] + 1) last[1] = end;
    else out.push([s.at, end]);
  }
  return out;
}
