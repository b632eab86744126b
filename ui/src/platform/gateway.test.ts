import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES } from "./commands";

const SRC = join(__dirname, "..");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
  });
}

describe("the platform gateway", () => {
  it("is the only module that imports @tauri-apps/*", () => {
    const offenders = files(SRC)
      .filter((f) => !relative(SRC, f).startsWith("platform"))
      .filter((f) => /from\s+["']@tauri-apps\//.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
    expect(readFileSync(join(SRC, "platform", "index.ts"), "utf8")).toMatch(/@tauri-apps\/api\/core/);
  });

  it("wraps every command the native side registers, and only those", () => {
    const source = readFileSync(join(SRC, "platform", "index.ts"), "utf8");
    const called = [...source.matchAll(/call\("([a-z_]+)"/g)].map((m) => m[1]).sort();
    expect(called).toEqual([...COMMAND_NAMES].sort());
  });
});
