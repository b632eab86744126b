//! Where each edge's label goes: on (or beside) its own line, clear of the other labels and of
//! every node, placed in linear time over a grid of what is already on the canvas.
import { NODE_HEIGHT, NODE_WIDTH, along, floatingEdge, type Point } from "./geometry";

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


/** An edge as label placement sees it: its nodes' top-left corners, and whether it is one of a pair. */
export interface LabelledEdge {
  id: string;
  a: Point;
  b: Point;
  paired: boolean;
  /** The label's first line (its channels), which sets its width. */
  text: string;
}

/** The narrowest a label is: its second line (rate, lag in time and its sparkline) reads in it. */
export const LABEL_MIN_WIDTH = 128;

/** A label's size as drawn (`.topo-edge-label`: 11 px bold, 6 px padding, two lines that do not
 * wrap): estimated from its first line's text, and given to the label as its width, so that the
 * box drawn is the box placed (what does not fit ends in an ellipsis; the tooltip has it all). */
export function labelSize(text: string): { width: number; height: number } {
  return { width: Math.min(LABEL.width + 50, Math.max(LABEL_MIN_WIDTH, text.length * 6.3 + 14)), height: LABEL.height };
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
