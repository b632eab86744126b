//! The cluster canvas's pure model: rates from successive snapshots, what the link dialog starts
//! from and what a report says; the geometry, label placement and layout are their own modules,
//! re-exported here.
import type { ApplyReport, Direction, LinkChannel, NodeKind, TopoEdge, TopologyView, WarningKind } from "../platform";

export * from "./geometry";
export * from "./labels";
export * from "./layout";

/** What each kind of warning is about. A record over the closed set: a kind added on the Rust
 * side does not compile here until it is described. */
export const WARNING_ABOUT: Record<WarningKind, string> = {
  missing_table: "a channel's table is missing where it should be",
  failing_link: "a link is not open or reports an error",
  one_sided: "only one side knows of a link",
  refused_channel: "a peer refuses a channel",
  ghost: "a peer that is not registered here",
  unreachable: "a registered instance does not answer",
  cycle: "a channel runs in a cycle (allowed)",
  stale_link: "a link points at a node that no longer answers for its name",
};

/** How a node's kind reads on its card (every kind named: see `WARNING_ABOUT`). */
export const NODE_KIND_LABEL: Record<NodeKind, string> = { local: "local", remote: "remote", ghost: "not registered" };


/** Per edge channel (`edgeId|channel|dialer`), entries carried per second; per node
 * (`nodeKey`), transactions written to its log per second. */
export type Rates = Record<string, number>;

export function channelKey(edge: TopoEdge, c: { channel: string; dialer: string }): string {
  return `${edge.id}|${c.channel}|${c.dialer}`;
}

export function nodeKey(id: string): string {
  return `node|${id}`;
}

/**
 * Rates between two snapshots taken `seconds` apart: how many entries each channel carried.
 * A count that went back (the dialler restarted) counts as no traffic; so does an edge that is
 * the same object in both (an answer shares what did not change with the last: `shareView`),
 * which has no entry.
 */
export function rates(prev: TopologyView | null, next: TopologyView, seconds: number): Rates {
  const out: Rates = {};
  if (!prev || seconds <= 0) return out;
  const before = new Map(prev.edges.map((e) => [e.id, e]));
  for (const e of next.edges) {
    const was = before.get(e.id);
    if (!was || was === e) continue;
    for (const c of e.channels) {
      const old = was.channels.find((x) => x.channel === c.channel && x.dialer === c.dialer);
      if (old) out[channelKey(e, c)] = Math.max(0, c.carried - old.carried) / seconds;
    }
  }
  const heads = new Map(prev.nodes.map((n) => [n.id, n.logHead]));
  for (const n of next.nodes) {
    const was = heads.get(n.id);
    if (was === undefined || n.logHead === undefined) continue;
    out[nodeKey(n.id)] = Math.max(0, n.logHead - was) / seconds;
  }
  return out;
}

/** Whether two values made of JSON (a poll's answer) are equal, all the way down. A key whose
 * value is `undefined` counts as present: the answers come from JSON, which has none. */
export function equalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalJson(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) if (!(k in y) || !equalJson(x[k], y[k])) return false;
  return true;
}

/** `next`, with every element equal (`same`) to the previous one of its id replaced by that
 * previous object; `prev` itself when every element and the order are the same. */
export function merge<T>(prev: T[], next: T[], id: (x: T) => string, same: (a: T, b: T) => boolean): T[] {
  const before = new Map(prev.map((x) => [id(x), x]));
  let changed = prev.length !== next.length;
  const out = next.map((x, i) => {
    const old = before.get(id(x));
    if (old !== undefined && (old === x || same(old, x))) {
      if (prev[i] !== old) changed = true;
      return old;
    }
    changed = true;
    return x;
  });
  return changed ? out : prev;
}

/**
 * A poll's answer sharing with the last one every node, edge, flow and list that did not change:
 * a refresh that changes nothing changes no object the canvas draws from, and one that changes an
 * edge changes that edge only. The answer is a new object (it is a new sample in time).
 */
export function shareView(prev: TopologyView | null, next: TopologyView): TopologyView {
  if (!prev) return next;
  return {
    ...next,
    nodes: merge(prev.nodes, next.nodes, (n) => n.id, equalJson),
    edges: merge(prev.edges, next.edges, (e) => e.id, equalJson),
    flows: merge(prev.flows, next.flows, (f) => f.channel, equalJson),
    warnings: equalJson(prev.warnings, next.warnings) ? prev.warnings : next.warnings,
  };
}

/** `next`, or `prev` when both hold the same keys with the same (`===`) values. */
export function sameOr<V>(prev: Record<string, V>, next: Record<string, V>): Record<string, V> {
  const keys = Object.keys(next);
  if (keys.length !== Object.keys(prev).length) return next;
  for (const k of keys) if (!(k in prev) || prev[k] !== next[k]) return next;
  return prev;
}

/** The rate of a whole edge: the sum over its channels. */
export function edgeRate(edge: TopoEdge, r: Rates): number {
  return edge.channels.reduce((sum, c) => sum + (r[channelKey(edge, c)] ?? 0), 0);
}

/** Entries not yet sent over an edge (what its source still owes its target). */
export function edgeBacklog(edge: TopoEdge): number {
  return edge.channels.reduce((sum, c) => sum + (c.backlog ?? 0), 0);
}

/** What the dialog starts with when opened on an existing pair: the channels of the link. */
export interface DialogSeed {
  a: string;
  b: string;
  bDials: boolean;
  channels: LinkChannel[];
}

/**
 * The seed for a dialog between `a` and `b` (as dragged): every channel already carried
 * between them by a link one of them dials, with its direction; `bDials` when the link that
 * exists is dialled by `b`.
 */
export function seed(view: TopologyView, a: string, b: string): DialogSeed {
  const between = view.edges.filter((e) => (e.source === a && e.target === b) || (e.source === b && e.target === a));
  const dialers = new Set(between.flatMap((e) => e.channels.map((c) => c.dialer)));
  const bDials = !dialers.has(a) && dialers.has(b);
  const dialer = bDials ? b : a;
  const dirs = new Map<string, { ab: boolean; ba: boolean }>();
  for (const e of between) {
    for (const c of e.channels) {
      if (c.dialer !== dialer) continue;
      const d = dirs.get(c.channel) ?? { ab: false, ba: false };
      if (e.source === a) d.ab = true;
      else d.ba = true;
      dirs.set(c.channel, d);
    }
  }
  const channels: LinkChannel[] = [...dirs.entries()]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([channel, d]) => ({ channel, direction: (d.ab && d.ba ? "both" : d.ab ? "aToB" : "bToA") as Direction }));
  return { a, b, bDials, channels };
}

/** The channels the dialog offers: the tables of both sides, and those already linked. */
export function offeredChannels(view: TopologyView, a: string, b: string, linked: LinkChannel[]): string[] {
  const tables = view.nodes.filter((n) => n.id === a || n.id === b).flatMap((n) => n.channels);
  return [...new Set([...tables, ...linked.map((c) => c.channel)])].sort();
}

/** `database:table`, both parts non-empty, no further colon. */
export function validChannel(text: string): boolean {
  const parts = text.split(":");
  return parts.length === 2 && parts.every((p) => nameProblem(p) === null);
}

const ENCODER = new TextEncoder();

/**
 * Why `name` cannot be a channel's database or table, or null: the rule of
 * `switchyard_protocol::channel::name_problem` (the cases both check are
 * crates/protocol/channel_cases.json).
 */
export function nameProblem(name: string): string | null {
  if (!name) return "is empty";
  if (ENCODER.encode(name).length > 250) return "is longer than 250 bytes";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "contains a control character";
  if (/[.:/]/.test(name)) return "contains '.', ':' or '/'";
  if (/^\s|\s$/.test(name)) return "starts or ends with a space";
  return null;
}

/** A short human number: 1.2k, 35, 0.4. */
/** Why `text` is not a channel, in words, or null when it is one (or is still empty). */
export function channelProblem(text: string): string | null {
  const t = text.trim();
  if (!t || validChannel(t)) return null;
  const parts = t.split(":");
  if (parts.length !== 2) return parts.length === 1 ? "a channel is database:table (a colon between them)" : "a channel is database:table: one colon, between two names";
  const [what, why] = nameProblem(parts[0]) !== null ? ["database", nameProblem(parts[0])] : ["table", nameProblem(parts[1])];
  return `a channel is database:table: its ${what} ${why}`;
}

/** The channels of `offered` whose name contains `filter` (any case); carried ones always show. */
export function shownChannels(offered: string[], filter: string, carried: (c: string) => boolean): string[] {
  const f = filter.trim().toLowerCase();
  return f ? offered.filter((c) => carried(c) || c.toLowerCase().includes(f)) : offered;
}

/** The first line of an apply's report: what the nodes hold now. */
export function reportHeadline(report: ApplyReport): string {
  if (report.ok) return "Applied: every node answered.";
  if (report.leftBehind.length) return "Not applied: a step failed, and not everything done before it could be taken back (listed below).";
  if (report.undone.length) return "Not applied: a step failed, and what was done before it was taken back.";
  return "Not applied: the first step failed, so nothing was changed.";
}

export function short(n: number): string {
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}

/** A channel nothing can flow on: no side it flows from has the table. */
export interface CannotFlow {
  channel: string;
  sources: string[];
}

/** What a link's channels cannot carry yet, by where each table exists (`has`). */
export function cannotFlow(channels: LinkChannel[], a: string, b: string, has: (node: string, channel: string) => boolean, name: (node: string) => string): CannotFlow[] {
  return channels
    .map(({ channel, direction }) => ({ channel, from: direction === "aToB" ? [a] : direction === "bToA" ? [b] : [a, b] }))
    .filter(({ channel, from }) => from.every((n) => !has(n, channel)))
    .map(({ channel, from }) => ({ channel, sources: from.map(name) }));
}
