//! The tail's store: what the studio last showed of the open tail (`TailUpdate`: the counts and
//! the rows on screen; the ring, the pause buffer and the filtering live in the studio), plus
//! what the user chose (instance, channels, order, wrap, the filter being typed, saved filters).
//! Opening, acting on and closing the native tail are side effects kept in the functions below
//! the store.
import { readStored, writeStored } from "../stores/stored";
import { create } from "zustand";
import { native, type CompareUpdate, type Order, type TailAction, type TailFilter, type TailPort, type TailUpdate } from "../platform";
import { toastError } from "../stores/ui";

export interface SavedFilter extends TailFilter {
  name: string;
}

export const NO_FILTER: TailFilter = { channel: "", operation: "", key: "", text: "" };

const SAVED_KEY = "switchyard.tail.filters";

function loadSaved(): SavedFilter[] {
  return readStored<SavedFilter[]>(SAVED_KEY, [], Array.isArray);
}

/** What is shown before any tail opened. */
export function emptyUpdate(): TailUpdate {
  return {
    version: 0,
    connection: "idle",
    operations: [],
    received: 0,
    rows: 0,
    held: 0,
    shown: 0,
    paused: false,
    buffered: 0,
    shownCap: 0,
    pauseCap: 0,
    notices: [],
    notExported: [],
    rate: new Array(60).fill(0),
    port: { order: "newest", first: 0, count: 0 },
    lines: [],
  };
}

/** Whether `u` is newer than `than` (pushed updates and answers to actions may cross). */
export function isNewer(u: TailUpdate, than: TailUpdate): boolean {
  return u.version > than.version;
}

interface TailState {
  view: TailUpdate;
  instance: string | null;
  channels: string[];
  /** The open tail (kept after Stop: what it received stays shown, exported, inspected). */
  tailId: string | null;
  running: boolean;
  order: Order;
  wrap: boolean;
  /** The filter as typed (the studio applies it; the inputs never wait for it). */
  filter: TailFilter;
  selected: number | null;
  saved: SavedFilter[];
  /** Takes an update of tail `tailId`, when it is newer than what is shown. */
  take: (tailId: string, u: TailUpdate) => void;
  setOrder: (o: Order) => void;
  setWrap: (w: boolean) => void;
  select: (seq: number | null) => void;
  saveFilter: (name: string) => void;
  removeFilter: (name: string) => void;
}

export const useTail = create<TailState>((set, get) => ({
  view: emptyUpdate(),
  instance: null,
  channels: [],
  tailId: null,
  running: false,
  order: "newest",
  wrap: false,
  filter: NO_FILTER,
  selected: null,
  saved: loadSaved(),
  take: (tailId, u) => set((s) => (s.tailId === tailId && isNewer(u, s.view) ? { view: u } : s)),
  setOrder: (order) => set({ order }),
  setWrap: (wrap) => set({ wrap }),
  select: (selected) => set({ selected }),
  saveFilter: (name) => {
    const saved = get().saved.filter((f) => f.name !== name).concat({ ...get().filter, name });
    set({ saved });
    writeStored(SAVED_KEY, saved);
  },
  removeFilter: (name) => {
    const saved = get().saved.filter((f) => f.name !== name);
    set({ saved });
    writeStored(SAVED_KEY, saved);
  },
}));

let acting: Promise<void> = Promise.resolve();

/** Acts on the open tail and shows the studio's answer. Actions reach the studio one after the
 * other, in the order taken (a filter typed key by key ends as typed). */
export function act(action: TailAction): Promise<void> {
  const run = async () => {
    const id = useTail.getState().tailId;
    if (!id) return;
    useTail.getState().take(id, await native.tail_act(id, action));
  };
  const done = acting.then(run);
  acting = done.catch(() => undefined);
  return done;
}

/** Filters the open tail (what it holds and what arrives); remembered for the next tail. */
export function setFilter(filter: TailFilter): void {
  useTail.setState({ filter });
  act({ kind: "filter", filter }).catch(toastError);
}

let asked: { tailId: string; port: TailPort } | null = null;

/** Asks the open tail for the rows `port` covers, unless they were just asked for. */
export function setPort(port: TailPort): void {
  const tailId = useTail.getState().tailId;
  if (!tailId) return;
  const p = asked?.tailId === tailId ? asked.port : null;
  if (p && p.order === port.order && p.first === port.first && p.count === port.count) return;
  asked = { tailId, port };
  act({ kind: "port", port }).catch(toastError);
}

/** Stops the running tail, if any; what it received stays shown. */
export async function stopTail(): Promise<void> {
  const { tailId, running } = useTail.getState();
  useTail.setState({ running: false });
  if (tailId && running) await native.tail_stop(tailId);
}

/** Starts tailing `channels` of `instance`, in place of the open tail. The filter and the rows
 * on screen carry over. */
export async function startTail(instance: string, channels: string[], window = 100): Promise<void> {
  const old = useTail.getState().tailId;
  useTail.setState({ tailId: null, running: false, instance, channels, selected: null, view: { ...emptyUpdate(), connection: "opening" } });
  if (old) await native.tail_close(old);
  // Updates may come before the tail's id does: the latest is kept until then.
  let opened: string | null = null;
  let early: TailUpdate | null = null;
  let tailId: string;
  try {
    tailId = await native.tail_open(instance, { channels, window, healMax: 20_000 }, (u) => {
      if (opened) useTail.getState().take(opened, u);
      else if (!early || isNewer(u, early)) early = u;
    });
  } catch (e) {
    useTail.setState({ view: { ...emptyUpdate(), connection: "failed" } });
    throw e;
  }
  opened = tailId;
  useTail.setState({ tailId, running: true });
  if (early) useTail.getState().take(tailId, early);
  const { filter } = useTail.getState();
  if (filter.channel || filter.operation || filter.key || filter.text) await act({ kind: "filter", filter });
}

/** What is shown before any comparison opened. */
export function emptyCompare(): CompareUpdate {
  return { version: 0, nodes: [], rows: 0, graceMs: 5000, first: 0, count: 0, lines: [] };
}

interface CompareState {
  view: CompareUpdate;
  channel: string;
  /** The open comparison (kept after Stop, like a tail). */
  compareId: string | null;
  running: boolean;
  take: (compareId: string, u: CompareUpdate) => void;
}

export const useCompare = create<CompareState>((set) => ({
  view: emptyCompare(),
  channel: "",
  compareId: null,
  running: false,
  take: (compareId, u) => set((s) => (s.compareId === compareId && u.version > s.view.version ? { view: u } : s)),
}));

let askedCompare: { compareId: string; first: number; count: number } | null = null;

/** Asks the open comparison for `count` rows from `first` (newest first), unless just asked. */
export function setComparePort(first: number, count: number): void {
  const compareId = useCompare.getState().compareId;
  if (!compareId) return;
  if (askedCompare && askedCompare.compareId === compareId && askedCompare.first === first && askedCompare.count === count) return;
  askedCompare = { compareId, first, count };
  native.compare_port(compareId, first, count).then((u) => useCompare.getState().take(compareId, u), toastError);
}

export async function stopCompare(): Promise<void> {
  const { compareId, running } = useCompare.getState();
  useCompare.setState({ running: false });
  if (compareId && running) await native.tail_stop(compareId);
}

/** Tails `channel` on every instance in `instances`, lined up by (origin, origin id), in place
 * of the open comparison. */
export async function startCompare(instances: string[], channel: string): Promise<void> {
  const old = useCompare.getState().compareId;
  useCompare.setState({ compareId: null, running: false, channel, view: emptyCompare() });
  if (old) await native.tail_close(old);
  let opened: string | null = null;
  let early: CompareUpdate | null = null;
  const compareId = await native.compare_open(instances, channel, (u) => {
    if (opened) useCompare.getState().take(opened, u);
    else if (!early || u.version > early.version) early = u;
  });
  opened = compareId;
  useCompare.setState({ compareId, running: true });
  if (early) useCompare.getState().take(compareId, early);
}
