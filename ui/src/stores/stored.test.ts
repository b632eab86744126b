import { beforeEach, describe, expect, it } from "vitest";
import { readStored, writeStored } from "./stored";

class Memory {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

describe("stored preferences", () => {
  beforeEach(() => {
    (globalThis as unknown as { localStorage: Memory }).localStorage = new Memory();
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
