//! Which rows of a list of fixed-height rows are on screen (arithmetic on the scroll position,
//! no per-row bookkeeping: a tail holds up to 50,000 rows and changes four times a second), and
//! in which frame each band of them takes new rows.

/** Rows `[first, last)` to draw for a list scrolled to `top` in a viewport `height` pixels high,
 * `overscan` rows beyond each edge, clamped to `count`. */
export function fixedRange(top: number, height: number, rowHeight: number, count: number, overscan: number): { first: number; last: number } {
  if (count <= 0 || rowHeight <= 0) return { first: 0, last: 0 };
  const first = Math.max(0, Math.floor(Math.max(0, top) / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((Math.max(0, top) + Math.max(0, height)) / rowHeight) + overscan);
  return { first: Math.min(first, last), last };
}

/** Rows of the list repainted per frame when arrivals replace every row on screen. WebKitGTK
 * paints in software: a whole list of text (~620 px) costs ~17 ms a frame, a band of 6 rows
 * (~155 px) under 6 ms (measured in the studio's webview), so a busy tail's update is painted
 * band by band over a few frames instead of in one long one. */
export const BAND_ROWS = 6;

/** Whether every row now on screen (`after`, by seq) is new: none of them was on screen before
 * (`before`). Then the update replaces the whole screen and is drawn band by band. */
export function replacedAll(before: readonly number[], after: readonly number[]): boolean {
  if (!after.length) return false;
  const was = new Set(before);
  return after.every((seq) => !was.has(seq));
}

/** Rows asked for beyond each edge of the screen, so that a short scroll needs no new page. */
export const PORT_MARGIN = 20;

/** The page to ask the studio for so that rows `[first, last)` in `order` are on it, with
 * PORT_MARGIN rows beyond each edge. */
export function portAround<O extends string>(order: O, first: number, last: number): { order: O; first: number; count: number } {
  const from = Math.max(0, first - PORT_MARGIN);
  return { order, first: from, count: last + PORT_MARGIN - from };
}

/** Whether a page of rows (`port`, in its order) holds every row of `[first, last)` in `order`. */
export function covers(port: { order: string; first: number; count: number }, order: string, first: number, last: number): boolean {
  return first >= last || (port.order === order && port.first <= first && port.first + port.count >= last);
}

/**
 * What each band of the list draws from: `sources[b]` is the rows the b-th band of rows on
 * screen was last drawn from. When `rows` replaces every row on screen (`wholesale`: at least as
 * many arrivals, by `arrivedSince`, as rows on screen), only the first band takes it now and the
 * others keep theirs until `nextBand` hands it on, one band a frame; any other change (scroll,
 * filter, order, a few arrivals) is drawn whole at once, so a band never shows a row out of step
 * with its neighbours except for those few frames of a list whose every row changed anyway.
 */
export function bandSources<T>(sources: readonly T[], rows: T, bands: number, wholesale: boolean): T[] {
  const out: T[] = [];
  for (let b = 0; b < bands; b++) out.push(b === 0 || !wholesale || sources[b] === undefined ? rows : sources[b]);
  return out;
}

/** The bands after one more frame: the first band still behind `rows` takes it (unchanged when
 * none is behind). */
export function nextBand<T>(sources: readonly T[], rows: T): T[] {
  const stale = sources.findIndex((s) => s !== rows);
  if (stale < 0) return sources as T[];
  const out = sources.slice();
  out[stale] = rows;
  return out;
}
