//! How a grid cell shows a value: NULL, a missing attribute and an empty string each look
//! different; numbers align right; a value too long for its column is whole in its tooltip.
//! Column widths: fitted to content on double-click, kept per table.

/** Server timestamps, epoch milliseconds, shown as date-times. */
export const TIMESTAMPS = ["__createdtime__", "__updatedtime__"];

export type CellKind = "null" | "missing" | "empty" | "number" | "bool" | "date" | "json" | "text";

export interface CellView {
  text: string;
  kind: CellKind;
  /** The whole value when the cell may cut it (JSON, long text), or what a marker means. */
  title?: string;
}

/** Past this many characters a cell's text is cut; its tooltip has the whole value. */
const CELL_CHARS = 200;
/** A tooltip shows at most this much of a value. */
const TITLE_CHARS = 4000;

/** Local date-time with milliseconds, `YYYY-MM-DD hh:mm:ss.mmm`. */
export function localDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The local zone at `ms` as an offset from UTC: `UTC+01:00`. */
export function zoneLabel(ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `UTC${off < 0 ? "-" : "+"}${p(off / 60)}:${p(off % 60)}`;
}

export function cellView(v: unknown, column?: string): CellView {
  if (v === undefined) return { text: "—", kind: "missing", title: "this record has no such attribute" };
  if (v === null) return { text: "NULL", kind: "null", title: "null" };
  if (v === "") return { text: "\"\"", kind: "empty", title: "empty text" };
  if (typeof v === "number") {
    if (column && TIMESTAMPS.includes(column)) return { text: localDateTime(v), kind: "date", title: `${localDateTime(v)} ${zoneLabel(v)} · ${new Date(v).toISOString()} · ${v}` };
    return { text: String(v), kind: "number" };
  }
  if (typeof v === "boolean") return { text: String(v), kind: "bool" };
  if (typeof v === "object") {
    const s = JSON.stringify(v);
    return { text: s.length > CELL_CHARS ? `${s.slice(0, CELL_CHARS)}…` : s, kind: "json", title: JSON.stringify(v, null, 2).slice(0, TITLE_CHARS) };
  }
  const s = String(v);
  return { text: s.length > CELL_CHARS ? `${s.slice(0, CELL_CHARS)}…` : s, kind: "text", title: s.length > 20 ? s.slice(0, TITLE_CHARS) : undefined };
}

/** The text a cell shows (filters, exports of what is seen). */
export function cellText(v: unknown, column?: string): string {
  if (v === null || v === undefined || v === "") return "";
  return cellView(v, column).text;
}

export const COL_WIDTH = 180;
export const MIN_COL_WIDTH = 48;
export const MAX_COL_WIDTH = 900;

/** A width that fits `texts` (measured by `measure`, in pixels) plus padding, within bounds. */
export function fitWidth(texts: string[], measure: (s: string) => number, padding = 26): number {
  const widest = texts.reduce((w, t) => Math.max(w, measure(t)), 0);
  return Math.round(Math.min(MAX_COL_WIDTH, Math.max(MIN_COL_WIDTH, widest + padding)));
}

const WIDTHS_KEY = "switchyard.columnWidths";

/** Column widths the user set, per table (`instance/database/table`). */
export function loadWidths(table: string): Record<string, number> {
  try {
    const all = JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? "{}") as Record<string, Record<string, number>>;
    return all[table] ?? {};
  } catch {
    return {};
  }
}

export function saveWidths(table: string, widths: Record<string, number>): void {
  try {
    const all = JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? "{}") as Record<string, Record<string, number>>;
    all[table] = widths;
    localStorage.setItem(WIDTHS_KEY, JSON.stringify(all));
  } catch {
    // Widths are a comfort: a full or unavailable storage keeps them for this session only.
  }
}
