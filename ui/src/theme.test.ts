import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** The custom properties of the block that starts with `selector {` in styles.css. */
function block(css: string, selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  const body = css.slice(start, css.indexOf("}", start));
  return Object.fromEntries([...body.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})/g)].map((m) => [m[1], m[2]]));
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const css = readFileSync(new URL("./styles.css", import.meta.url), "utf8");
const light = block(css, ":root");
const dark = { ...light, ...block(css, ':root[data-theme="dark"]') };

/** Text colour on the backgrounds it is drawn on. */
const PAIRS: [string, string[]][] = [
  ["fg", ["bg", "bg2", "bg3", "sel", "err-bg", "info-bg"]],
  ["muted", ["bg", "bg2", "bg3"]],
  ["danger", ["bg", "bg2", "bg3", "err-bg"]],
  ["accent", ["bg", "bg2", "bg3"]],
  ["ok", ["bg", "bg2"]],
  ["warn-text", ["bg", "bg2", "bg3"]],
  ["accent-fg", ["accent"]],
  ["ok-fg", ["ok"]],
  // The SQL editor's tokens, on the editor and its completion list.
  ["syn-keyword", ["bg", "bg2"]],
  ["syn-string", ["bg", "bg2"]],
  ["syn-number", ["bg", "bg2"]],
  ["syn-type", ["bg", "bg2"]],
];

describe("the themes", () => {
  it("measures contrast as WCAG does", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21);
    expect(contrast("#777777", "#ffffff")).toBeLessThan(4.5);
  });

  for (const [name, theme] of [["light", light], ["dark", dark]] as const) {
    it(`${name}: every text colour reads at 4.5:1 or more on its backgrounds`, () => {
      const low: string[] = [];
      for (const [text, backgrounds] of PAIRS) {
        for (const bg of backgrounds) {
          expect(theme[text], `--${text} in the ${name} theme`).toBeDefined();
          expect(theme[bg], `--${bg} in the ${name} theme`).toBeDefined();
          const c = contrast(theme[text], theme[bg]);
          if (c < 4.5) low.push(`--${text} on --${bg}: ${c.toFixed(2)}:1`);
        }
      }
      expect(low).toEqual([]);
    });
  }
});
