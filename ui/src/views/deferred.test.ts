import { describe, expect, it } from "vitest";
import { deferred } from "./deferred";

const View = () => null;

describe("deferred views", () => {
  it("loads a view's code once, however often it is preloaded", async () => {
    let loads = 0;
    const d = deferred(async () => {
      loads += 1;
      return View;
    });
    await Promise.all([d.preload(), d.preload()]);
    await d.preload();
    expect(loads).toBe(1);
  });

  it("tries again after a load that failed", async () => {
    let loads = 0;
    const d = deferred(async () => {
      loads += 1;
      if (loads === 1) throw new Error("chunk not found");
      return View;
    });
    await expect(d.preload()).rejects.toThrow("chunk not found");
    await d.preload();
    expect(loads).toBe(2);
  });
});
