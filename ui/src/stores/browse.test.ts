import { describe, expect, it } from "vitest";
import type { TreeDatabase, TreeTable } from "../platform";
import { findTable, useBrowse, withTable } from "./browse";

const table = (name: string, recordCount: number): TreeTable => ({ name, primaryKey: "id", recordCount, recordCountEstimated: false, attributes: ["id"] });
const tree: TreeDatabase[] = [
  { name: "dev", tables: [table("cat", 4), table("dog", 0)] },
  { name: "ops", tables: [table("log", 9)] },
];

describe("the tree's record counts", () => {
  it("take a table read anew, and keep everything else as it was", () => {
    const next = withTable(tree, "dev", table("dog", 2));
    expect(findTable(next, "dev", "dog")?.recordCount).toBe(2);
    expect(next[0].tables[0]).toBe(tree[0].tables[0]);
    expect(next[1]).toBe(tree[1]);
    expect(findTable(tree, "dev", "dog")?.recordCount).toBe(0);
    // A table or database the tree did not have yet is added in order.
    expect(withTable(tree, "dev", table("bat", 1))[0].tables.map((t) => t.name)).toEqual(["bat", "cat", "dog"]);
    expect(withTable(tree, "a", table("x", 1)).map((d) => d.name)).toEqual(["a", "dev", "ops"]);
  });

  it("are one source for the sidebar and a table's header: a reload updates both", () => {
    useBrowse.setState({ trees: { i1: { dbs: tree, loading: false, error: null } } });
    useBrowse.getState().tableSeen("i1", "dev", table("dog", 1));
    expect(findTable(useBrowse.getState().trees.i1.dbs, "dev", "dog")?.recordCount).toBe(1);
    // An instance whose tree is not loaded is not given a one-table tree.
    useBrowse.getState().tableSeen("i2", "dev", table("dog", 1));
    expect(useBrowse.getState().trees.i2).toBeUndefined();
  });
});
