//! The tail's store: the pure model (model.ts) plus what the user chose (instance, channels,
//! order, wrap, saved filters). Starting and stopping the native tail are side effects kept in
//! `startTail`/`stopTail`, outside the state transitions.
import { readStored, writeStored } from "../stores/stored";
import { create } from "zustand";
import { native, type TailEvent } from "../platform";
import { clear, initial, pause, prepare, receive, resume, setFilter, type Filter, type TailModel } from "./model";
import { initialCompare, receiveOn, type CompareModel } from "./compare";
import { useZone } from "../text/time";

export type Order = "newest" | "oldest";

export interface SavedFilter extends Filter {
  name: string;
}

const SAVED_KEY = "switchyard.tail.filters";
/** The longest a batch of tail events waits before the view takes it. */
const FLUSH_MS = 250;

function loadSaved(): SavedFilter[] {
  return readStored<SavedFilter[]>(SAVED_KEY, [], Array.isArray);
}

interface TailState {
  model: TailModel;
  instance: string | null;
  channels: string[];
  tailId: string | null;
  primaryKeys: Record<string, string>;
  order: Order;
  wrap: boolean;
  selected: number | null;
  saved: SavedFilter[];
  apply: (batch: TailEvent[]) => void;
  pause: () => void;
  resume: () => void;
  clear: () => void;
  dismissNotices: () => void;
  setFilter: (f: Filter) => void;
  saveFilter: (name: string) => void;
  removeFilter: (name: string) => void;
  setOrder: (o: Order) => void;
  setWrap: (w: boolean) => void;
  select: (seq: number | null) => void;
}

export const useTail = create<TailState>((set, get) => ({
  model: initial(),
  instance: null,
  channels: [],
  tailId: null,
  primaryKeys: {},
  order: "newest",
  wrap: false,
  selected: null,
  saved: loadSaved(),
  apply: (batch) => set((s) => ({ model: receive(s.model, batch, s.primaryKeys, Date.now()) })),
  pause: () => set((s) => ({ model: pause(s.model) })),
  resume: () => set((s) => ({ model: resume(s.model, useZone.getState().zone) })),
  clear: () => set((s) => ({ model: clear(s.model), selected: null })),
  dismissNotices: () => set((s) => ({ model: { ...s.model, notices: [] } })),
  setFilter: (f) => set((s) => ({ model: setFilter(s.model, f) })),
  saveFilter: (name) => {
    const saved = get().saved.filter((f) => f.name !== name).concat({ ...get().model.filter, name });
    set({ saved });
    writeStored(SAVED_KEY, saved);
  },
  removeFilter: (name) => {
    const saved = get().saved.filter((f) => f.name !== name);
    set({ saved });
    writeStored(SAVED_KEY, saved);
  },
  setOrder: (order) => set({ order }),
  setWrap: (wrap) => set({ wrap }),
  select: (selected) => set({ selected }),
}));

/** Stops the running tail, if any. */
export async function stopTail(): Promise<void> {
  const id = useTail.getState().tailId;
  useTail.setState((s) => ({ tailId: null, model: { ...s.model, connection: "idle" } }));
  if (id) await native.tailStop(id);
}

/** Starts tailing `channels` of `instance` (stopping any running tail first). */
export async function startTail(instance: string, channels: string[], window = 100): Promise<void> {
  await stopTail();
  const primaryKeys: Record<string, string> = {};
  for (const c of channels) {
    const [database, table] = c.split(":");
    try {
      primaryKeys[c] = (await native.tableInfo(instance, database, table)).primaryKey;
    } catch {
      // The tail itself reports a missing table; keys are then shown without a primary key.
    }
  }
  useTail.setState((s) => ({ instance, channels, primaryKeys, selected: null, model: { ...clear(s.model), connection: "opening" } }));
  // Batches arrive up to 10 times a second; the view takes them at most every FLUSH_MS, so that a
  // busy tail renders a few times a second, not once per batch. The work is spread: each batch's
  // records are made rows as it arrives (`prepare`), the store takes them in one task, and the
  // browser lays the list out and paints it in the next frame. (Taking them at the start of a
  // frame instead put all of it in one frame: measured, twice as many frames over 50 ms.)
  let pending: TailEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    const batch = pending;
    pending = [];
    useTail.getState().apply(batch);
  };
  const tailId = await native.tailStart(instance, { channels, window, healMax: 20_000 }, (batch) => {
    prepare(batch, primaryKeys);
    pending = pending.length ? pending.concat(batch) : batch;
    if (timer === null) timer = setTimeout(flush, FLUSH_MS);
  });
  useTail.setState({ tailId });
}

interface CompareState {
  model: CompareModel;
  channel: string;
  tails: string[];
  primaryKey: string | undefined;
  apply: (node: string, batch: TailEvent[]) => void;
}

export const useCompare = create<CompareState>((set) => ({
  model: initialCompare([]),
  channel: "",
  tails: [],
  primaryKey: undefined,
  apply: (node, batch) => set((s) => ({ model: receiveOn(s.model, node, batch, s.primaryKey) })),
}));

export async function stopCompare(): Promise<void> {
  const tails = useCompare.getState().tails;
  useCompare.setState({ tails: [] });
  await Promise.all(tails.map((t) => native.tailStop(t)));
}

/** Tails `channel` on every instance in `instances`, lined up by (origin, origin id). */
export async function startCompare(instances: string[], channel: string): Promise<void> {
  await stopCompare();
  const [database, table] = channel.split(":");
  let primaryKey: string | undefined;
  for (const i of instances) {
    try {
      primaryKey = (await native.tableInfo(i, database, table)).primaryKey;
      break;
    } catch {
      // Not on this node (yet); the tail says so.
    }
  }
  useCompare.setState({ model: initialCompare(instances), channel, primaryKey, tails: [] });
  const tails: string[] = [];
  for (const i of instances) {
    tails.push(await native.tailStart(i, { channels: [channel], window: 0, healMax: 20_000 }, (batch) => useCompare.getState().apply(i, batch)));
  }
  useCompare.setState({ tails });
}
