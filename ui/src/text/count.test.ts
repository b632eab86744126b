import { describe, expect, it } from "vitest";
import { count, grouped } from "./count";

describe("count", () => {
  it("agrees the noun with the number", () => {
    expect(count(1, "record")).toBe("1 record");
    expect(count(0, "record")).toBe("0 records");
    expect(count(2, "record")).toBe("2 records");
    expect(count(12408, "reading")).toBe("12,408 readings");
    expect(count(1, "entry", "entries")).toBe("1 entry");
    expect(count(3, "entry", "entries")).toBe("3 entries");
  });
});

describe("grouped", () => {
  it("groups thousands the same way whatever the locale", () => {
    expect(grouped(100000)).toBe("100,000");
    expect(grouped(50000)).toBe("50,000");
    expect(grouped(999)).toBe("999");
    expect(grouped(0)).toBe("0");
  });
});
