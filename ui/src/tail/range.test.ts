import { describe, expect, it } from "vitest";
import { cutTo, fittingChars, fixedRange } from "./range";

describe("the rows on screen", () => {
  it("cover the viewport and the overscan, clamped to the list", () => {
    expect(fixedRange(0, 260, 26, 50_000, 6)).toEqual({ first: 0, last: 16 });
    expect(fixedRange(26 * 1000 + 13, 260, 26, 50_000, 6)).toEqual({ first: 994, last: 1017 });
    expect(fixedRange(26 * 49_990, 260, 26, 50_000, 6)).toEqual({ first: 49_984, last: 50_000 });
  });

  it("are none of an empty list, and stay in range when the list shrank under the scroll", () => {
    expect(fixedRange(0, 260, 26, 0, 6)).toEqual({ first: 0, last: 0 });
    expect(fixedRange(26 * 5000, 260, 26, 100, 6)).toEqual({ first: 100, last: 100 });
    expect(fixedRange(-40, 260, 26, 100, 6)).toEqual({ first: 0, last: 16 });
  });
});

describe("a preview cut to its cell", () => {
  it("keeps at least the characters that fit, and leaves unmeasured cells alone", () => {
    // 360 px of 12 px monospace show about 50 characters (7.2 px each).
    const n = fittingChars(360, 12);
    expect(n).toBeGreaterThanOrEqual(50);
    expect(n).toBeLessThan(60);
    expect(fittingChars(0, 12)).toBe(0);
    const text = "x".repeat(160);
    expect(cutTo(text, n)).toHaveLength(n);
    expect(cutTo(text, 0)).toBe(text);
    expect(cutTo("short", n)).toBe("short");
  });
});
