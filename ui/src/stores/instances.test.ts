import { afterEach, describe, expect, it, vi } from "vitest";
import { native, type LocalState, type RegistryView } from "../platform";
import { switchLocal, useInstances } from "./instances";

describe("the one start/stop toggle", () => {
  afterEach(() => vi.restoreAllMocks());

  it("takes no second click while one is under way, says what it is doing, and tells the views", async () => {
    let finish: (s: LocalState) => void = () => {};
    const start = vi.spyOn(native, "local_start").mockReturnValue(new Promise((r) => (finish = r)));
    vi.spyOn(native, "instance_list").mockResolvedValue({ instances: [] } as unknown as RegistryView);
    vi.spyOn(native, "local_states").mockResolvedValue([]);
    vi.spyOn(native, "instance_status").mockResolvedValue({ id: "a", online: true });
    const before = useInstances.getState().switched;
    const first = switchLocal("a", true, () => {});
    expect(useInstances.getState().switching).toEqual({ a: "starting" });
    await switchLocal("a", false, () => {});
    expect(start).toHaveBeenCalledTimes(1);
    finish({ id: "a" } as LocalState);
    await first;
    expect(useInstances.getState().switching).toEqual({});
    expect(useInstances.getState().switched).toBe(before + 1);
  });

  it("hands a failure to the caller and is free again after it", async () => {
    vi.spyOn(native, "local_stop").mockRejectedValue({ code: "internal", message: "no" });
    const errors: unknown[] = [];
    await switchLocal("b", false, (e) => errors.push(e));
    expect(errors).toEqual([{ code: "internal", message: "no" }]);
    expect(useInstances.getState().switching).toEqual({});
  });
});
