//! Paging state of a server-paged grid: a bounded window of rows that grows by key-anchored
//! pages as the user scrolls, and jumps to the first or last page. Pure: no I/O here.
import type { Page, PageAnchor, SortSpec } from "../platform/ipc";
import { count, grouped } from "../text/count";

export type Row = Record<string, unknown>;

export interface PagingWindow {
  rows: Row[];
  /** Index of rows[0] in the whole ordered result, when known. */
  start: number | null;
  /** Records in the table (unfiltered), when known. */
  total: number | null;
  atStart: boolean;
  atEnd: boolean;
  columns: string[];
}

export type Direction = "replace" | "append" | "prepend";

export const PAGE_SIZE = 200;
/** Rows kept in memory at most; scrolling further drops rows at the far end. */
export const MAX_WINDOW = 20_000;

export function emptyWindow(): PagingWindow {
  return { rows: [], start: null, total: null, atStart: true, atEnd: true, columns: [] };
}

function mergeColumns(a: string[], b: string[]): string[] {
  if (a.length === 0) return b;
  const out = [...a];
  for (const c of b) {
    if (out.includes(c)) continue;
    // New attributes go before the server timestamps, which stay last.
    const ts = out.findIndex((x) => x.startsWith("__"));
    out.splice(ts === -1 ? out.length : ts, 0, c);
  }
  return out;
}

/** Folds a fetched page into the window. `anchor` is what the page was asked with. */
export function applyPage(w: PagingWindow, page: Page, anchor: PageAnchor, direction: Direction, max = MAX_WINDOW): PagingWindow {
  return placed(folded(w, page, anchor, direction, max));
}

/**
 * A window that reaches the table's end, with the table's count known (no filter), starts
 * `total - rows` in: a page read from a key (which carries no offset) gets its place this way.
 */
function placed(w: PagingWindow): PagingWindow {
  return w.start === null && w.atEnd && w.total !== null ? { ...w, start: Math.max(0, w.total - w.rows.length) } : w;
}

function folded(w: PagingWindow, page: Page, anchor: PageAnchor, direction: Direction, max: number): PagingWindow {
  const total = page.total ?? null;
  if (direction === "replace") {
    const start = page.offset ?? null;
    return {
      rows: page.rows as Row[],
      start,
      total,
      atStart: anchor.kind === "first" || start === 0 || (anchor.kind === "last" && page.atEnd),
      atEnd: anchor.kind === "last" || page.atEnd,
      columns: page.columns,
    };
  }
  if (direction === "append") {
    let rows = w.rows.concat(page.rows as Row[]);
    let start = w.start;
    let atStart = w.atStart;
    if (rows.length > max) {
      const drop = rows.length - max;
      rows = rows.slice(drop);
      start = start === null ? null : start + drop;
      atStart = false;
    }
    return { rows, start, total, atStart, atEnd: page.atEnd, columns: mergeColumns(w.columns, page.columns) };
  }
  let rows = (page.rows as Row[]).concat(w.rows);
  let start = w.start === null ? null : Math.max(0, w.start - page.rows.length);
  const atStart = page.atEnd || start === 0;
  if (atStart && start === null) start = 0;
  let atEnd = w.atEnd;
  if (rows.length > max) {
    rows = rows.slice(0, max);
    atEnd = false;
  }
  return { rows, start, total, atStart, atEnd, columns: mergeColumns(page.columns, w.columns) };
}

/** Whether pages move by primary key (true) or by offset (a sort on another attribute). */
export function pagesByKey(primaryKey: string, sort: SortSpec | null): boolean {
  return !sort || sort.attribute === primaryKey;
}

/** The anchor of the page after the window, or null at the end. */
export function nextAnchor(w: PagingWindow, primaryKey: string, sort: SortSpec | null): PageAnchor | null {
  if (w.atEnd || w.rows.length === 0) return null;
  if (pagesByKey(primaryKey, sort)) return { kind: "after", key: w.rows[w.rows.length - 1][primaryKey] };
  if (w.start === null) return null;
  return { kind: "offset", offset: w.start + w.rows.length };
}

/** The anchor and size of the page before the window, or null at the start. */
export function prevAnchor(w: PagingWindow, primaryKey: string, sort: SortSpec | null, size = PAGE_SIZE): { anchor: PageAnchor; limit: number } | null {
  if (w.atStart || w.rows.length === 0) return null;
  if (pagesByKey(primaryKey, sort)) return { anchor: { kind: "before", key: w.rows[0][primaryKey] }, limit: size };
  if (w.start === null || w.start === 0) return null;
  const offset = Math.max(0, w.start - size);
  return { anchor: { kind: "offset", offset }, limit: w.start - offset };
}

/** Rows read again above the first one in view when the window is read again in place. */
const REREAD_ABOVE = 50;
/** The most rows one page request may ask for (the studio's server side clamps to it). */
const MAX_PAGE = 10_000;

/**
 * How to read the window again where the user is (after a save, a delete, an import, Reload):
 * the rows from index `from` on are read again by `anchor` (`limit` of them, the rows in view
 * and a margin); the rows above stay, so the rows in view keep their indices and the scroll
 * position holds. An empty window starts over from the first page.
 */
export function rereadPlan(w: PagingWindow, firstVisible: number, lastVisible: number, primaryKey: string, sort: SortSpec | null): { anchor: PageAnchor; from: number; limit: number } {
  const n = w.rows.length;
  if (n === 0) return { anchor: { kind: "first" }, from: 0, limit: PAGE_SIZE };
  const lo = Math.max(0, Math.min(firstVisible, n - 1) - REREAD_ABOVE);
  const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, Math.max(lastVisible, firstVisible) - lo + 1 + REREAD_ABOVE));
  if (lo === 0 && w.atStart) return { anchor: { kind: "first" }, from: 0, limit };
  // By key, the row above the first one read again anchors the page (row 0 stays when the
  // window does not begin at the table's start: nothing above it is at hand).
  if (pagesByKey(primaryKey, sort)) {
    const from = Math.max(1, lo);
    return { anchor: { kind: "after", key: w.rows[from - 1][primaryKey] }, from, limit };
  }
  if (w.start !== null) return { anchor: { kind: "offset", offset: w.start + lo }, from: lo, limit };
  // Read from the end without a count (filtered, sorted on another attribute): no offset is
  // known and no page joins it, so the window is that one page, read again whole.
  return { anchor: { kind: "last" }, from: 0, limit: Math.min(MAX_PAGE, n) };
}

/** Folds a page read by `rereadPlan` into the window: rows above `from` kept, the rest replaced. */
export function applyReread(w: PagingWindow, page: Page, anchor: PageAnchor, from: number, max = MAX_WINDOW): PagingWindow {
  if (from === 0) return applyPage(emptyWindow(), page, anchor, "replace", max);
  let rows = w.rows.slice(0, from).concat(page.rows as Row[]);
  let atEnd = page.atEnd;
  // Trimmed below: the rows in view lie within `from` + the page's margin.
  if (rows.length > max) {
    rows = rows.slice(0, max);
    atEnd = false;
  }
  const start = w.start ?? (page.offset != null ? page.offset - from : null);
  return placed({ rows, start, total: page.total ?? null, atStart: w.atStart, atEnd, columns: mergeColumns(w.columns, page.columns) });
}

/** "rows 1–200 of 100,000" for the visible range (indices into the window). */
export function positionLabel(w: PagingWindow, firstVisible: number, lastVisible: number): string {
  if (w.rows.length === 0) return w.total === 0 ? "no records" : "no rows";
  const fmt = grouped;
  const lo = Math.max(0, Math.min(firstVisible, w.rows.length - 1));
  const hi = Math.max(lo, Math.min(lastVisible, w.rows.length - 1));
  const of = w.total !== null ? ` of ${fmt(w.total)}` : "";
  if (w.start === null) return `${count(hi - lo + 1, "row")} shown${of}`;
  return `rows ${fmt(w.start + lo + 1)}–${fmt(w.start + hi + 1)}${of}`;
}

/** Should the grid fetch more, given the visible range? */
export function wantsMore(w: PagingWindow, firstVisible: number, lastVisible: number, margin = 50): "append" | "prepend" | null {
  if (!w.atEnd && lastVisible >= w.rows.length - margin) return "append";
  if (!w.atStart && firstVisible <= margin) return "prepend";
  return null;
}
