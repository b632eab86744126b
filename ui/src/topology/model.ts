//! The cluster canvas's pure model: rates from successive snapshots, where new nodes go
//! (dagre, around the ones already placed), and what the link dialog starts from.
import dagre from "@dagrejs/dagre";
import type { ApplyReport, Direction, LinkChannel, NodeKind, Position, TopoEdge, TopologyView, WarningKind } from "../platform";

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

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 96;

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
 * A count that went back (the dialler restarted) counts as no traffic.
 */
export function rates(prev: TopologyView | null, next: TopologyView, seconds: number): Rates {
  const out: Rates = {};
  if (!prev || seconds <= 0) return out;
  const before = new Map<string, number>();
  for (const e of prev.edges) for (const c of e.channels) before.set(channelKey(e, c), c.carried);
  for (const e of next.edges) {
    for (const c of e.channels) {
      const key = channelKey(e, c);
      const was = before.get(key);
      if (was === undefined) continue;
      out[key] = Math.max(0, c.carried - was) / seconds;
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

/** The rate of a whole edge: the sum over its channels. */
export function edgeRate(edge: TopoEdge, r: Rates): number {
  return edge.channels.reduce((sum, c) => sum + (r[channelKey(edge, c)] ?? 0), 0);
}

/** Entries not yet sent over an edge (what its source still owes its target). */
export function edgeBacklog(edge: TopoEdge): number {
  return edge.channels.reduce((sum, c) => sum + (c.backlog ?? 0), 0);
}

/** Columns of the grid that nodes without edges are placed on. */
const GRID_COLUMNS = 3;
/** Past this many linked nodes a layered drawing gets too wide to read: they go on a grid, in
 * the order of their layers (data still flows left to right, then down). */
const LAYERED_MAX = 40;
const GAP_X = 70;
/** Between loose nodes side by side: room for one edge label, as they may be linked later. */
const LOOSE_GAP_X = 190;
const GAP_Y = 60;

/**
 * Positions for every node: saved ones kept as they are; new ones that take part in an edge
 * laid out by dagre (left to right, the way data flows), the rest on a grid, all below what is
 * already placed.
 */
export function layout(view: TopologyView, saved: Record<string, Position>): Record<string, Position> {
  const out: Record<string, Position> = {};
  const missing = view.nodes.filter((n) => !saved[n.name]);
  for (const n of view.nodes) if (saved[n.name]) out[n.name] = saved[n.name];
  if (missing.length === 0) return out;
  let top = Object.values(out).reduce((m, p) => Math.max(m, p.y + NODE_HEIGHT + GAP_Y), 0);
  const linked = new Set(view.edges.flatMap((e) => [e.source, e.target]));
  const connected = missing.filter((n) => linked.has(n.id));
  const layers = connected.length > LAYERED_MAX ? layersOf(view) : new Map<string, number>();
  if (connected.length > LAYERED_MAX) {
    // dagre takes seconds on a graph this size: a grid in layer order (O(V + E)) instead.
    connected.sort((a, b) => (layers.get(a.id) ?? 0) - (layers.get(b.id) ?? 0) || a.name.localeCompare(b.name));
    const columns = Math.ceil(Math.sqrt(connected.length * 1.6));
    connected.forEach((n, i) => {
      out[n.name] = { x: (i % columns) * (NODE_WIDTH + GAP_X), y: top + Math.floor(i / columns) * (NODE_HEIGHT + GAP_Y) };
    });
    top += Math.ceil(connected.length / columns) * (NODE_HEIGHT + GAP_Y);
  } else if (connected.length > 0) {
    const g = new dagre.graphlib.Graph();
    // Wide ranks: room for the labels of the edges between them, side by side.
    g.setGraph({ rankdir: "LR", nodesep: GAP_Y + 30, ranksep: 260, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of view.nodes) if (linked.has(n.id)) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
    for (const e of view.edges) g.setEdge(e.source, e.target);
    dagre.layout(g);
    const minY = Math.min(...connected.map((n) => g.node(n.id).y));
    let bottom = top;
    for (const n of connected) {
      const p = g.node(n.id);
      out[n.name] = { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - minY + top) };
      bottom = Math.max(bottom, out[n.name].y + NODE_HEIGHT + GAP_Y);
    }
    top = bottom;
  }
  missing
    .filter((n) => !linked.has(n.id))
    .forEach((n, i) => {
      out[n.name] = { x: (i % GRID_COLUMNS) * (NODE_WIDTH + LOOSE_GAP_X), y: top + Math.floor(i / GRID_COLUMNS) * (NODE_HEIGHT + GAP_Y) };
    });
  return out;
}

/**
 * Each node's layer in the data flow: sources first, then what they feed, and so on (Kahn's
 * algorithm; nodes on cycles go after the layers they are reached from).
 */
export function layersOf(view: TopologyView): Map<string, number> {
  const incoming = new Map<string, number>(view.nodes.map((n) => [n.id, 0]));
  const out = new Map<string, string[]>();
  for (const e of view.edges) {
    incoming.set(e.target, (incoming.get(e.target) ?? 0) + 1);
    out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  }
  const layer = new Map<string, number>();
  let frontier = [...incoming].filter(([, n]) => n === 0).map(([id]) => id);
  let depth = 0;
  while (layer.size < incoming.size) {
    if (frontier.length === 0) {
      // Only cycles are left: start from one of their nodes.
      const next = [...incoming.keys()].find((id) => !layer.has(id));
      if (next === undefined) break;
      frontier = [next];
    }
    const following: string[] = [];
    for (const id of frontier) {
      if (layer.has(id)) continue;
      layer.set(id, depth);
      for (const t of out.get(id) ?? []) {
        const left = (incoming.get(t) ?? 1) - 1;
        incoming.set(t, left);
        if (left <= 0 && !layer.has(t)) following.push(t);
      }
    }
    frontier = following;
    depth++;
  }
  return layer;
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
  return /^[^:\s]+:[^:\s]+$/.test(text.trim());
}

/** A short human number: 1.2k, 35, 0.4. */
/** Why `text` is not a channel, in words, or null when it is one (or is still empty). */
export function channelProblem(text: string): string | null {
  const t = text.trim();
  if (!t || validChannel(t)) return null;
  return t.includes(":") ? "a channel is database:table: two names without spaces, one colon between them" : "a channel is database:table (a colon between them)";
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

export interface Point {
  x: number;
  y: number;
}

/** Where the line from the centre of the box at `at` (NODE_WIDTH × NODE_HEIGHT) toward `to` leaves it. */
export function borderPoint(at: Point, to: Point): Point {
  const [cx, cy] = [at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2];
  const [dx, dy] = [to.x - cx, to.y - cy];
  if (dx === 0 && dy === 0) return { x: cx, y: cy };
  const s = Math.min(dx === 0 ? Infinity : NODE_WIDTH / 2 / Math.abs(dx), dy === 0 ? Infinity : NODE_HEIGHT / 2 / Math.abs(dy));
  return { x: cx + dx * s, y: cy + dy * s };
}

/**
 * A floating edge between two nodes (top-left corners `a` and `b`): a straight line from border
 * to border along the line between their centres, whichever side each lies on, moved `offset`
 * pixels to its left (seen from `a`) so that the edges of both directions run side by side.
 * Answers the ends and the middle.
 */
export function floatingEdge(a: Point, b: Point, offset: number): { from: Point; to: Point; mid: Point } {
  const [ca, cb] = [{ x: a.x + NODE_WIDTH / 2, y: a.y + NODE_HEIGHT / 2 }, { x: b.x + NODE_WIDTH / 2, y: b.y + NODE_HEIGHT / 2 }];
  const len = Math.hypot(cb.x - ca.x, cb.y - ca.y) || 1;
  // The left normal of a → b in screen coordinates (y grows downward).
  const [nx, ny] = [((cb.y - ca.y) / len) * offset, (-(cb.x - ca.x) / len) * offset];
  const [from, to] = [borderPoint(a, cb), borderPoint(b, ca)];
  const [f, t] = [{ x: from.x + nx, y: from.y + ny }, { x: to.x + nx, y: to.y + ny }];
  return { from: f, to: t, mid: { x: (f.x + t.x) / 2, y: (f.y + t.y) / 2 } };
}

/** The size an edge label takes at most (CSS: `.topo-edge-label`, max-width 220 px). */
const LABEL = { width: 170, height: 36 };

/** How far each edge of a pair (a → b and b → a) runs beside the line between the nodes. */
export const PAIR_GAP = 5;

/**
 * How far from the line between `a` and `b` (along its normal) a label's centre goes to lie
 * just beside that line, on the side its own edge of a pair runs: where labels on the lines
 * would cover one another (a short pair), each sits against its own line instead.
 */
export function labelOffset(a: Point, b: Point): number {
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const [nx, ny] = [(b.y - a.y) / len, (a.x - b.x) / len];
  return Math.abs(nx) * (LABEL.width / 2) + Math.abs(ny) * (LABEL.height / 2) + 6;
}

/** The size of a label folded to its arrow and channel count (no spot along its edge is free
 * of nodes): CSS `.topo-edge-label.compact`. */
export const COMPACT = { width: 34, height: 20 };

/** The point a fraction `t` of the way along a line. */
export function along(line: { from: Point; to: Point }, t: number): Point {
  return { x: line.from.x + (line.to.x - line.from.x) * t, y: line.from.y + (line.to.y - line.from.y) * t };
}

/** An edge as label placement sees it: its nodes' top-left corners, and whether it is one of a pair. */
export interface LabelledEdge {
  id: string;
  a: Point;
  b: Point;
  paired: boolean;
  /** The label's first line (its channels), which sets its width. */
  text: string;
}

/** A label's size as CSS draws it (`.topo-edge-label`: 11 px bold, 6 px padding, at most 220 px
 * wide, two lines), estimated from its text without measuring it. */
export function labelSize(text: string): { width: number; height: number } {
  return { width: Math.min(LABEL.width + 50, Math.max(60, text.length * 6.3 + 14)), height: LABEL.height };
}

/** Covering another label hides its words; covering a node's edge hides less. */
export const LABEL_WEIGHT = 4;

/** A label never covers a node while any spot along its edge is free of nodes. */
export const NODE_WEIGHT = 1_000_000;

/** Where an edge's label goes: a fraction of the way along its own line, on it or (a pair's,
 * where on it would cover a label) just beside it on its own side; folded to its arrow and
 * channel count when every spot would cover a node. */
export interface Spot {
  t: number;
  beside: boolean;
  compact: boolean;
}

/** The line a label is placed along: the edge's own, or beside it. */
export function labelLine(a: Point, b: Point, paired: boolean, beside: boolean): { from: Point; to: Point; mid: Point } {
  return floatingEdge(a, b, beside ? labelOffset(a, b) : paired ? PAIR_GAP : 0);
}

/** Where along its edge a label may go, best first: a pair's labels nearer their own source. */
export const SPOTS = { paired: [0.4, 0.3, 0.5, 0.22, 0.6, 0.7, 0.15, 0.8], single: [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.8] };

/** Where a label goes when nothing is in its way. */
export function usualSpot(paired: boolean): number {
  return (paired ? SPOTS.paired : SPOTS.single)[0];
}

function overlap(p: Point, w: number, h: number, q: Point, qw: number, qh: number): number {
  const dx = Math.min(p.x + w / 2, q.x + qw / 2) - Math.max(p.x - w / 2, q.x - qw / 2);
  const dy = Math.min(p.y + h / 2, q.y + qh / 2) - Math.max(p.y - h / 2, q.y - qh / 2);
  return dx > 0 && dy > 0 ? dx * dy : 0;
}

/** A box centred at `at`, and what covering it costs per square pixel. */
interface Box {
  at: Point;
  width: number;
  height: number;
  weight: number;
  /** The last lookup that met this box (a box spans several cells; it counts once). */
  seen: number;
}

/** A grid cell's side: wider than any label or node, so that a box lies in at most four cells. */
const CELL = 256;

/**
 * The boxes already on the canvas (nodes, labels placed), by the grid cells they touch: a label's
 * spot is weighed against the boxes near it only, so placing every label is linear in the edges
 * (it runs when the view opens and on every refresh, at hundreds of edges).
 */
class BoxGrid {
  private cells = new Map<number, Box[]>();
  private lookups = 0;

  private static key(cx: number, cy: number): number {
    return cx * 1_000_003 + cy;
  }

  private span(at: Point, width: number, height: number, visit: (key: number) => void): void {
    const [x0, x1] = [Math.floor((at.x - width / 2) / CELL), Math.floor((at.x + width / 2) / CELL)];
    const [y0, y1] = [Math.floor((at.y - height / 2) / CELL), Math.floor((at.y + height / 2) / CELL)];
    for (let cx = x0; cx <= x1; cx++) for (let cy = y0; cy <= y1; cy++) visit(BoxGrid.key(cx, cy));
  }

  add(box: Box): void {
    this.span(box.at, box.width, box.height, (k) => {
      const cell = this.cells.get(k);
      if (cell) cell.push(box);
      else this.cells.set(k, [box]);
    });
  }

  /** What a box at `at` would cover of the boxes here, weighed. */
  covered(at: Point, width: number, height: number): number {
    const lookup = ++this.lookups;
    let covered = 0;
    this.span(at, width, height, (k) => {
      for (const q of this.cells.get(k) ?? []) {
        if (q.seen === lookup) continue;
        q.seen = lookup;
        covered += q.weight * overlap(at, width, height, q.at, q.width, q.height);
      }
    });
    return covered;
  }
}

/**
 * Where each edge's label goes, on the edge's own line (or, for a pair, just beside it on its
 * own side): the first of its spots that covers no label placed before it and no node, else the
 * one that covers least, and never a node while a spot free of nodes exists; with none, the
 * label is folded small at the middle of its line.
 * Edges are taken in the order of their ids, so the same topology always gets the same places.
 */
export function placeLabels(edges: LabelledEdge[], nodes: Point[]): Map<string, Spot> {
  const out = new Map<string, Spot>();
  const grid = new BoxGrid();
  for (const n of nodes) grid.add({ at: { x: n.x + NODE_WIDTH / 2, y: n.y + NODE_HEIGHT / 2 }, width: NODE_WIDTH, height: NODE_HEIGHT, weight: NODE_WEIGHT, seen: 0 });
  for (const e of [...edges].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    const { width, height } = labelSize(e.text);
    const line = labelLine(e.a, e.b, e.paired, false);
    let best = { t: usualSpot(e.paired), beside: false, covered: Infinity, at: line.mid };
    // On the line first; a pair's labels may then go beside their own line.
    const lines = e.paired ? [{ beside: false, line }, { beside: true, line: labelLine(e.a, e.b, true, true) }] : [{ beside: false, line }];
    search: for (const { beside, line: l } of lines) {
      for (const t of e.paired ? SPOTS.paired : SPOTS.single) {
        const at = along(l, t);
        const covered = grid.covered(at, width, height);
        if (covered < best.covered) best = { t, beside, covered, at };
        if (covered === 0) break search;
      }
    }
    if (best.covered >= NODE_WEIGHT) {
      grid.add({ at: line.mid, width: COMPACT.width, height: COMPACT.height, weight: LABEL_WEIGHT, seen: 0 });
      out.set(e.id, { t: 0.5, beside: false, compact: true });
      continue;
    }
    grid.add({ at: best.at, width, height, weight: LABEL_WEIGHT, seen: 0 });
    out.set(e.id, { t: best.t, beside: best.beside, compact: false });
  }
  return out;
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
