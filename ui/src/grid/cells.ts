//! How a grid cell shows a value: NULL, a missing attribute and an empty string each look
//! different; numbers align right; a value too long for its column is whole in its tooltip.
//! Column widths: fitted to content on double-click, kept per table.
import { readStored, writeStored } from "../stores/stored";
import { dateTime, zoneLabel, type Zone } from "../text/time";

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

export function cellView(v: unknown, column?: string, zone: Zone = "local"): CellView {
  if (v === undefined) return { text: "—", kind: "missing", title: "this record has no such attribute" };
  if (v === null) return { text: "NULL", kind: "null", title: "null" };
  if (v === "") return { text: "\"\"", kind: "empty", title: "empty text" };
  if (typeof v === "number") {
    if (column && TIMESTAMPS.includes(column)) return { text: dateTime(v, zone), kind: "date", title: `${dateTime(v, zone)} ${zoneLabel(v, zone)} · ${new Date(v).toISOString()} · ${v}` };
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
export function cellText(v: unknown, column?: string, zone: Zone = "local"): string {
  if (v === null || v === undefined || v === "") return "";
  return cellView(v, column, zone).text;
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
type Widths = Record<string, Record<string, number>>;
const isObject = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v);

export function loadWidths(table: string): Record<string, number> {
  return readStored<Widths>(WIDTHS_KEY, {}, isObject)[table] ?? {};
}

export function saveWidths(table: string, widths: Record<string, number>): void {
  writeStored(WIDTHS_KEY, { ...readStored<Widths>(WIDTHS_KEY, {}, isObject), [table]: widths });
}
