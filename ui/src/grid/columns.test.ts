import { beforeEach, describe, expect, it } from "vitest";
import { freshStorage } from "../stores/memory-storage";
import { loadOrder, moveColumn, orderColumns, saveOrder, stepColumn } from "./columns";

describe("column order", () => {
  beforeEach(() => {
    freshStorage();
  });

  it("follows the saved order, drops columns the table lost and places new ones after their neighbour", () => {
    expect(orderColumns(["id", "a", "b"], undefined)).toEqual(["id", "a", "b"]);
    expect(orderColumns(["id", "a", "b"], ["b", "id", "a"])).toEqual(["b", "id", "a"]);
    expect(orderColumns(["id", "b"], ["b", "gone", "id", "a"])).toEqual(["b", "id"]);
    // `c` followed `a` in the table: it stays right after `a` wherever the user put `a`.
    expect(orderColumns(["id", "a", "c", "b"], ["a", "b", "id"])).toEqual(["a", "c", "b", "id"]);
    // A new first column stays first.
    expect(orderColumns(["new", "id", "a"], ["a", "id"])).toEqual(["new", "a", "id"]);
    // A saved list with a duplicate does not duplicate a column.
    expect(orderColumns(["id", "a"], ["a", "a", "id"])).toEqual(["a", "id"]);
  });

  it("moves a column onto another's place, left or right", () => {
    expect(moveColumn(["id", "a", "b", "c"], "c", "a")).toEqual(["id", "c", "a", "b"]);
    expect(moveColumn(["id", "a", "b", "c"], "id", "b")).toEqual(["a", "b", "id", "c"]);
    expect(moveColumn(["id", "a"], "id", "id")).toEqual(["id", "a"]);
    expect(moveColumn(["id", "a"], "x", "a")).toEqual(["id", "a"]);
  });

  it("steps a column one place, and not past either end", () => {
    expect(stepColumn(["id", "a", "b"], "a", -1)).toEqual(["a", "id", "b"]);
    expect(stepColumn(["id", "a", "b"], "a", 1)).toEqual(["id", "b", "a"]);
    expect(stepColumn(["id", "a", "b"], "id", -1)).toEqual(["id", "a", "b"]);
    expect(stepColumn(["id", "a", "b"], "b", 1)).toEqual(["id", "a", "b"]);
  });

  it("is kept per table and can be forgotten", () => {
    saveOrder("local/dev/dog", ["name", "id"]);
    saveOrder("local/dev/cat", ["id", "lives"]);
    expect(loadOrder("local/dev/dog")).toEqual(["name", "id"]);
    expect(loadOrder("local/dev/cat")).toEqual(["id", "lives"]);
    saveOrder("local/dev/dog", undefined);
    expect(loadOrder("local/dev/dog")).toBeUndefined();
    expect(loadOrder("local/dev/cat")).toEqual(["id", "lives"]);
    localStorage.setItem("switchyard.columnOrder", JSON.stringify({ "local/dev/dog": [1, 2] }));
    expect(loadOrder("local/dev/dog")).toBeUndefined();
  });
});
