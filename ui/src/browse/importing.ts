//! Import files: CSV (header row, typed values) or JSON (an array, one object, or NDJSON) into
//! record objects, with the rows that cannot be records counted and described.
import Papa from "papaparse";
import { inferKind, type FieldKind } from "../forms/infer";

export interface Rejected {
  /** The 1-based line the row starts on in the file (JSON arrays: the element's 1-based index). */
  at: number;
  reason: string;
  /** The row as the file has it (a CSV row may span lines), to be saved, fixed and imported again. */
  raw: string;
}

export interface ParsedImport {
  records: Record<string, unknown>[];
  /** Every row that is not a record, with where and why. */
  rejected: Rejected[];
  /** CSV: the header line as the file has it (a file of rejected rows starts with it). */
  header?: string;
  format: "csv" | "json";
}

/** Line numbers of offsets in `text`: `lineAt(i)` is the 1-based line of character `i`. */
function lines(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let [lo, hi] = [0, starts.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A CSV cell's value: a number (one a double holds exactly), true or false, or the text. */
export function typed(cell: string): unknown {
  if (NUMBER.test(cell)) {
    const n = Number(cell);
    // An integer past 2^53 would come back as another number: it stays text.
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
    return cell;
  }
  if (/^(true|TRUE|True)$/.test(cell)) return true;
  if (/^(false|FALSE|False)$/.test(cell)) return false;
  return cell;
}

/** Where the next row starts after `offset`: past the line breaks (and blank lines) before it. */
function skipBlank(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text[i] === "\n" || text[i] === "\r" || ((text[i] === " " || text[i] === "\t") && /^[ \t]*\r?(\n|$)/.test(text.slice(i, i + 200))))) i++;
  return i;
}

/**
 * CSV with a header row. Each row's line is counted in the file itself, so a quoted field that
 * spans lines moves the numbers of the rows after it; every row that cannot be a record is
 * named with its line and kept as the file has it.
 */
export function parseCsv(text: string): ParsedImport {
  const lineAt = lines(text);
  const records: Record<string, unknown>[] = [];
  const rejected: Rejected[] = [];
  let header: string[] | null = null;
  let headerRaw = "";
  let start = skipBlank(text, 0);
  Papa.parse<string[]>(text, {
    header: false,
    // Typed here (`typed`), not by Papa, which would turn ISO date-times into Date objects.
    dynamicTyping: false,
    skipEmptyLines: "greedy",
    step: (row) => {
      const end = row.meta.cursor;
      const raw = text.slice(start, end).replace(/\r?\n$/, "");
      const at = lineAt(start);
      start = skipBlank(text, end);
      if (header === null) {
        header = row.data.map((h) => h.trim());
        headerRaw = raw;
        return;
      }
      const error = row.errors[0];
      if (error) {
        rejected.push({ at, reason: error.message, raw });
        return;
      }
      if (row.data.length !== header.length) {
        const n = header.length;
        rejected.push({ at, reason: `${row.data.length < n ? "too few" : "too many"} fields: expected ${n}, found ${row.data.length}`, raw });
        return;
      }
      const r: Record<string, unknown> = {};
      header.forEach((k, i) => {
        const v = row.data[i];
        if (k !== "" && v !== "") r[k] = typed(v);
      });
      records.push(r);
    },
  });
  return { records, rejected, header: headerRaw, format: "csv" };
}

export function parseJson(text: string): ParsedImport {
  const t = text.trim();
  const records: Record<string, unknown>[] = [];
  const rejected: Rejected[] = [];
  const take = (v: unknown, at: number, raw: string) => {
    if (v && typeof v === "object" && !Array.isArray(v)) records.push(v as Record<string, unknown>);
    else rejected.push({ at, reason: "not a JSON object", raw });
  };
  if (t.startsWith("[")) {
    let all: unknown;
    try {
      all = JSON.parse(t);
    } catch (e) {
      return { records, rejected: [{ at: 1, reason: `not valid JSON: ${(e as Error).message}`, raw: t }], format: "json" };
    }
    (all as unknown[]).forEach((v, i) => take(v, i + 1, JSON.stringify(v)));
    return { records, rejected, format: "json" };
  }
  // One object, or one object per line.
  try {
    take(JSON.parse(t), 1, t);
    return { records, rejected, format: "json" };
  } catch {
    /* NDJSON below */
  }
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      take(JSON.parse(line), i + 1, line);
    } catch (e) {
      rejected.push({ at: i + 1, reason: `not valid JSON: ${(e as Error).message}`, raw: line });
    }
  });
  return { records, rejected, format: "json" };
}

/** The rejected rows as a file to fix and import again: CSV with the header, or NDJSON. */
export function rejectedFile(parsed: ParsedImport, source: string): { name: string; contents: string } {
  const base = source.replace(/\.[^.]*$/, "") || "import";
  if (parsed.format === "csv") return { name: `${base}-rejected.csv`, contents: [parsed.header ?? "", ...parsed.rejected.map((r) => r.raw)].join("\n") + "\n" };
  return { name: `${base}-rejected.ndjson`, contents: parsed.rejected.map((r) => r.raw).join("\n") + "\n" };
}

/** Splits records into batches of at most `size`. */
export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What an import will write, shown before it does: the columns with their inferred types, the
 * first rows, and which column becomes the table's primary key. */
export interface ImportPreview {
  columns: { name: string; kind: FieldKind }[];
  rows: Record<string, unknown>[];
  /** The column offered as the key: the table's primary key if the file has it, else none. */
  key: string | null;
}

/** Rows a preview shows. */
export const PREVIEW_ROWS = 5;

export function preview(records: Record<string, unknown>[], primaryKey: string): ImportPreview {
  const names: string[] = [];
  for (const r of records.slice(0, 1000)) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  const columns = names.map((name) => ({ name, kind: inferKind(name, records.slice(0, 1000).map((r) => r[name])) }));
  return { columns, rows: records.slice(0, PREVIEW_ROWS), key: names.includes(primaryKey) ? primaryKey : null };
}

/**
 * The records as they will be written with `key` as the key column: renamed to the table's
 * primary key (a record that also had an attribute of that name keeps it under `key`'s name,
 * so nothing is lost), or, with no key column, written as they are (the server makes keys).
 */
export function withKey(records: Record<string, unknown>[], key: string | null, primaryKey: string): Record<string, unknown>[] {
  if (!key || key === primaryKey) return records;
  return records.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (k === key) out[primaryKey] = v;
      else if (k === primaryKey) out[key] = v;
      else out[k] = v;
    }
    return out;
  });
}
