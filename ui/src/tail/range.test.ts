import { describe, expect, it } from "vitest";
import { PORT_MARGIN, bandSources, covers, fixedRange, nextBand, portAround, replacedAll } from "./range";

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

describe("the list's bands", () => {
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ seq: from + i }));

  it("are replaced all when no row on screen was on screen before", () => {
    expect(replacedAll([1, 2, 3], [4, 5, 6])).toBe(true);
    expect(replacedAll([1, 2, 3], [2, 3, 4])).toBe(false);
    expect(replacedAll([], [4, 5])).toBe(true);
    expect(replacedAll([1, 2], [])).toBe(false);
  });

  it("are asked for with a margin each side, from the list's start at most", () => {
    expect(portAround("newest", 100, 130)).toEqual({ order: "newest", first: 100 - PORT_MARGIN, count: 30 + 2 * PORT_MARGIN });
    expect(portAround("oldest", 5, 30)).toEqual({ order: "oldest", first: 0, count: 30 + PORT_MARGIN });
    const p = portAround("newest", 100, 130);
    expect(covers(p, "newest", 100, 130)).toBe(true);
  });

  it("are covered by a page holding each of them, in the same order", () => {
    const port = { order: "newest", first: 10, count: 40 };
    expect(covers(port, "newest", 10, 50)).toBe(true);
    expect(covers(port, "newest", 12, 30)).toBe(true);
    expect(covers(port, "newest", 5, 30)).toBe(false);
    expect(covers(port, "newest", 12, 51)).toBe(false);
    expect(covers(port, "oldest", 12, 30)).toBe(false);
    expect(covers({ order: "newest", first: 0, count: 0 }, "oldest", 0, 0)).toBe(true);
  });

  it("take a whole-screen update one band a frame, anything else at once", () => {
    const [a, b] = [rows(0, 10), rows(10, 20)];
    let s = bandSources([a, a, a, a], b, 4, true);
    expect(s).toEqual([b, a, a, a]);
    expect(s[0]).toBe(b);
    s = nextBand(s, b);
    expect(s[1]).toBe(b);
    expect(s[2]).toBe(a);
    s = nextBand(nextBand(s, b), b);
    expect(s.every((x) => x === b)).toBe(true);
    expect(nextBand(s, b)).toBe(s);
    // Not every row changed, or no bands yet: drawn whole.
    expect(bandSources([a, a, a], b, 3, false).every((x) => x === b)).toBe(true);
    expect(bandSources([], b, 3, true).every((x) => x === b)).toBe(true);
    // More bands than before (the list grew taller): the new ones take the rows at once.
    expect(bandSources([a], b, 3, true)).toEqual([b, b, b]);
  });
});
