import { describe, expect, it } from "vitest";
import { batches, parseCsv, parseJson, preview, rejectedFile, typed, withKey } from "./importing";

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

describe("import preview", () => {
  it("shows each column's inferred type and the first rows, and offers the table's key when the file has it", () => {
    const r = parseCsv("code,name,born,ok\nA1,Rex,2020-01-02T10:00:00Z,true\nB2,Bo,2021-03-04T11:00:00Z,false\n");
    const p = preview(r.records, "id");
    expect(p.columns).toEqual([
      { name: "code", kind: "text" },
      { name: "name", kind: "text" },
      { name: "born", kind: "datetime" },
      { name: "ok", kind: "boolean" },
    ]);
    expect(p.rows).toHaveLength(2);
    expect(p.key).toBeNull();
    expect(preview([{ id: 1, n: 2 }], "id").key).toBe("id");
  });

  it("writes the chosen key column under the table's primary key, losing nothing", () => {
    const recs = [{ code: "A1", name: "Rex" }, { code: "B2", id: 7 }];
    expect(withKey(recs, "code", "id")).toEqual([{ id: "A1", name: "Rex" }, { id: "B2", code: 7 }]);
    expect(withKey(recs, null, "id")).toBe(recs);
    expect(withKey(recs, "id", "id")).toBe(recs);
  });
});

describe("CSV cells", () => {
  it("become numbers a double holds exactly, booleans, or stay text (dates included)", () => {
    expect([typed("12"), typed("-1.5"), typed("1e3"), typed("true"), typed("FALSE")]).toEqual([12, -1.5, 1000, true, false]);
    expect(typed("12345678901234567890")).toBe("12345678901234567890");
    expect(typed("2020-01-02T10:00:00Z")).toBe("2020-01-02T10:00:00Z");
    expect(typed("007x")).toBe("007x");
    expect(typed(" ")).toBe(" ");
  });
});
