//! Registered instances, their live status and local supervisor state.
import { create } from "zustand";
import { native, type InstanceStatus, type LocalState, type RegistryView, type ErrorBody } from "../platform";

interface InstancesState {
  view: RegistryView | null;
  statuses: Record<string, InstanceStatus>;
  locals: Record<string, LocalState>;
  loadError: ErrorBody | null;
  /** Local instances being started or stopped: their buttons say so and take no second click. */
  switching: Record<string, "starting" | "stopping">;
  /** Bumped when a local instance was started or stopped (views that draw it refresh). */
  switched: number;
  refresh: () => Promise<void>;
  probe: (id: string) => Promise<void>;
  probeAll: () => Promise<void>;
}

export const useInstances = create<InstancesState>((set, get) => ({
  view: null,
  statuses: {},
  locals: {},
  loadError: null,
  switching: {},
  switched: 0,
  refresh: async () => {
    try {
      const [view, locals] = await Promise.all([native.instance_list(), native.local_states()]);
      set({ view, locals: Object.fromEntries(locals.map((l) => [l.id, l])), loadError: null });
    } catch (e) {
      set({ loadError: e as ErrorBody });
    }
  },
  probe: async (id) => {
    try {
      const s = await native.instance_status(id);
      set({ statuses: { ...get().statuses, [id]: s } });
    } catch (e) {
      const err = e as ErrorBody;
      set({ statuses: { ...get().statuses, [id]: { id, online: false, error: err } } });
    }
  },
  probeAll: async () => {
    const ids = get().view?.instances.map((i) => i.id) ?? [];
    await Promise.all(ids.map((id) => get().probe(id)));
  },
}));

/** Live status: every instance is probed now and every 5 s (the side effect lives here). */
export function startStatusPolling(): () => void {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    await useInstances.getState().probeAll();
  };
  const timer = setInterval(tick, 5000);
  void useInstances.getState().refresh().then(tick);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * Starts or stops a local instance: the one toggle the sidebar, the canvas's panel and the
 * factory share. A second call while one is under way is ignored (one taken while a stop is
 * still running would stop again instead of starting); errors go to `onError`.
 */
export async function switchLocal(id: string, start: boolean, onError: (e: unknown) => void): Promise<void> {
  const st = useInstances.getState();
  if (st.switching[id]) return;
  useInstances.setState({ switching: { ...st.switching, [id]: start ? "starting" : "stopping" } });
  try {
    if (start) await native.local_start(id);
    else await native.local_stop(id);
    await useInstances.getState().refresh();
    await useInstances.getState().probe(id);
  } catch (e) {
    onError(e);
  } finally {
    const { [id]: _, ...rest } = useInstances.getState().switching;
    useInstances.setState({ switching: rest, switched: useInstances.getState().switched + 1 });
  }
}
