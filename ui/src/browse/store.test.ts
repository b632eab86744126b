import { describe, expect, it, vi } from "vitest";
import { native } from "../platform";
import type { InstanceStatus, TreeDatabase, TreeTable } from "../platform";
import { findTable, treesToRecount, treesToReload, useBrowse, withTable } from "./store";

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

describe("trees that failed", () => {
  const ok = (id: string): InstanceStatus => ({ id, online: true });
  const refused = (id: string): InstanceStatus => ({ id, online: true, error: { code: "unauthorized", message: "Login failed" } });
  const down = (id: string): InstanceStatus => ({ id, online: false, error: { code: "unreachable", message: "refused" } });
  const failed = { dbs: null, loading: false, error: { code: "unauthorized" as const, message: "Login failed" } };

  it("are read again once their instance is healthy, whatever made them fail", () => {
    // A wrong password fixed through Edit: the status turns healthy, the tree's error goes.
    expect(treesToReload({ a: refused("a") }, { a: ok("a") }, { a: failed }, { a: true })).toEqual(["a"]);
    // Even when the status was healthy before (the tree failed on its own).
    expect(treesToReload({ a: ok("a") }, { a: ok("a") }, { a: failed }, {})).toEqual(["a"]);
    // Back online and open: read again; closed and never loaded: left alone.
    expect(treesToReload({ a: down("a"), b: down("b") }, { a: ok("a"), b: ok("b") }, {}, { a: true })).toEqual(["a"]);
  });

  it("are left alone while their instance still fails, or while a read is under way", () => {
    expect(treesToReload({ a: refused("a") }, { a: refused("a") }, { a: failed }, { a: true })).toEqual([]);
    expect(treesToReload({}, { a: ok("a") }, { a: { ...failed, loading: true } }, { a: true })).toEqual([]);
    const loaded = { dbs: tree, loading: false, error: null };
    expect(treesToReload({ a: ok("a") }, { a: ok("a") }, { a: loaded }, { a: true })).toEqual([]);
  });
});

describe("record counts kept current", () => {
  const ok = (id: string): InstanceStatus => ({ id, online: true });
  const down = (id: string): InstanceStatus => ({ id, online: false, error: { code: "unreachable", message: "refused" } });
  const loaded = { dbs: tree, loading: false, error: null };

  it("read again the trees open in the sidebar of healthy instances", () => {
    const statuses = { a: ok("a"), b: ok("b"), c: down("c"), d: ok("d"), e: ok("e") };
    const trees = { a: loaded, b: loaded, c: loaded, d: { ...loaded, loading: true }, e: { dbs: null, loading: false, error: { code: "unauthorized" as const, message: "Login failed" } } };
    // b is closed, c is down, d is loading already, e failed (the retry on recovery reads it).
    expect(treesToRecount(statuses, trees, { a: true, c: true, d: true, e: true })).toEqual(["a"]);
    expect(treesToRecount(statuses, {}, { a: true })).toEqual([]);
  });

  it("take what they read, but never over a table read anew while they were reading", async () => {
    const later = [{ name: "dev", tables: [table("cat", 4), table("dog", 7)] }];
    const read = vi.spyOn(native, "browse_tree");
    try {
      useBrowse.setState({ trees: { i1: { dbs: tree, loading: false, error: null, version: 3 } } });
      read.mockResolvedValueOnce(later);
      await useBrowse.getState().recount("i1");
      expect(findTable(useBrowse.getState().trees.i1.dbs, "dev", "dog")?.recordCount).toBe(7);

      // The studio writes (and reads the table anew) while a recount is under way.
      let answer: (dbs: TreeDatabase[]) => void = () => {};
      read.mockReturnValueOnce(new Promise((r) => (answer = r)));
      const recount = useBrowse.getState().recount("i1");
      useBrowse.getState().tableSeen("i1", "dev", table("dog", 9));
      answer(later);
      await recount;
      expect(findTable(useBrowse.getState().trees.i1.dbs, "dev", "dog")?.recordCount).toBe(9);
    } finally {
      read.mockRestore();
    }
  });

  it("leave the tree as it was when the read fails", async () => {
    useBrowse.setState({ trees: { i1: { dbs: tree, loading: false, error: null } } });
    const before = useBrowse.getState().trees.i1;
    // No instance answers in a unit test: the read fails and the tree is left as it was.
    await useBrowse.getState().recount("i1");
    expect(useBrowse.getState().trees.i1).toBe(before);
  });
});
