import { describe, expect, it } from "vitest";
import { batches, parseCsv, parseJson, rejectedFile } from "./importing";

describe("import parsing", () => {
  it("CSV rows become typed records; ragged rows are reported", () => {
    const r = parseCsv("id,name,age\n1,Rex,3\n2,Bo\n3,Max,5,extra\n");
    expect(r.records[0]).toEqual({ id: 1, name: "Rex", age: 3 });
    expect(r.records.length + r.rejected.length).toBe(3);
    expect(r.rejected.length).toBeGreaterThan(0);
  });

  it("JSON arrays, single objects and NDJSON; non-objects are rejected with their position", () => {
    expect(parseJson('[{"id":1},2,{"id":3}]')).toEqual({ records: [{ id: 1 }, { id: 3 }], rejected: [{ at: 2, reason: "not a JSON object", raw: "2" }], format: "json" });
    expect(parseJson('{"id":1}').records).toEqual([{ id: 1 }]);
    const nd = parseJson('{"id":1}\n{oops\n{"id":2}\n');
    expect(nd.records).toEqual([{ id: 1 }, { id: 2 }]);
    expect(nd.rejected[0].at).toBe(2);
    expect(parseJson("[1,").rejected[0].reason).toMatch(/not valid JSON/);
  });

  it("CSV rows are named by the line they start on, after quoted fields spanning lines and blank lines", () => {
    const text = 'id,name,note\n1,Rex,"two\nlines"\n2,Bo\n\n3,Max,ok\n4,Ida,"three\nmore\nlines",x\n5,Zed,fine\n';
    const r = parseCsv(text);
    expect(r.records).toEqual([{ id: 1, name: "Rex", note: "two\nlines" }, { id: 3, name: "Max", note: "ok" }, { id: 5, name: "Zed", note: "fine" }]);
    expect(r.rejected.map((x) => [x.at, x.reason])).toEqual([
      [4, "too few fields: expected 3, found 2"],
      [7, "too many fields: expected 3, found 4"],
    ]);
    expect(r.rejected[1].raw).toBe('4,Ida,"three\nmore\nlines",x');
    // Every rejected row, not only the first, goes to a file to fix: the header, then the rows.
    expect(rejectedFile(r, "dogs.csv")).toEqual({ name: "dogs-rejected.csv", contents: 'id,name,note\n2,Bo\n4,Ida,"three\nmore\nlines",x\n' });
    // Fixed and imported again, it reads back as records.
    const fixed = parseCsv(rejectedFile(r, "dogs.csv").contents.replace("2,Bo", "2,Bo,ok").replace(",x\n", "\n"));
    expect(fixed.rejected).toEqual([]);
    expect(fixed.records.map((x) => x.id)).toEqual([2, 4]);
  });

  it("CSV with Windows line ends counts lines the same", () => {
    const r = parseCsv("id,name\r\n1,Rex\r\n2\r\n3,Max\r\n");
    expect(r.records).toEqual([{ id: 1, name: "Rex" }, { id: 3, name: "Max" }]);
    expect(r.rejected.map((x) => [x.at, x.raw])).toEqual([[3, "2"]]);
  });

  it("rejected NDJSON lines go to an NDJSON file as they were", () => {
    const nd = parseJson('{"id":1}\n{oops\n7\n');
    expect(rejectedFile(nd, "x.ndjson")).toEqual({ name: "x-rejected.ndjson", contents: "{oops\n7\n" });
  });

  it("batches keep order and size", () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
