//! The canvas's nodes and edges as @xyflow/react draws them, built from the topology (pure),
//! and merged into the previous ones so that whatever did not change keeps its identity: a
//! refresh or a drag then re-renders only the nodes and edges that changed.
import { MarkerType, Position as Side, type Edge, type Node, type NodeHandle } from "@xyflow/react";
import type { Position, TopoEdge, TopoNode, TopologyView } from "../platform";
import { NODE_HEIGHT, NODE_WIDTH, PAIR_GAP, edgeRate, equalJson, floatingEdge, merge, nodeKey, placeLabels, usualSpot, type Point, type Rates, type Spot } from "./model";

export interface NodeData extends Record<string, unknown> {
  node: TopoNode;
  /** Transactions written to its log per second; null when the server reports no log position
   * (HarperDB). */
  rate: number | null;
  dim: boolean;
  reached: boolean;
}

export interface EdgeData extends Record<string, unknown> {
  edge: TopoEdge;
  sourceName: string;
  targetName: string;
  /** Messages per second; null when the links report no counts (HarperDB's). */
  rate: number | null;
  /** The opposite edge exists too: the two are drawn side by side, labels apart. */
  paired: boolean;
  /** How far along the edge its label goes (0–1), placed clear of other labels and nodes. */
  labelAt: number;
  /** The label lies beside its line (a pair's, where on it would cover a label). */
  labelBeside: boolean;
  /** The label is folded to its arrow and channel count (no spot along the edge is free). */
  labelCompact: boolean;
  dim: boolean;
}

export interface Selection {
  channel: string | null;
  node: string | null;
  edge: string | null;
}

/**
 * Where every node's two handles are (as `InstanceNode` draws them: the target in the middle of
 * the left side, the source on the right). Given upfront, edges are drawn in the first render,
 * without waiting for xyflow to measure every handle, and a refreshed node keeps them.
 */
const HANDLES: NodeHandle[] = [
  { type: "target", position: Side.Left, x: -4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 },
  { type: "source", position: Side.Right, x: NODE_WIDTH - 4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 },
];

const MEASURED = { width: NODE_WIDTH, height: NODE_HEIGHT };

/** The channels an edge carries, once each (a channel both sides dial is listed twice in it). */
export function edgeChannels(e: TopoEdge): string[] {
  return [...new Set(e.channels.map((c) => c.channel))];
}

/** An edge label's first line: its channels (and HarperDB's full-mesh badge), as FlowEdge draws it. */
export function labelText(e: TopoEdge): string {
  return `${e.mesh ? "full mesh " : ""}${edgeChannels(e).join(", ")}${e.cycle ? " ↻" : ""}`;
}

const ORIGIN: Position = { x: 0, y: 0 };
const ARROW = { type: MarkerType.ArrowClosed, width: 18, height: 18 };

export function toFlow(view: Pick<TopologyView, "nodes" | "edges" | "flows">, positions: Record<string, Position>, rates: Rates, sel: Selection) {
  const flow = sel.channel ? view.flows.find((f) => f.channel === sel.channel) : undefined;
  const onChannel = new Set(flow?.edges ?? []);
  const touched = new Set((flow?.edges ?? []).flatMap((id) => id.split("->")));
  const reached = new Set<string>(sel.node && flow ? [sel.node, ...(flow.reach[sel.node] ?? [])] : []);
  const names = new Map(view.nodes.map((n) => [n.id, n.name]));
  const ids = new Set(view.edges.map((e) => e.id));
  const uncounted = new Set(view.nodes.filter((n) => n.serverKind === "harperdb").map((n) => n.id));
  const nodes: Node<NodeData>[] = view.nodes.map((n) => ({
    id: n.id,
    type: "instance",
    position: positions[n.name] ?? ORIGIN,
    // Fixed, so the minimap and fitView know every node's size before it is measured.
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    handles: HANDLES,
    // As the DOM will measure it (the node draws itself at exactly this size): xyflow finds
    // nothing changed after measuring and does not send every node through a second render.
    measured: MEASURED,
    selected: n.id === sel.node,
    ariaLabel: `${n.name}, ${n.kind === "ghost" ? "not registered" : n.online ? "online" : "offline"}`,
    data: { node: n, rate: n.logHead === undefined ? null : (rates[nodeKey(n.id)] ?? 0), dim: !!sel.channel && !touched.has(n.id), reached: reached.has(n.id) },
  }));
  const paired = (e: TopoEdge) => ids.has(`${e.target}->${e.source}`);
  const edges: Edge<EdgeData>[] = view.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    type: "flow",
    selected: e.id === sel.edge,
    markerEnd: ARROW,
    ariaLabel: `${names.get(e.source) ?? e.source} to ${names.get(e.target) ?? e.target}: ${edgeChannels(e).join(", ")}, ${e.state}`,
    data: {
      edge: e,
      sourceName: names.get(e.source) ?? e.source,
      targetName: names.get(e.target) ?? e.target,
      rate: e.channels.every((c) => uncounted.has(c.dialer)) ? null : edgeRate(e, rates),
      paired: paired(e),
      labelAt: usualSpot(paired(e)),
      labelBeside: false,
      labelCompact: false,
      dim: !!sel.channel && (!onChannel.has(e.id) || (reached.size > 0 && !reached.has(e.source))),
    },
  }));
  return { nodes, edges };
}

/** Edges given their labels' places, as `placeLabels` finds them (the edge itself when its label
 * stays where it is; the same object for the same edge and place, refresh after refresh). */
const placedCache = new WeakMap<Edge<EdgeData>, { spot: Spot; edge: Edge<EdgeData> }>();

/**
 * `edges` with each label placed clear of the others and of the nodes at `at` (node positions
 * by id). Done where labels are drawn (zoomed in), and from the stored positions, not on every
 * frame of a drag.
 */
export function withPlacedLabels(edges: Edge<EdgeData>[], at: Map<string, Point>): Edge<EdgeData>[] {
  const origin = { x: 0, y: 0 };
  const spots = placeLabels(
    edges.flatMap((e) => (e.data ? [{ id: e.id, a: at.get(e.source) ?? origin, b: at.get(e.target) ?? origin, paired: e.data.paired, text: labelText(e.data.edge) }] : [])),
    [...at.values()],
  );
  return edges.map((e) => {
    const spot = spots.get(e.id);
    const same = (s: Spot, t: number, beside: boolean, compact: boolean) => s.t === t && s.beside === beside && s.compact === compact;
    if (!e.data || spot === undefined || same(spot, e.data.labelAt, e.data.labelBeside, e.data.labelCompact)) return e;
    const known = placedCache.get(e);
    if (known && same(known.spot, spot.t, spot.beside, spot.compact)) return known.edge;
    const edge = { ...e, data: { ...e.data, labelAt: spot.t, labelBeside: spot.beside, labelCompact: spot.compact } };
    placedCache.set(e, { spot, edge });
    return edge;
  });
}

function sameNode(a: Node<NodeData>, b: Node<NodeData>): boolean {
  return (
    a.position.x === b.position.x &&
    a.position.y === b.position.y &&
    a.selected === b.selected &&
    a.data.dim === b.data.dim &&
    a.data.reached === b.data.reached &&
    a.data.rate === b.data.rate &&
    equalJson(a.data.node, b.data.node)
  );
}

function sameEdge(a: Edge<EdgeData>, b: Edge<EdgeData>): boolean {
  const [x, y] = [a.data, b.data];
  return (
    a.selected === b.selected &&
    !!x &&
    !!y &&
    x.rate === y.rate &&
    x.dim === y.dim &&
    x.paired === y.paired &&
    x.labelAt === y.labelAt &&
    x.labelCompact === y.labelCompact &&
    x.labelBeside === y.labelBeside &&
    x.sourceName === y.sourceName &&
    x.targetName === y.targetName &&
    equalJson(x.edge, y.edge)
  );
}

const byId = (x: { id: string }) => x.id;
export const mergeNodes = (prev: Node<NodeData>[], next: Node<NodeData>[]) => merge(prev, next, byId, sameNode);
export const mergeEdges = (prev: Edge<EdgeData>[], next: Edge<EdgeData>[]) => merge(prev, next, byId, sameEdge);

/** How an edge looks (its CSS classes besides `topo-edge-path`): state, failing, dim, selected. */
export function edgeLook(data: EdgeData, selected: boolean): string {
  const e = data.edge;
  return `${e.state}${e.failing ? " failing" : ""}${data.dim ? " dim" : ""}${selected ? " selected" : ""}`;
}

/** One edge as the zoomed-out canvas draws it: a straight segment from border to border. */
export interface Segment {
  id: string;
  from: Point;
  to: Point;
}

/**
 * Every edge zoomed out: a segment each (for hit-testing a click) and one SVG path per look,
 * so that a hundred nodes and three hundred edges cost a handful of elements rather than
 * three hundred components. Edges whose ends are not placed are left out.
 */
export function farEdges(nodes: Node<NodeData>[], edges: Edge<EdgeData>[]): { segments: Segment[]; paths: { look: string; d: string }[] } {
  const at = new Map(nodes.map((n) => [n.id, n.position]));
  const segments: Segment[] = [];
  const byLook = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = [at.get(e.source), at.get(e.target)];
    if (!a || !b || !e.data) continue;
    const line = floatingEdge(a, b, e.data.paired ? PAIR_GAP : 0);
    segments.push({ id: e.id, from: line.from, to: line.to });
    const look = edgeLook(e.data, !!e.selected);
    const d = `M${line.from.x.toFixed(1)},${line.from.y.toFixed(1)}L${line.to.x.toFixed(1)},${line.to.y.toFixed(1)}`;
    const list = byLook.get(look);
    if (list) list.push(d);
    else byLook.set(look, [d]);
  }
  return { segments, paths: [...byLook].map(([look, ds]) => ({ look, d: ds.join("") })) };
}

/** Whether the zoomed-out layer draws `a` and `b` alike: the same edges between the same nodes,
 * in the same order, each of the same look (a rate or a count it does not draw may differ). */
export function drawnAlikeFar(a: Edge<EdgeData>[], b: Edge<EdgeData>[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (x.id !== y.id || x.source !== y.source || x.target !== y.target || !x.data || !y.data || x.data.paired !== y.data.paired) return false;
    if (edgeLook(x.data, !!x.selected) !== edgeLook(y.data, !!y.selected)) return false;
  }
  return true;
}

/** The nodes being dragged, their ids joined (empty when none): stable for a whole drag. */
export function draggingKey(nodes: Node<NodeData>[]): string {
  return nodes.filter((n) => n.dragging).map((n) => n.id).join("\n");
}

/** `edges` split into those with an end among `moving` (node ids) and the rest, order kept. */
export function splitByMoving(edges: Edge<EdgeData>[], moving: Set<string>): { still: Edge<EdgeData>[]; moving: Edge<EdgeData>[] } {
  if (moving.size === 0) return { still: edges, moving: [] };
  const still: Edge<EdgeData>[] = [];
  const touched: Edge<EdgeData>[] = [];
  for (const e of edges) (moving.has(e.source) || moving.has(e.target) ? touched : still).push(e);
  return { still, moving: touched };
}

/** The distance from `p` to the segment `from`–`to`. */
export function distanceToSegment(p: Point, from: Point, to: Point): number {
  const [dx, dy] = [to.x - from.x, to.y - from.y];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - from.x) * dx + (p.y - from.y) * dy) / len2));
  return Math.hypot(p.x - (from.x + t * dx), p.y - (from.y + t * dy));
}

/** The segment nearest `p` no farther than `tolerance`, or null. */
export function nearestSegment(p: Point, segments: Segment[], tolerance: number): string | null {
  let best: string | null = null;
  let dist = tolerance;
  for (const s of segments) {
    const d = distanceToSegment(p, s.from, s.to);
    if (d <= dist) {
      dist = d;
      best = s.id;
    }
  }
  return best;
}
