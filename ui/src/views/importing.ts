//! Import files: CSV (header row, typed values) or JSON (an array, one object, or NDJSON) into
//! record objects, with the rows that cannot be records counted and described.
import Papa from "papaparse";

export interface ParsedImport {
  records: Record<string, unknown>[];
  /** Rows that are not records, with why (1-based line or index). */
  rejected: { at: number; reason: string }[];
}

export function parseCsv(text: string): ParsedImport {
  const out = Papa.parse<Record<string, unknown>>(text, { header: true, dynamicTyping: true, skipEmptyLines: "greedy" });
  const bad = new Map<number, string>();
  for (const e of out.errors) if (typeof e.row === "number") bad.set(e.row, e.message);
  const records: Record<string, unknown>[] = [];
  const rejected: ParsedImport["rejected"] = [];
  out.data.forEach((row, i) => {
    if (bad.has(i)) rejected.push({ at: i + 2, reason: bad.get(i)! });
    else {
      const r: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) if (k !== "" && v !== null && v !== "") r[k] = v;
      records.push(r);
    }
  });
  return { records, rejected };
}

export function parseJson(text: string): ParsedImport {
  const t = text.trim();
  const records: Record<string, unknown>[] = [];
  const rejected: ParsedImport["rejected"] = [];
  const take = (v: unknown, at: number) => {
    if (v && typeof v === "object" && !Array.isArray(v)) records.push(v as Record<string, unknown>);
    else rejected.push({ at, reason: "not a JSON object" });
  };
  if (t.startsWith("[")) {
    let all: unknown;
    try {
      all = JSON.parse(t);
    } catch (e) {
      return { records, rejected: [{ at: 1, reason: `not valid JSON: ${(e as Error).message}` }] };
    }
    (all as unknown[]).forEach((v, i) => take(v, i + 1));
    return { records, rejected };
  }
  // One object, or one object per line.
  try {
    take(JSON.parse(t), 1);
    return { records, rejected };
  } catch {
    /* NDJSON below */
  }
  t.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      take(JSON.parse(line), i + 1);
    } catch (e) {
      rejected.push({ at: i + 1, reason: `not valid JSON: ${(e as Error).message}` });
    }
  });
  return { records, rejected };
}

/** Splits records into batches of at most `size`. */
export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
