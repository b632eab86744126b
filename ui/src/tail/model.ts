//! The tail's state and its pure transitions: a ring of the records shown (at most SHOWN_CAP),
//! a bounded buffer while paused (PAUSE_CAP) that says exactly what it dropped, filters applied
//! to what is held and to what arrives, and the messages-per-second history.
import type { TailEvent, TailRecord } from "../platform";
import { count } from "../text/count";
import { clock, zoneLabel, type Zone } from "../text/time";

/** Records held for the list (a transaction counts its records); older ones leave the ring.
 * Counted in records, not transactions: a tail of batches of 100 holds 500 of them, not 50,000
 * (five million records, which a webview spends its time collecting). */
export const SHOWN_CAP = 50_000;
/** Records held while paused; past it, arrivals are dropped and counted. */
export const PAUSE_CAP = 100_000;
/** Seconds of messages-per-second history. */
export const RATE_SECONDS = 60;

/** A record with its arrival order in this session (stable across the ring). */
export interface Row extends TailRecord {
  seq: number;
  /** The keys written or deleted, as text (for the list and the key filter). */
  keys: string;
  /** Records in the transaction (ids of a delete). */
  count: number;
}

export interface Filter {
  channel: string;
  operation: string;
  key: string;
  text: string;
}

export const NO_FILTER: Filter = { channel: "", operation: "", key: "", text: "" };

export interface Dropped {
  count: number;
  firstId: number;
  lastId: number;
  firstTs: number;
  lastTs: number;
}

export type Connection = "idle" | "opening" | "live" | "reconnecting" | "failed";

export interface TailModel {
  rows: Row[];
  /** Records in `rows` (at most SHOWN_CAP, unless one transaction alone is larger). */
  held: number;
  /** The rows that pass the filter, in arrival order. */
  visible: Row[];
  paused: boolean;
  buffer: Row[];
  /** Records in `buffer` (at most PAUSE_CAP). */
  buffered: number;
  dropped: Dropped | null;
  filter: Filter;
  connection: Connection;
  /** Gaps, refusals and reconnects, newest last (at most 200). */
  notices: string[];
  /** Channels a HarperDB instance publishes nothing of until a component exports them. */
  notExported: string[];
  /** Records per second over the last RATE_SECONDS, oldest first, and the second of the last. */
  rate: number[];
  rateSecond: number;
  received: number;
  nextSeq: number;
}

export function initial(): TailModel {
  return {
    rows: [],
    held: 0,
    visible: [],
    paused: false,
    buffer: [],
    buffered: 0,
    dropped: null,
    filter: NO_FILTER,
    connection: "idle",
    notices: [],
    notExported: [],
    rate: new Array(RATE_SECONDS).fill(0),
    rateSecond: 0,
    received: 0,
    nextSeq: 1,
  };
}

/** The keys of a record: the ids of a delete, or each record's primary key. */
export function keysOf(r: TailRecord, primaryKey: string | undefined): string {
  const data = r.data;
  if (!Array.isArray(data)) return "";
  if (r.operation === "delete") return data.map((k) => String(k)).join(", ");
  return data
    .map((rec) => (rec && typeof rec === "object" && !Array.isArray(rec) && primaryKey ? String((rec as Record<string, unknown>)[primaryKey] ?? "") : ""))
    .join(", ");
}

/** The keys a row shows: the first few of a batch and how many there are (the row is one line;
 * laying out hundreds of keys in each row on screen, several times a second, cost frames). */
export const SHOWN_KEYS = 8;
const keyTexts = new WeakMap<Row, string>();

export function shownKeys(r: Row): string {
  const known = keyTexts.get(r);
  if (known !== undefined) return known;
  let text = r.keys;
  if (r.count > SHOWN_KEYS) {
    let at = -1;
    for (let i = 0; i < SHOWN_KEYS && at < text.length; i++) at = text.indexOf(", ", at + 1);
    if (at > 0) text = `${text.slice(0, at)} … (${r.count.toLocaleString()} keys)`;
  }
  keyTexts.set(r, text);
  return text;
}

export function matches(r: Row, f: Filter): boolean {
  if (f.channel && r.channel !== f.channel) return false;
  if (f.operation && r.operation !== f.operation) return false;
  if (f.key && !r.keys.includes(f.key)) return false;
  if (f.text) {
    const t = f.text.toLowerCase();
    if (!JSON.stringify(r.data).toLowerCase().includes(t) && !r.origin.toLowerCase().includes(t)) return false;
  }
  return true;
}

function isFiltered(f: Filter): boolean {
  return !!(f.channel || f.operation || f.key || f.text);
}

/** Adds rows to what is shown, keeping the ring and the visible list in step. */
function show(m: TailModel, rows: Row[]): Pick<TailModel, "rows" | "visible" | "held"> {
  let all = m.rows.concat(rows);
  let held = m.held + rows.reduce((n, r) => n + r.count, 0);
  let visible = m.visible.concat(isFiltered(m.filter) ? rows.filter((r) => matches(r, m.filter)) : rows);
  if (held > SHOWN_CAP) {
    let out = 0;
    while (held > SHOWN_CAP && out < all.length - 1) held -= all[out++].count;
    all = all.slice(out);
    const oldest = all[0].seq;
    let cut = 0;
    while (cut < visible.length && visible[cut].seq < oldest) cut++;
    if (cut) visible = visible.slice(cut);
  }
  return { rows: all, visible, held };
}

function countRate(m: TailModel, n: number, nowSecond: number): Pick<TailModel, "rate" | "rateSecond"> {
  let rate = m.rate;
  const behind = nowSecond - m.rateSecond;
  if (behind > 0) {
    const shift = Math.min(behind, RATE_SECONDS);
    rate = rate.slice(shift).concat(new Array(shift).fill(0));
  } else {
    rate = rate.slice();
  }
  rate[RATE_SECONDS - 1] += n;
  return { rate, rateSecond: Math.max(nowSecond, m.rateSecond) };
}

function notice(m: TailModel, text: string): string[] {
  const notices = m.notices.concat(text);
  return notices.length > 200 ? notices.slice(notices.length - 200) : notices;
}

type Prepared = Row & { kind?: string };

/** A record event made a row in place (no copy per record: the event is fresh from the channel
 * and used nowhere else); `seq` is given when the model takes it. Done once per event. */
function asRow(e: TailEvent, primaryKeys: Record<string, string>): Row {
  const row = e as unknown as Prepared;
  if (row.keys === undefined) {
    row.keys = keysOf(row, primaryKeys[row.channel]);
    row.count = Array.isArray(row.data) ? Math.max(1, row.data.length) : 1;
  }
  return row;
}

/** Makes a batch's records rows as the batch arrives, so that `receive` has less to do when the
 * view takes several batches at once. */
export function prepare(batch: TailEvent[], primaryKeys: Record<string, string>): void {
  for (const e of batch) if (e.kind === "record") asRow(e, primaryKeys);
}

/** One batch of tail events. `primaryKeys` maps channels to their table's primary key. */
export function receive(m: TailModel, batch: TailEvent[], primaryKeys: Record<string, string>, nowMs: number): TailModel {
  const arrived: Row[] = [];
  let next = { ...m };
  let seq = m.nextSeq;
  for (const e of batch) {
    switch (e.kind) {
      case "record": {
        const row = asRow(e, primaryKeys);
        row.seq = seq++;
        arrived.push(row);
        break;
      }
      case "live":
        next.connection = "live";
        break;
      case "reconnecting":
        next.connection = "reconnecting";
        next.notices = notice(next, `Reconnecting: ${e.error}`);
        break;
      case "healed":
        next.notices = notice(next, `${e.channel}: ${count(e.count, "transaction")} missed while disconnected ${e.count === 1 ? "was" : "were"} read from the log`);
        break;
      case "gap":
        next.notices = notice(next, `${e.channel}: transactions after #${e.after}${e.before !== undefined ? ` and before #${e.before}` : ""} are missing — ${e.reason}`);
        break;
      case "refused":
        next.notices = notice(next, `${e.channel}: ${e.reason}`);
        break;
      case "not_exported":
        if (!next.notExported.includes(e.channel)) next.notExported = next.notExported.concat(e.channel);
        next.notices = notice(next, `${e.channel}: HarperDB publishes nothing of this table until a component exports it`);
        break;
      case "failed":
        next.connection = "failed";
        next.notices = notice(next, `Stopped: ${e.reason}`);
        break;
    }
  }
  next.nextSeq = seq;
  next.received = m.received + arrived.length;
  next = { ...next, ...countRate(next, arrived.length, Math.floor(nowMs / 1000)) };
  if (!arrived.length) return next;
  if (!m.paused) return { ...next, ...show(next, arrived) };
  // Paused: held below the cap (in records); past it, counted exactly.
  let buffered = m.buffered;
  let room = 0;
  while (room < arrived.length && buffered + arrived[room].count <= PAUSE_CAP) buffered += arrived[room++].count;
  const kept = arrived.slice(0, room);
  const lost = arrived.slice(room);
  let dropped = m.dropped;
  if (lost.length) {
    const first = lost[0];
    const last = lost[lost.length - 1];
    dropped = dropped
      ? { count: dropped.count + lost.length, firstId: dropped.firstId, lastId: last.id, firstTs: dropped.firstTs, lastTs: last.arrived }
      : { count: lost.length, firstId: first.id, lastId: last.id, firstTs: first.arrived, lastTs: last.arrived };
  }
  return { ...next, buffer: kept.length ? m.buffer.concat(kept) : m.buffer, buffered, dropped };
}

export function pause(m: TailModel): TailModel {
  return m.paused ? m : { ...m, paused: true, buffer: [], buffered: 0, dropped: null };
}

/** Shows what arrived while paused. The count of what was dropped stays until cleared; its
 * times are told in `zone`. */
export function resume(m: TailModel, zone: Zone = "local"): TailModel {
  if (!m.paused) return m;
  const shown = show({ ...m }, m.buffer);
  const notices = m.dropped
    ? notice(m, `While paused, ${count(m.dropped.count, "transaction")} (#${m.dropped.firstId}–#${m.dropped.lastId}, ${clock(m.dropped.firstTs, zone)}–${clock(m.dropped.lastTs, zone)} ${zoneLabel(m.dropped.lastTs, zone)}) ${m.dropped.count === 1 ? "was" : "were"} past the buffer of ${count(PAUSE_CAP, "record")} and ${m.dropped.count === 1 ? "is" : "are"} not shown`)
    : m.notices;
  return { ...m, ...shown, paused: false, buffer: [], buffered: 0, notices };
}

export function clear(m: TailModel): TailModel {
  return { ...m, rows: [], held: 0, visible: [], buffer: [], buffered: 0, dropped: null, notices: [], notExported: [], received: 0 };
}

export function setFilter(m: TailModel, filter: Filter): TailModel {
  const visible = isFiltered(filter) ? m.rows.filter((r) => matches(r, filter)) : m.rows;
  return { ...m, filter, visible };
}

/** The rows as NDJSON lines (one transaction per line), without the UI's own fields. */
export function ndjson(rows: Row[], from: number, to: number): string {
  let out = "";
  for (let i = from; i < to && i < rows.length; i++) {
    // `kind` is the event's tag, left on the row it became.
    const { seq: _seq, keys: _keys, count: _count, kind: _kind, ...record } = rows[i] as Prepared;
    out += JSON.stringify(record) + "\n";
  }
  return out;
}
