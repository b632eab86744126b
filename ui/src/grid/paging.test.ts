import { describe, expect, it } from "vitest";
import { applyPage, emptyWindow, nextAnchor, positionLabel, prevAnchor, wantsMore, type PagingWindow } from "./paging";
import type { Page } from "../platform/ipc";

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: `r${from + i}` }));
const page = (from: number, n: number, extra: Partial<Page> = {}): Page => ({ rows: rows(from, n), columns: ["id", "name"], total: 1000, offset: undefined, atEnd: n < 200, ...extra });

describe("paging window", () => {
  it("first page starts at 0 and asks for the next page after its last key", () => {
    const w = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    expect(w.start).toBe(0);
    expect(w.atStart).toBe(true);
    expect(w.atEnd).toBe(false);
    expect(nextAnchor(w, "id", null)).toEqual({ kind: "after", key: 199 });
    expect(prevAnchor(w, "id", null)).toBeNull();
    expect(positionLabel(w, 0, 29)).toBe("rows 1–30 of 1,000");
  });

  it("appending past the cap drops rows at the front and keeps absolute positions", () => {
    let w = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    w = applyPage(w, page(200, 200), { kind: "after", key: 199 }, "append", 300);
    expect(w.rows.length).toBe(300);
    expect(w.start).toBe(100);
    expect(w.rows[0].id).toBe(100);
    expect(w.atStart).toBe(false);
    expect(prevAnchor(w, "id", null)).toEqual({ anchor: { kind: "before", key: 100 }, limit: 200 });
  });

  it("the last page is at the end and knows its offset from the total", () => {
    const w = applyPage(emptyWindow(), page(800, 200, { offset: 800, atEnd: false }), { kind: "last" }, "replace");
    expect(w.atEnd).toBe(true);
    expect(w.atStart).toBe(false);
    expect(nextAnchor(w, "id", null)).toBeNull();
    expect(positionLabel(w, 190, 199)).toBe("rows 991–1,000 of 1,000");
  });

  it("prepending a short page reaches the start", () => {
    let w: PagingWindow = applyPage(emptyWindow(), page(50, 200, { offset: 50 }), { kind: "offset", offset: 50 }, "replace");
    w = applyPage(w, page(0, 50, { atEnd: true }), { kind: "before", key: 50 }, "prepend");
    expect(w.start).toBe(0);
    expect(w.atStart).toBe(true);
    expect(w.rows[0].id).toBe(0);
  });

  it("sorts on other attributes page by offset", () => {
    const sort = { attribute: "name", descending: false };
    const w = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    expect(nextAnchor(w, "id", sort)).toEqual({ kind: "offset", offset: 200 });
    const later = applyPage(emptyWindow(), page(0, 200, { offset: 500 }), { kind: "offset", offset: 500 }, "replace");
    expect(prevAnchor(later, "id", sort)).toEqual({ anchor: { kind: "offset", offset: 300 }, limit: 200 });
  });

  it("asks for more only near an open edge", () => {
    const w = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    expect(wantsMore(w, 0, 20)).toBeNull();
    expect(wantsMore(w, 140, 160)).toBe("append");
    const done = { ...w, atEnd: true };
    expect(wantsMore(done, 140, 199)).toBeNull();
  });
});
