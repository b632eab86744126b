//! What the user is looking at: the database tree per instance and the open view.
import { readStored, writeStored } from "../stores/stored";
import { create } from "zustand";
import { native, type InstanceStatus, type TreeDatabase, type TreeTable, type ErrorBody } from "../platform";
import { useInstances } from "../stores/instances";

export type View =
  | { kind: "home" }
  | { kind: "table"; instance: string; database: string; table: string }
  | { kind: "query"; instance: string }
  | { kind: "tail"; instance: string; channels: string[]; compare?: boolean }
  | { kind: "cluster" };

export interface TreeEntry {
  dbs: TreeDatabase[] | null;
  loading: boolean;
  error: ErrorBody | null;
  /** Counts the tree's changes by a load or a table read anew: a recount that started before
   * one of them does not overwrite it with what it read. */
  version?: number;
}

interface BrowseState {
  trees: Record<string, TreeEntry>;
  expanded: Record<string, boolean>;
  view: View;
  loadTree: (instance: string) => Promise<void>;
  /** Reads an open tree again for its counts, quietly: the tree stays as it is until the answer
   * comes, and a failure leaves it (the instance's status says why). */
  recount: (instance: string) => Promise<void>;
  toggle: (key: string, open?: boolean) => void;
  open: (v: View) => void;
  /** A table's description read anew (a table opened, reloaded, written): the tree takes it,
   * so that the sidebar and the table's header show one count. */
  tableSeen: (instance: string, database: string, info: TreeTable) => void;
}

/** `dbs` with `database`'s table `info.name` replaced by `info` (or added); the rest kept. */
export function withTable(dbs: TreeDatabase[], database: string, info: TreeTable): TreeDatabase[] {
  const at = dbs.findIndex((d) => d.name === database);
  if (at === -1) return [...dbs, { name: database, tables: [info] }].sort((a, b) => a.name.localeCompare(b.name));
  const db = dbs[at];
  const i = db.tables.findIndex((t) => t.name === info.name);
  const tables = i === -1 ? [...db.tables, info].sort((a, b) => a.name.localeCompare(b.name)) : db.tables.map((t, j) => (j === i ? info : t));
  return dbs.map((d, j) => (j === at ? { ...d, tables } : d));
}

/** A table of a tree, if the tree has it. */
export function findTable(dbs: TreeDatabase[] | null | undefined, database: string, table: string): TreeTable | undefined {
  return dbs?.find((d) => d.name === database)?.tables.find((t) => t.name === table);
}

export const useBrowse = create<BrowseState>((set, get) => ({
  trees: {},
  expanded: {},
  view: { kind: "home" },
  loadTree: async (instance) => {
    const prev = get().trees[instance];
    const version = (prev?.version ?? 0) + 1;
    set({ trees: { ...get().trees, [instance]: { dbs: prev?.dbs ?? null, loading: true, error: null, version } } });
    try {
      const dbs = await native.browse_tree(instance);
      set({ trees: { ...get().trees, [instance]: { dbs, loading: false, error: null, version } } });
    } catch (e) {
      set({ trees: { ...get().trees, [instance]: { dbs: prev?.dbs ?? null, loading: false, error: e as ErrorBody, version } } });
    }
  },
  recount: async (instance) => {
    const version = get().trees[instance]?.version;
    try {
      const dbs = await native.browse_tree(instance);
      const now = get().trees[instance];
      // A load or a table read anew meanwhile (Refresh, a write, a retry) has the last word.
      if (now?.dbs && !now.loading && now.version === version) set({ trees: { ...get().trees, [instance]: { ...now, dbs } } });
    } catch {
      // Left as it was: the status polling reports an instance that stopped answering.
    }
  },
  toggle: (key, open) => set({ expanded: { ...get().expanded, [key]: open ?? !get().expanded[key] } }),
  open: (view) => set({ view }),
  tableSeen: (instance, database, info) => {
    const entry = get().trees[instance];
    // A tree not loaded yet is not made up from one table: it loads whole.
    if (!entry?.dbs) return;
    set({ trees: { ...get().trees, [instance]: { ...entry, dbs: withTable(entry.dbs, database, info), version: (entry.version ?? 0) + 1 } } });
  },
}));

const healthy = (s: InstanceStatus | undefined) => !!s && s.online && !s.error;

/**
 * The instances whose trees must be read again after a status change: those that are healthy
 * now and either failed to load their tree (its cause, a wrong password or an outage, may be
 * gone: the error is never left standing) or were not healthy before and are open.
 */
export function treesToReload(
  before: Record<string, InstanceStatus>,
  now: Record<string, InstanceStatus>,
  trees: Record<string, TreeEntry>,
  expanded: Record<string, boolean>,
): string[] {
  return Object.keys(now).filter((id) => {
    if (!healthy(now[id]) || trees[id]?.loading) return false;
    if (trees[id]?.error) return true;
    return !healthy(before[id]) && !!expanded[id];
  });
}

/**
 * The instances whose trees are read again for their record counts (rows also arrive by
 * replication, which the studio does not see): healthy, open in the sidebar, loaded, and not
 * being loaded already.
 */
export function treesToRecount(statuses: Record<string, InstanceStatus>, trees: Record<string, TreeEntry>, expanded: Record<string, boolean>): string[] {
  return Object.keys(trees).filter((id) => healthy(statuses[id]) && !!expanded[id] && !!trees[id]?.dbs && !trees[id]?.loading && !trees[id]?.error);
}

/** How often open trees are read again for their counts. */
export const RECOUNT_MS = 10_000;

/** Keeps the sidebar's record counts current (the side effect of `treesToRecount`), one read
 * per instance at a time. Answers the stop. */
export function startRecounting(every = RECOUNT_MS): () => void {
  const busy = new Set<string>();
  const timer = setInterval(() => {
    const b = useBrowse.getState();
    for (const id of treesToRecount(useInstances.getState().statuses, b.trees, b.expanded)) {
      if (busy.has(id)) continue;
      busy.add(id);
      void b.recount(id).finally(() => busy.delete(id));
    }
  }, every);
  return () => clearInterval(timer);
}

/** Reads trees again when their instance comes back healthy (the side effect of the pure
 * `treesToReload`). Answers the unsubscribe. */
export function startTreeRetry(): () => void {
  return useInstances.subscribe((state, prev) => {
    if (state.statuses === prev.statuses) return;
    const b = useBrowse.getState();
    for (const id of treesToReload(prev.statuses, state.statuses, b.trees, b.expanded)) void b.loadTree(id);
  });
}

/** Refresh (F5, Ctrl+R): the instance's status and tree, read again. */
export async function refreshInstance(id: string): Promise<void> {
  await useInstances.getState().probe(id);
  if (useBrowse.getState().expanded[id] || useBrowse.getState().trees[id]) await useBrowse.getState().loadTree(id);
}

const HISTORY_KEY = "switchyard.sqlHistory";

/** SQL history, newest first, kept across sessions (queries only, never results). */
export const useSqlHistory = create<{ items: string[]; add: (q: string) => void }>((set, get) => ({
  items: readStored<string[]>(HISTORY_KEY, [], Array.isArray),
  add: (q) => {
    const items = [q, ...get().items.filter((x) => x !== q)].slice(0, 50);
    writeStored(HISTORY_KEY, items);
    set({ items });
  },
}));
