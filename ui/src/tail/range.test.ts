import { describe, expect, it } from "vitest";
import { fixedRange } from "./range";

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
