import { beforeEach, describe, expect, it } from "vitest";
import { freshStorage } from "./memory-storage";
import { readStored, writeStored } from "./stored";

describe("stored preferences", () => {
  beforeEach(() => {
    freshStorage();
  });

  it("read back what was written, or the fallback when absent or not valid", () => {
    const isList = (v: unknown) => Array.isArray(v);
    expect(readStored("k", [], isList)).toEqual([]);
    writeStored("k", ["a", "b"]);
    expect(readStored("k", [], isList)).toEqual(["a", "b"]);
    localStorage.setItem("k", "{broken");
    expect(readStored("k", ["x"], isList)).toEqual(["x"]);
  });

  it("read a value stored as plain text before values were JSON", () => {
    localStorage.setItem("theme", "dark");
    expect(readStored("theme", "light", (v) => v === "light" || v === "dark")).toBe("dark");
    writeStored("theme", "light");
    expect(readStored("theme", "dark", (v) => v === "light" || v === "dark")).toBe("light");
  });
});
