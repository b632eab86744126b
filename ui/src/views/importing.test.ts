import { describe, expect, it } from "vitest";
import { batches, parseCsv, parseJson } from "./importing";

describe("import parsing", () => {
  it("CSV rows become typed records; ragged rows are reported", () => {
    const r = parseCsv("id,name,age\n1,Rex,3\n2,Bo\n3,Max,5,extra\n");
    expect(r.records[0]).toEqual({ id: 1, name: "Rex", age: 3 });
    expect(r.records.length + r.rejected.length).toBe(3);
    expect(r.rejected.length).toBeGreaterThan(0);
  });

  it("JSON arrays, single objects and NDJSON; non-objects are rejected with their position", () => {
    expect(parseJson('[{"id":1},2,{"id":3}]')).toEqual({ records: [{ id: 1 }, { id: 3 }], rejected: [{ at: 2, reason: "not a JSON object" }] });
    expect(parseJson('{"id":1}').records).toEqual([{ id: 1 }]);
    const nd = parseJson('{"id":1}\n{oops\n{"id":2}\n');
    expect(nd.records).toEqual([{ id: 1 }, { id: 2 }]);
    expect(nd.rejected[0].at).toBe(2);
    expect(parseJson("[1,").rejected[0].reason).toMatch(/not valid JSON/);
  });

  it("batches keep order and size", () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
