import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { native } from ".";
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

  it("offers one function per registered command, named as the command it sends", () => {
    expect(Object.keys(native).sort()).toEqual([...COMMAND_NAMES].sort());
    const generated = readFileSync(join(SRC, "platform", "commands.ts"), "utf8");
    const pairs = [...generated.matchAll(/^ {4}([a-z_]+): \(.*?\) => call\("([a-z_]+)"/gm)].map((m) => [m[1], m[2]]);
    expect(pairs.length).toBe(COMMAND_NAMES.length);
    for (const [name, sent] of pairs) expect(sent).toBe(name);
  });
});
