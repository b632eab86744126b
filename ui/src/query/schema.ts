//! What the SQL editor knows of an instance: its tables and attributes for completion, and the
//! history search.
import type { TreeDatabase } from "../platform";

/**
 * lang-sql's schema: `database.table` → its attributes (primary key first), for the databases
 * the sidebar has loaded. Completion then offers databases, their tables after `db.`, and a
 * table's attributes after `db.table.` or once the table is in the query.
 */
export function sqlSchema(dbs: TreeDatabase[] | null | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const db of dbs ?? []) {
    for (const t of db.tables) {
      out[`${db.name}.${t.name}`] = [t.primaryKey, ...t.attributes.filter((a) => a !== t.primaryKey)];
    }
  }
  return out;
}

/** History entries containing every word of `search` (any case, any order), newest first. */
export function searchHistory(items: string[], search: string): string[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  return words.length ? items.filter((q) => words.every((w) => q.toLowerCase().includes(w))) : items;
}
