import { describe, expect, it } from "vitest";
import type { TreeDatabase } from "../platform";
import { searchHistory, sqlSchema } from "./schema";

describe("the SQL editor's schema", () => {
  it("names every loaded table as database.table with its attributes, the key first", () => {
    const dbs: TreeDatabase[] = [
      { name: "dev", tables: [{ name: "dog", primaryKey: "id", recordCountEstimated: false, attributes: ["name", "id", "age"] }] },
      { name: "factory", tables: [{ name: "config", primaryKey: "key", recordCountEstimated: false, attributes: [] }] },
    ];
    expect(sqlSchema(dbs)).toEqual({ "dev.dog": ["id", "name", "age"], "factory.config": ["key"] });
    expect(sqlSchema(null)).toEqual({});
  });

  it("finds history entries by every word typed, in any order and case", () => {
    const items = ["SELECT * FROM dev.dog", "SELECT COUNT(*) FROM dev.big", "DELETE FROM dev.dog WHERE id = 1"];
    expect(searchHistory(items, "")).toEqual(items);
    expect(searchHistory(items, "dog select")).toEqual(["SELECT * FROM dev.dog"]);
    expect(searchHistory(items, "DEV")).toEqual(items);
    expect(searchHistory(items, "nothing")).toEqual([]);
  });
});
