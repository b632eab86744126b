//! Record forms: which input each attribute gets (inferred from the values seen), and the
//! conversions between stored values and input text, with validation before anything is sent.
import { dateTime } from "../text/time";

export type FieldKind = "text" | "number" | "boolean" | "datetime" | "json";

export const SERVER_FIELDS = ["__createdtime__", "__updatedtime__"];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Epoch milliseconds between 2001 and 2286: a number in this range named like a time is a date. */
const EPOCH_MS_MIN = 1e12;
const EPOCH_MS_MAX = 1e13;
const TIME_NAME = /(time|date|_at|At|timestamp)$/;

function kindOf(attribute: string, v: unknown): FieldKind | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") {
    return TIME_NAME.test(attribute) && v >= EPOCH_MS_MIN && v < EPOCH_MS_MAX ? "datetime" : "number";
  }
  if (typeof v === "string") return ISO_DATE.test(v) && v.length >= 16 ? "datetime" : "text";
  return "json";
}

/** The input for an attribute: the most common kind among its non-null values (text if none). */
export function inferKind(attribute: string, values: unknown[]): FieldKind {
  const counts = new Map<FieldKind, number>();
  for (const v of values) {
    const k = kindOf(attribute, v);
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let best: FieldKind = "text";
  let n = 0;
  for (const [k, c] of counts) {
    if (c > n) {
      best = k;
      n = c;
    }
  }
  return best;
}

export interface Field {
  attribute: string;
  kind: FieldKind;
  /** Server-maintained (timestamps) or the key of an existing record. */
  readOnly: boolean;
  /** Whether the stored value was an ISO string (datetime) rather than epoch ms. */
  isoString?: boolean;
  /** No value was seen to infer from: numbers and booleans typed in are taken as such. */
  guessed?: boolean;
}

/**
 * The order of a form's fields: the primary key first, then the grid's columns as the user sees
 * them, then attributes the grid does not show; the server's fields last.
 */
export function fieldOrder(names: string[], primaryKey: string, columns: string[]): string[] {
  const rank = (n: string) => (n === primaryKey ? -1 : SERVER_FIELDS.includes(n) ? 1e9 + SERVER_FIELDS.indexOf(n) : columns.includes(n) ? columns.indexOf(n) : 1e6 + names.indexOf(n));
  return [...new Set([primaryKey, ...names])].sort((a, b) => rank(a) - rank(b));
}

/** Fields for a table's attributes, inferred from sample rows, in the grid's column order. */
export function inferFields(attributes: string[], primaryKey: string, sample: Record<string, unknown>[], editing: boolean, columns: string[] = []): Field[] {
  let names = [...attributes];
  for (const r of sample) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  names = fieldOrder(names, primaryKey, columns);
  // The server sets its timestamps: shown (read-only) on an edit, absent from a new record.
  if (!editing) for (const s of SERVER_FIELDS) if (names.includes(s)) names.splice(names.indexOf(s), 1);
  return names.map((attribute) => {
    const values = sample.map((r) => r[attribute]);
    // The server's timestamps are dates wherever they show (epoch ms), whatever their name says.
    const kind = SERVER_FIELDS.includes(attribute) ? "datetime" : inferKind(attribute, values);
    const isoString = kind === "datetime" && values.some((v) => typeof v === "string");
    const guessed = values.every((v) => v === null || v === undefined);
    return { attribute, kind, isoString, guessed, readOnly: SERVER_FIELDS.includes(attribute) || (editing && attribute === primaryKey) };
  });
}

/** The text an input shows for a stored value. */
export function toInput(kind: FieldKind, v: unknown): string {
  if (v === null || v === undefined) return "";
  switch (kind) {
    case "boolean":
      return v ? "true" : "false";
    case "json":
      return JSON.stringify(v, null, 2);
    case "datetime": {
      const d = new Date(typeof v === "number" ? v : String(v));
      if (Number.isNaN(d.getTime())) return String(v);
      // datetime-local wants local time without a zone, to the second.
      return dateTime(d.getTime(), "local").slice(0, 19).replace(" ", "T");
    }
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

export type Parsed = { ok: true; value: unknown; empty: boolean } | { ok: false; error: string };

/** The stored value for input text, or why the text is not valid for the field. */
export function fromInput(field: Field, text: string): Parsed {
  const t = text.trim();
  if (t === "") return { ok: true, value: null, empty: true };
  switch (field.kind) {
    case "number": {
      const n = Number(t);
      return Number.isFinite(n) ? { ok: true, value: n, empty: false } : { ok: false, error: `“${t}” is not a number` };
    }
    case "boolean":
      if (t === "true" || t === "false") return { ok: true, value: t === "true", empty: false };
      return { ok: false, error: "choose true or false" };
    case "json":
      try {
        return { ok: true, value: JSON.parse(t), empty: false };
      } catch (e) {
        return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
      }
    case "datetime": {
      const d = new Date(t);
      if (Number.isNaN(d.getTime())) return { ok: false, error: `“${t}” is not a date and time` };
      return { ok: true, value: field.isoString ? d.toISOString() : d.getTime(), empty: false };
    }
    default:
      if (field.guessed) {
        if (/^-?\d+(\.\d+)?$/.test(t) && Number.isFinite(Number(t))) return { ok: true, value: Number(t), empty: false };
        if (t === "true" || t === "false") return { ok: true, value: t === "true", empty: false };
      }
      return { ok: true, value: text, empty: false };
  }
}

export interface BuiltRecord {
  record: Record<string, unknown>;
  errors: Record<string, string>;
}

/**
 * The record to send from the form's texts. Empty fields are left out of a new record and sent
 * as null on an edit (clearing them). A new record without a key lets the server make one.
 */
export function buildRecord(fields: Field[], texts: Record<string, string>, primaryKey: string, editing: boolean, original?: Record<string, unknown>): BuiltRecord {
  const record: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    if (SERVER_FIELDS.includes(f.attribute)) continue;
    if (editing && f.attribute === primaryKey) {
      record[primaryKey] = original?.[primaryKey];
      continue;
    }
    const p = fromInput(f, texts[f.attribute] ?? "");
    if (!p.ok) {
      errors[f.attribute] = p.error;
      continue;
    }
    if (p.empty) {
      if (editing && original && original[f.attribute] !== undefined && original[f.attribute] !== null) record[f.attribute] = null;
      continue;
    }
    record[f.attribute] = p.value;
  }
  return { record, errors };
}

/** Raw JSON mode: the text must be one object; server fields are dropped. */
export function parseRawRecord(text: string): { ok: true; record: Record<string, unknown> } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, error: "a record must be one JSON object" };
  const record = { ...(v as Record<string, unknown>) };
  for (const s of SERVER_FIELDS) delete record[s];
  return { ok: true, record };
}
