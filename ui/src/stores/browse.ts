//! What the user is looking at: the database tree per instance and the open view.
import { create } from "zustand";
import { native, type TreeDatabase, type UiError } from "../platform";

export type View =
  | { kind: "home" }
  | { kind: "table"; instance: string; database: string; table: string }
  | { kind: "query"; instance: string }
  | { kind: "tail"; instance: string; channels: string[]; compare?: boolean }
  | { kind: "cluster" };

interface TreeEntry {
  dbs: TreeDatabase[] | null;
  loading: boolean;
  error: UiError | null;
}

interface BrowseState {
  trees: Record<string, TreeEntry>;
  expanded: Record<string, boolean>;
  view: View;
  loadTree: (instance: string) => Promise<void>;
  toggle: (key: string, open?: boolean) => void;
  open: (v: View) => void;
}

export const useBrowse = create<BrowseState>((set, get) => ({
  trees: {},
  expanded: {},
  view: { kind: "home" },
  loadTree: async (instance) => {
    const prev = get().trees[instance];
    set({ trees: { ...get().trees, [instance]: { dbs: prev?.dbs ?? null, loading: true, error: null } } });
    try {
      const dbs = await native.tree(instance);
      set({ trees: { ...get().trees, [instance]: { dbs, loading: false, error: null } } });
    } catch (e) {
      set({ trees: { ...get().trees, [instance]: { dbs: prev?.dbs ?? null, loading: false, error: e as UiError } } });
    }
  },
  toggle: (key, open) => set({ expanded: { ...get().expanded, [key]: open ?? !get().expanded[key] } }),
  open: (view) => set({ view }),
}));

const HISTORY_KEY = "switchyard.sqlHistory";

/** SQL history, newest first, kept across sessions (queries only, never results). */
export const useSqlHistory = create<{ items: string[]; add: (q: string) => void }>((set, get) => ({
  items: (() => {
    try {
      return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? "[]") as string[];
    } catch {
      return [];
    }
  })(),
  add: (q) => {
    const items = [q, ...get().items.filter((x) => x !== q)].slice(0, 50);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(items));
    set({ items });
  },
}));
