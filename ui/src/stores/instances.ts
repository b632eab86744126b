//! Registered instances, their live status and local supervisor state.
import { create } from "zustand";
import { native, type InstanceStatus, type LocalState, type RegistryView, type ErrorBody } from "../platform";

interface InstancesState {
  view: RegistryView | null;
  statuses: Record<string, InstanceStatus>;
  locals: Record<string, LocalState>;
  loadError: ErrorBody | null;
  refresh: () => Promise<void>;
  probe: (id: string) => Promise<void>;
  probeAll: () => Promise<void>;
}

export const useInstances = create<InstancesState>((set, get) => ({
  view: null,
  statuses: {},
  locals: {},
  loadError: null,
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
