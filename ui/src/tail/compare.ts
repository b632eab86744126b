//! The same channel tailed on several nodes, lined up: one row per transaction, keyed by where
//! it was written (origin, origin id), with when it reached each node. A transaction that has
//! not reached a node a grace period after it first appeared anywhere is flagged missing there,
//! and unflagged if it arrives later. Pure; bounded to COMPARE_CAP rows.
import type { TailEvent, TailRecord } from "../platform";

export const COMPARE_CAP = 20_000;
/** How long a transaction may take to reach every node before it counts as missing. */
export const GRACE_MS = 5_000;

export interface Crossing {
  key: string;
  origin: string;
  originId: number;
  operation: string;
  keys: string;
  /** Commit time at the origin (ms). */
  ts: number;
  /** When it first arrived anywhere (ms). */
  first: number;
  /** Per node: when it arrived there (ms). */
  arrived: Record<string, number>;
}

export interface CompareModel {
  nodes: string[];
  rows: Crossing[];
  index: Map<string, number>;
  /** Rows dropped from the front of the ring. */
  evicted: number;
  /** Per node: its connection state and last notice. */
  state: Record<string, string>;
}

/** The keys of a record: the ids of a delete, or each record's primary key. */
export function keysOf(r: Pick<TailRecord, "operation" | "data">, primaryKey: string | undefined): string {
  const data = r.data;
  if (!Array.isArray(data)) return "";
  if (r.operation === "delete") return data.map((k) => String(k)).join(", ");
  return data
    .map((rec) => (rec && typeof rec === "object" && !Array.isArray(rec) && primaryKey ? String((rec as Record<string, unknown>)[primaryKey] ?? "") : ""))
    .join(", ");
}

export function initialCompare(nodes: string[]): CompareModel {
  return { nodes, rows: [], index: new Map(), evicted: 0, state: Object.fromEntries(nodes.map((n) => [n, "opening"])) };
}

/** One batch of events from the tail on `node`. */
export function receiveOn(m: CompareModel, node: string, batch: TailEvent[], primaryKey: string | undefined): CompareModel {
  let rows = m.rows;
  let index = m.index;
  let evicted = m.evicted;
  let state = m.state;
  let copied = false;
  for (const e of batch) {
    if (e.kind !== "record") {
      if (e.kind === "live" || e.kind === "reconnecting" || e.kind === "failed") state = { ...state, [node]: e.kind };
      continue;
    }
    if (!copied) {
      rows = rows.slice();
      index = new Map(index);
      copied = true;
    }
    const key = `${e.origin}#${e.originId}`;
    const at = index.get(key);
    if (at !== undefined) {
      const row = rows[at - evicted];
      if (row && row.arrived[node] === undefined) rows[at - evicted] = { ...row, arrived: { ...row.arrived, [node]: e.arrived } };
      continue;
    }
    const { kind: _kind, ...record } = e;
    index.set(key, evicted + rows.length);
    rows.push({ key, origin: e.origin, originId: e.originId, operation: e.operation, keys: keysOf(record, primaryKey), ts: e.ts, first: e.arrived, arrived: { [node]: e.arrived } });
  }
  if (rows.length > COMPARE_CAP) {
    const cut = rows.length - COMPARE_CAP;
    for (const r of rows.slice(0, cut)) index.delete(r.key);
    rows = rows.slice(cut);
    evicted += cut;
  }
  return copied || state !== m.state ? { ...m, rows, index, evicted, state } : m;
}

export type Presence = { kind: "arrived"; delayMs: number } | { kind: "pending" } | { kind: "missing"; forMs: number };

/** Where a transaction stands on a node at `now`. */
export function presence(r: Crossing, node: string, now: number): Presence {
  const at = r.arrived[node];
  if (at !== undefined) return { kind: "arrived", delayMs: Math.max(0, Math.round(at - r.ts)) };
  const waited = now - r.first;
  return waited > GRACE_MS ? { kind: "missing", forMs: waited } : { kind: "pending" };
}

/** How many rows are missing on each node at `now`. */
export function missingCounts(m: CompareModel, now: number): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(m.nodes.map((n) => [n, 0]));
  for (const r of m.rows) for (const n of m.nodes) if (presence(r, n, now).kind === "missing") out[n]++;
  return out;
}
