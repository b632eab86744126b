//! A tail row as one line of monospace text in fixed-width columns. A live tail changes every row
//! on screen four times a second; one text per row is laid out and painted in about half the time
//! of seven cells (measured in WebKitGTK: 35 rows, 12–16 ms against 26–36 ms).

/** Column widths in characters, the data column excepted (it takes the rest of the line). */
export interface Widths {
  node: number;
  channel: number;
  keys: number;
  origin: number;
}

import { grouped } from "../text/count";

export const TIME_CHARS = 12; // 12:58:58.357
export const OP_CHARS = 6; // insert, update, upsert, delete
const GUTTER = "  ";

/**
 * Widths that fit this tail's node name, its channels and the longest origin column seen so far
 * (`origins`, in characters: replicated rows name other nodes), within bounds, so that data
 * keeps room.
 */
export function widths(nodeName: string, channels: string[], origins = 0): Widths {
  const longest = channels.reduce((n, c) => Math.max(n, c.length), 7);
  return {
    node: Math.min(16, Math.max(4, nodeName.length)),
    channel: Math.min(28, longest),
    keys: 16,
    origin: Math.min(28, Math.max("origin #id".length, nodeName.length + 8, origins)),
  };
}

/** A row's keys column: how many records its transaction holds first, when more than one, so
 * that the column's cut never hides the count; then its first keys. */
export function keysColumn(keys: string, records: number): string {
  return records > 1 ? `${grouped(records)}× ${keys}` : keys;
}

/** A row's origin column: the node the write happened on and its id in that node's log. */
export function originColumn(origin: string, originId: number): string {
  return `${origin} #${originId}`;
}

/** `text` in exactly `width` characters: padded, or cut with an ellipsis. */
export function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text.padEnd(width);
}

export interface LineFields {
  time: string;
  node: string;
  channel: string;
  operation: string;
  keys: string;
  origin: string;
}

/** Everything before the data column, gutter included. */
export function prefix(f: LineFields, w: Widths): string {
  return (
    fit(f.time, TIME_CHARS) + GUTTER + fit(f.node, w.node) + GUTTER + fit(f.channel, w.channel) + GUTTER +
    fit(f.operation, OP_CHARS) + GUTTER + fit(f.keys, w.keys) + GUTTER + fit(f.origin, w.origin) + GUTTER
  );
}

/** The header's labels in the same columns. */
export function headerPrefix(w: Widths): string {
  return prefix({ time: "arrived", node: "node", channel: "channel", operation: "op", keys: "keys", origin: "origin #id" }, w);
}

/** The characters of monospace text, each `advance` px wide, that fit `width` px. */
export function fittingChars(width: number, advance: number): number {
  if (width <= 0 || advance <= 0) return 0;
  return Math.floor(width / advance);
}

/** `text` in at most `chars` characters, its last one an ellipsis when cut (unchanged when it
 * fits or when `chars` is 0: not measured). The line cuts itself rather than leave it to CSS:
 * WebKit's `text-overflow: ellipsis` cost a quarter of a list update's layout and paint
 * (measured: 35 rows, 35 against 26 ms). */
export function cutTo(text: string, chars: number): string {
  return chars > 0 && text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}
