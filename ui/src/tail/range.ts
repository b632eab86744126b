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

/** The characters of monospace text that fit `width` pixels at `fontPx` (at least one more, so
 * that the cell's own ellipsis still shows where the text goes on). Monospace advances are about
 * 0.6 em; 0.55 errs towards one character too many. */
export function fittingChars(width: number, fontPx: number): number {
  if (width <= 0 || fontPx <= 0) return 0;
  return Math.ceil(width / (fontPx * 0.55)) + 1;
}

/** `text` cut to `chars` characters (unchanged when it fits or when `chars` is 0: not measured). */
export function cutTo(text: string, chars: number): string {
  return chars > 0 && text.length > chars ? text.slice(0, chars) : text;
}
