import { describe, expect, it } from "vitest";
import { cellText, cellView, fitWidth, MAX_COL_WIDTH, MIN_COL_WIDTH } from "./cells";

describe("grid cells", () => {
  it("tell NULL, a missing attribute and an empty string apart", () => {
    expect(cellView(null).kind).toBe("null");
    expect(cellView(undefined).kind).toBe("missing");
    expect(cellView("").kind).toBe("empty");
    expect(new Set([cellView(null).text, cellView(undefined).text, cellView("").text]).size).toBe(3);
    expect(cellView("x").kind).toBe("text");
  });

  it("mark numbers (right-aligned) and read server timestamps as dates, the epoch in the tooltip", () => {
    expect(cellView(42)).toEqual({ text: "42", kind: "number" });
    const d = cellView(Date.UTC(2026, 10, 30, 8, 0, 0, 5), "__createdtime__");
    expect(d.kind).toBe("date");
    expect(d.text).toMatch(/^2026-11-30 \d\d:00:00\.005$/);
    expect(d.title).toContain("2026-11-30T08:00:00.005Z");
    expect(cellView(12, "age").kind).toBe("number");
  });

  it("cut long values and keep them whole in the tooltip", () => {
    const long = "x".repeat(500);
    const v = cellView(long);
    expect(v.text.length).toBe(201);
    expect(v.title).toBe(long);
    const obj = { a: [1, 2], b: { c: "d" } };
    expect(cellView(obj)).toEqual({ text: JSON.stringify(obj), kind: "json", title: JSON.stringify(obj, null, 2) });
    expect(cellText(null)).toBe("");
    // Filters and exports take the plain text: an empty string is empty there.
    expect(cellText("")).toBe("");
  });

  it("fit a column to its widest text, within bounds", () => {
    const measure = (s: string) => s.length * 7;
    expect(fitWidth(["ab", "abcdefghij"], measure)).toBe(96);
    expect(fitWidth([""], measure)).toBe(MIN_COL_WIDTH);
    expect(fitWidth(["x".repeat(1000)], measure)).toBe(MAX_COL_WIDTH);
  });
});

describe("dates", () => {
  it("follow the zone chosen: UTC reads the same everywhere, and the tooltip names it", () => {
    const v = cellView(Date.UTC(2026, 10, 30, 8, 0, 0, 5), "__createdtime__", "utc");
    expect(v.text).toBe("2026-11-30 08:00:00.005");
    expect(v.title).toMatch(/^2026-11-30 08:00:00\.005 UTC · /);
  });
});
