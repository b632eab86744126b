//! The order of a table's columns as the user arranged it, kept per table. Columns the table
//! gained since keep their place next to the column they followed; columns it lost are dropped.
import { useCallback, useEffect, useMemo, useState } from "react";
import { readStored, writeStored } from "../stores/stored";

const ORDER_KEY = "switchyard.columnOrder";

type Orders = Record<string, string[]>;
const isObject = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v);
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

/**
 * `columns` (the table's own order) arranged as `saved` says. A column not in `saved` comes right
 * after the column it follows in `columns` (first when it is first there).
 */
export function orderColumns(columns: string[], saved: string[] | undefined): string[] {
  if (!saved?.length) return columns;
  const present = new Set(columns);
  const out = saved.filter((c, i) => present.has(c) && saved.indexOf(c) === i);
  const placed = new Set(out);
  columns.forEach((c, i) => {
    if (placed.has(c)) return;
    const after = i === 0 ? -1 : out.indexOf(columns[i - 1]);
    out.splice(after + 1, 0, c);
    placed.add(c);
  });
  return out;
}

/** `order` with `column` moved to where `target` is (before it when moving left, after when right). */
export function moveColumn(order: string[], column: string, target: string): string[] {
  const from = order.indexOf(column);
  const to = order.indexOf(target);
  if (from < 0 || to < 0 || from === to) return order;
  const out = order.filter((c) => c !== column);
  out.splice(to, 0, column);
  return out;
}

/** `order` with `column` moved one place left (`-1`) or right (`1`), or unchanged at an end. */
export function stepColumn(order: string[], column: string, by: -1 | 1): string[] {
  const i = order.indexOf(column);
  const j = i + by;
  return i < 0 || j < 0 || j >= order.length ? order : moveColumn(order, column, order[j]);
}

export function loadOrder(table: string): string[] | undefined {
  const saved = readStored<Orders>(ORDER_KEY, {}, isObject)[table];
  return isNames(saved) ? saved : undefined;
}

/** Keeps `order` for `table`; `undefined` forgets it (back to the table's own order). */
export function saveOrder(table: string, order: string[] | undefined): void {
  const all = { ...readStored<Orders>(ORDER_KEY, {}, isObject) };
  if (order) all[table] = order;
  else delete all[table];
  writeStored(ORDER_KEY, all);
}

/** The columns of `table` in the user's order, a way to change it, and a way to reset it. */
export function useColumnOrder(table: string, columns: string[]) {
  const [saved, setSaved] = useState<string[] | undefined>(() => loadOrder(table));
  useEffect(() => setSaved(loadOrder(table)), [table]);
  const ordered = useMemo(() => orderColumns(columns, saved), [columns, saved]);
  const arrange = useCallback(
    (next: string[] | undefined) => {
      setSaved(next);
      saveOrder(table, next);
    },
    [table],
  );
  return { ordered, arranged: !!saved, arrange };
}
