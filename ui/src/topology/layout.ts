//! Where new nodes go: dagre (left to right, the way data flows) around the ones already
//! placed, a grid in layer order for large topologies, loose nodes on a grid below.
import dagre from "@dagrejs/dagre";
import type { Position, TopologyView } from "../platform";
import { NODE_HEIGHT, NODE_WIDTH } from "./geometry";

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
