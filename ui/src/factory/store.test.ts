import { describe, expect, it } from "vitest";
import { LAYOUT, perSecond } from "./store";

describe("the factory scenario", () => {
  it("tells the rate written from two looks at the totals", () => {
    expect(perSecond(1000, 3000, 2)).toBe(1000);
    expect(perSecond(3000, 1000, 2)).toBe(0);
    expect(perSecond(0, 10, 0)).toBe(0);
  });

  it("lays the edges out left of hq, apart", () => {
    expect(LAYOUT["edge-1"].x).toBeLessThan(LAYOUT.hq.x);
    expect(LAYOUT["edge-2"].x).toBeLessThan(LAYOUT.hq.x);
    expect(Math.abs(LAYOUT["edge-1"].y - LAYOUT["edge-2"].y)).toBeGreaterThan(150);
  });
});
