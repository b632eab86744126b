import { describe, expect, it } from "vitest";
import { applyPage, applyReread, emptyWindow, nextAnchor, positionLabel, prevAnchor, rereadPlan, wantsMore, type PagingWindow } from "./paging";
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

  it("reading again in place keeps the rows above the view and their indices", () => {
    // Scrolled down to rows 5,001–5,020 of a key-paged window that starts at the table's start.
    let w = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    for (let from = 200; from < 6000; from += 200) w = applyPage(w, page(from, 200), { kind: "after", key: from - 1 }, "append");
    const plan = rereadPlan(w, 5000, 5019, "id", null);
    expect(plan).toEqual({ anchor: { kind: "after", key: 4949 }, from: 4950, limit: 200 });
    // Row 5,000 was deleted meanwhile: the rows below it move up by one, the ones above stay.
    const fresh = rows(4950, 250).filter((r) => r.id !== 5000).slice(0, 200);
    const next = applyReread(w, { rows: fresh, columns: ["id", "name", "note"], total: 999, atEnd: false }, plan.anchor, plan.from);
    expect(next.rows.length).toBe(5150);
    expect(next.rows[4999].id).toBe(4999);
    expect(next.rows[5000].id).toBe(5001);
    expect(next.start).toBe(0);
    expect(next.total).toBe(999);
    expect(next.atStart).toBe(true);
    expect(next.atEnd).toBe(false);
    expect(next.columns).toEqual(["id", "name", "note"]);
    expect(positionLabel(next, 5000, 5019)).toBe("rows 5,001–5,020 of 999");
  });

  it("reading again near the start, from the end, by offset, or with nothing read starts where it must", () => {
    const top = applyPage(emptyWindow(), page(0, 200, { offset: 0 }), { kind: "first" }, "replace");
    expect(rereadPlan(top, 10, 30, "id", null)).toEqual({ anchor: { kind: "first" }, from: 0, limit: 200 });
    expect(rereadPlan(emptyWindow(), 0, 0, "id", null)).toEqual({ anchor: { kind: "first" }, from: 0, limit: 200 });
    // A window that does not begin at the start keeps its row 0: the key above it is unknown.
    const end = applyPage(emptyWindow(), page(800, 200, { offset: 800 }), { kind: "last" }, "replace");
    expect(rereadPlan(end, 5, 30, "id", null)).toEqual({ anchor: { kind: "after", key: 800 }, from: 1, limit: 200 });
    // Sorted on another attribute: by offset, from the window's known start.
    const sort = { attribute: "name", descending: false };
    const later = applyPage(emptyWindow(), page(0, 200, { offset: 500 }), { kind: "offset", offset: 500 }, "replace");
    const plan = rereadPlan(later, 100, 120, "id", sort);
    expect(plan).toEqual({ anchor: { kind: "offset", offset: 550 }, from: 50, limit: 200 });
    const next = applyReread(later, page(50, 200, { offset: 550, atEnd: true }), plan.anchor, plan.from);
    expect(next.start).toBe(500);
    expect(next.atEnd).toBe(true);
    expect(next.rows[100].id).toBe(100);
    // Filtered, sorted on another attribute and read from the end: no offset is known, so the
    // one page is read again whole.
    const blind = applyPage(emptyWindow(), page(0, 120, { total: undefined, atEnd: true }), { kind: "last" }, "replace");
    expect(blind.start).toBeNull();
    expect(positionLabel(blind, 3, 3)).toBe("1 row shown");
    // A page read from a key that reaches the end, the count known: its place follows.
    const fromKey = applyPage(emptyWindow(), page(990, 10, { atEnd: true }), { kind: "after", key: 989 }, "replace");
    expect(fromKey.start).toBe(990);
    expect(positionLabel(fromKey, 0, 9)).toBe("rows 991–1,000 of 1,000");
    const middle = applyPage(emptyWindow(), page(500, 200, { atEnd: false }), { kind: "after", key: 499 }, "replace");
    expect(middle.start).toBeNull();
    expect(positionLabel({ ...blind, total: 1000 }, 3, 7)).toBe("5 rows shown of 1,000");
    expect(rereadPlan(blind, 60, 80, "id", sort)).toEqual({ anchor: { kind: "last" }, from: 0, limit: 120 });
    // A reread never grows the window past its cap, and cuts below the rows in view.
    const big = applyReread(later, page(50, 200), plan.anchor, 150, 300);
    expect(big.rows.length).toBe(300);
    expect(big.atEnd).toBe(false);
  });
});
