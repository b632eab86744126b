//! The canvas's geometry: a node's box, where a line between two nodes leaves their borders,
//! and points along it.

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 96;

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

/** The point a fraction `t` of the way along a line. */
export function along(line: { from: Point; to: Point }, t: number): Point {
  return { x: line.from.x + (line.to.x - line.from.x) * t, y: line.from.y + (line.to.y - line.from.y) * t };
}
