//! Which rows of a list of fixed-height rows are on screen: arithmetic on the scroll position,
//! with no per-row bookkeeping (a tail holds up to 50,000 rows and changes four times a second).

/** Rows `[first, last)` to draw for a list scrolled to `top` in a viewport `height` pixels high,
 * `overscan` rows beyond each edge, clamped to `count`. */
export function fixedRange(top: number, height: number, rowHeight: number, count: number, overscan: number): { first: number; last: number } {
  if (count <= 0 || rowHeight <= 0) return { first: 0, last: 0 };
  const first = Math.max(0, Math.floor(Math.max(0, top) / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((Math.max(0, top) + Math.max(0, height)) / rowHeight) + overscan);
  return { first: Math.min(first, last), last };
}
