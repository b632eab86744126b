import { describe, expect, it } from "vitest";
import { emptyUpdate, isNewer, useTail } from "./store";

describe("the tail's store", () => {
  it("takes an update of the open tail only when it is newer than what is shown", () => {
    const v = (version: number, received: number) => ({ ...emptyUpdate(), version, received });
    useTail.setState({ tailId: "t1", view: v(3, 30) });
    useTail.getState().take("t1", v(2, 20));
    expect(useTail.getState().view.received).toBe(30);
    useTail.getState().take("t0", v(9, 90));
    expect(useTail.getState().view.received).toBe(30);
    useTail.getState().take("t1", v(4, 40));
    expect(useTail.getState().view.received).toBe(40);
    expect(isNewer(v(5, 0), v(4, 0))).toBe(true);
    expect(isNewer(v(4, 0), v(4, 0))).toBe(false);
  });
});
