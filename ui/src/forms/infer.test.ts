import { describe, expect, it } from "vitest";
import { buildRecord, fieldOrder, fromInput, inferFields, inferKind, parseRawRecord, toInput } from "./infer";

describe("inferKind", () => {
  it("picks the most common kind and ignores nulls", () => {
    expect(inferKind("age", [3, 5, null, 7])).toBe("number");
    expect(inferKind("name", ["a", "b", 1])).toBe("text");
    expect(inferKind("ok", [true, false, null])).toBe("boolean");
    expect(inferKind("tags", [["a"], { b: 1 }])).toBe("json");
    expect(inferKind("anything", [null, undefined])).toBe("text");
  });

  it("recognises dates as ISO strings or epoch ms in time-named attributes", () => {
    expect(inferKind("born", ["2024-05-01T10:00:00Z"])).toBe("datetime");
    expect(inferKind("seen_at", [1732230000000])).toBe("datetime");
    expect(inferKind("count", [1732230000000])).toBe("number");
    expect(inferKind("code", ["2024"])).toBe("text");
  });
});

describe("form fields", () => {
  const sample = [{ id: 1, name: "Rex", age: 3, vaccinated: true, owner: { name: "Ann" }, __createdtime__: 1732230000000 }];

  it("marks server fields and the key of an edited record read-only", () => {
    const fields = inferFields(["id", "name", "age", "__createdtime__"], "id", sample, true);
    const by = Object.fromEntries(fields.map((f) => [f.attribute, f]));
    expect(by.id.readOnly).toBe(true);
    expect(by.__createdtime__.readOnly).toBe(true);
    expect(by.name.readOnly).toBe(false);
    expect(by.owner.kind).toBe("json");
    expect(by.vaccinated.kind).toBe("boolean");
  });

  it("come in the grid's column order, the key first and the server's fields last, as dates", () => {
    const fields = inferFields(["id", "age", "name", "owner", "vaccinated", "__createdtime__"], "id", sample, true, ["id", "name", "owner", "age", "__createdtime__"]);
    expect(fields.map((f) => f.attribute)).toEqual(["id", "name", "owner", "age", "vaccinated", "__createdtime__"]);
    expect(fields.find((f) => f.attribute === "__createdtime__")?.kind).toBe("datetime");
    expect(fieldOrder(["__updatedtime__", "b", "id", "__createdtime__", "a"], "id", [])).toEqual(["id", "b", "a", "__createdtime__", "__updatedtime__"]);
    expect(fieldOrder(["a"], "key", ["a"])).toEqual(["key", "a"]);
  });

  it("a new record has no server timestamps to fill in", () => {
    const fields = inferFields(["id", "name", "__createdtime__", "__updatedtime__"], "id", sample, false);
    expect(fields.map((f) => f.attribute)).not.toContain("__createdtime__");
  });

  it("validates before sending and reports every bad field", () => {
    const fields = inferFields(["id", "name", "age", "owner"], "id", sample, false);
    const bad = buildRecord(fields, { id: "", name: "Rex", age: "three", owner: "{nope" }, "id", false);
    expect(Object.keys(bad.errors).sort()).toEqual(["age", "owner"]);
    const good = buildRecord(fields, { id: "", name: "Rex", age: "4", owner: '{"name":"Bo"}' }, "id", false);
    expect(good.errors).toEqual({});
    expect(good.record).toEqual({ name: "Rex", age: 4, owner: { name: "Bo" } });
  });

  it("an edit keeps the key and clears emptied fields", () => {
    const dog = { id: 1, name: "Rex", age: 3 };
    const fields = inferFields(["id", "name", "age"], "id", [dog], true);
    const { record } = buildRecord(fields, { id: "999", name: "Rex", age: "" }, "id", true, dog);
    expect(record).toEqual({ id: 1, name: "Rex", age: null });
  });

  it("round-trips values through the inputs", () => {
    expect(toInput("json", { a: [1] })).toContain('"a"');
    const f = { attribute: "seen_at", kind: "datetime" as const, readOnly: false };
    const text = toInput("datetime", 1732230000000);
    const back = fromInput(f, text);
    expect(back.ok && back.value).toBe(1732230000000);
    expect(fromInput({ attribute: "x", kind: "boolean", readOnly: false }, "maybe").ok).toBe(false);
  });

  it("attributes with no values yet take numbers and booleans as typed", () => {
    const [id, name] = inferFields(["id", "name"], "id", [], false);
    expect(id.guessed).toBe(true);
    expect(fromInput(id, "1")).toEqual({ ok: true, value: 1, empty: false });
    expect(fromInput(name, "Rex")).toEqual({ ok: true, value: "Rex", empty: false });
    const seen = inferFields(["code"], "id", [{ code: "007" }], false).find((f) => f.attribute === "code")!;
    expect(fromInput(seen, "42")).toEqual({ ok: true, value: "42", empty: false });
  });

  it("raw JSON must be one object and loses server fields", () => {
    expect(parseRawRecord("[1]").ok).toBe(false);
    expect(parseRawRecord("{").ok).toBe(false);
    const r = parseRawRecord('{"id":1,"__updatedtime__":5}');
    expect(r.ok && r.record).toEqual({ id: 1 });
  });
});
