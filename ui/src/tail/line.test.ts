import { describe, expect, it } from "vitest";
import { cutTo, fit, fittingChars, headerPrefix, keysColumn, originColumn, prefix, widths } from "./line";

describe("a tail row as one line", () => {
  const w = widths("edge-1", ["dev:sensor_data", "dev:config"]);
  const fields = { time: "12:58:58.357", node: "edge-1", channel: "dev:config", operation: "insert", keys: "42", origin: "edge-1 #7" };

  it("pads and cuts each field to its column", () => {
    expect(fit("ab", 4)).toBe("ab  ");
    expect(fit("abcdef", 4)).toBe("abc…");
    expect(fit("abcd", 4)).toBe("abcd");
  });

  it("lines every row and the header up in the same columns", () => {
    const row = prefix(fields, w);
    const other = prefix({ ...fields, channel: "dev:sensor_data", keys: keysColumn("1, 2, 3, 4, 5, 6, 7, 8 …", 100), origin: "a-much-longer-origin-name #123456" }, w);
    const head = headerPrefix(w);
    expect(row.length).toBe(head.length);
    expect(other.length).toBe(head.length);
    // Each column starts at the same place in every line.
    expect(row.indexOf("dev:config")).toBe(head.indexOf("channel"));
    expect(other.indexOf("dev:sensor_data")).toBe(head.indexOf("channel"));
    expect(row.indexOf("insert")).toBe(head.indexOf("op"));
    expect(other).toContain("…");
  });

  it("shows how many records a batch holds, whatever the column's cut", () => {
    expect(keysColumn("42", 1)).toBe("42");
    expect(keysColumn("594001, 594002 …", 100)).toBe("100× 594001, 594002 …");
    const row = prefix({ ...fields, keys: keysColumn("594001, 594002, 594003 …", 1000) }, w);
    const keysAt = headerPrefix(w).indexOf("keys");
    expect(row.slice(keysAt, keysAt + w.keys)).toMatch(/^1,000× 594001/);
  });

  it("fits the node name and the channels, within bounds", () => {
    expect(w.channel).toBe("dev:sensor_data".length);
    expect(w.node).toBe("edge-1".length);
    expect(widths("x".repeat(40), ["y".repeat(60)]).channel).toBe(28);
    expect(widths("x".repeat(40), []).node).toBe(16);
    // Before a tail starts (no node, no channel) the header's words still fit their columns.
    expect(headerPrefix(widths("", []))).not.toContain("…");
    // Replicated rows name other nodes: the origin column fits the longest seen, within bounds.
    expect(widths("hq", ["factory:sensor_data"]).origin).toBe("origin #id".length);
    expect(widths("hq", ["factory:sensor_data"], originColumn("edge-2", 41234).length).origin).toBe("edge-2 #41234".length);
    expect(widths("hq", [], 60).origin).toBe(28);
  });
});

describe("a line cut to the list's width", () => {
  it("keeps the characters that fit, the last an ellipsis, and leaves unmeasured rows alone", () => {
    // 360 px of monospace 7.2 px wide show 50 characters.
    const n = fittingChars(360, 7.2);
    expect(n).toBe(50);
    expect(fittingChars(359, 7.2)).toBe(49);
    expect(fittingChars(0, 7.2)).toBe(0);
    expect(fittingChars(360, 0)).toBe(0);
    const text = "x".repeat(160);
    const cut = cutTo(text, n);
    expect(cut).toHaveLength(n);
    expect(cut.endsWith("x…")).toBe(true);
    expect(cutTo(text, 0)).toBe(text);
    expect(cutTo("x".repeat(50), n)).toBe("x".repeat(50));
    expect(cutTo("short", n)).toBe("short");
  });
});
