import { describe, expect, it } from "vitest";
import type { ApplyReport, EdgeChannel, TopoEdge, TopoNode, TopologyView } from "../platform";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_HEIGHT, NODE_WIDTH, COMPACT, NODE_WEIGHT, PAIR_GAP, labelLine, labelOffset, along, edgeBacklog, edgeRate, floatingEdge, labelSize, layout, placeLabels, LABEL_WEIGHT, SPOTS, nodeKey, offeredChannels, rates, reportHeadline, seed, short, shownChannels, channelProblem, validChannel, cannotFlow } from "./model";

function node(id: string, channels: string[] = []): TopoNode {
  return { id, name: id.replace("id-", ""), kind: "local", online: true, channels, channelsLastKnown: false, backlog: 0 };
}

function chan(channel: string, dialer: string, carried = 0, backlog?: number): EdgeChannel {
  return { channel, dialer, linkName: "x", position: carried, carried, backlog, gaps: 0 };
}

function edge(source: string, target: string, channels: EdgeChannel[]): TopoEdge {
  return { id: `${source}->${target}`, source, target, state: "open", since: 0, channels, cycle: false, failing: false, mesh: false };
}

function view(nodes: TopoNode[], edges: TopoEdge[]): TopologyView {
  return { nodes, edges, flows: [], warnings: [] };
}

describe("rates", () => {
  it("are how far each channel moved per second, never negative", () => {
    const a = view([], [edge("a", "b", [chan("dev:x", "b", 100), chan("dev:y", "b", 50)])]);
    const b = view([], [edge("a", "b", [chan("dev:x", "b", 300), chan("dev:y", "b", 10)])]);
    const r = rates(a, b, 2);
    expect(r["a->b|dev:x|b"]).toBe(100);
    expect(r["a->b|dev:y|b"]).toBe(0);
    expect(edgeRate(b.edges[0], r)).toBe(100);
    expect(rates(null, b, 1)).toEqual({});
    // The same edge object in both answers (shared, unchanged): nothing carried, no entry.
    expect(rates(b, { ...b }, 1)).toEqual({});
  });

  it("of a node are the transactions its log took per second", () => {
    const a = view([{ ...node("id-a"), logHead: 1000 }, node("id-b"), { ...node("id-c"), logHead: 5 }], []);
    const b = view([{ ...node("id-a"), logHead: 1600 }, { ...node("id-b"), logHead: 10 }, { ...node("id-c"), logHead: 5 }], []);
    const r = rates(a, b, 2);
    expect(r[nodeKey("id-a")]).toBe(300);
    expect(r[nodeKey("id-b")]).toBeUndefined(); // no earlier head to compare with
    expect(r[nodeKey("id-c")]).toBe(0);
  });

  it("sum an edge's backlog over its channels", () => {
    expect(edgeBacklog(edge("a", "b", [chan("dev:x", "a", 1, 40), chan("dev:y", "a", 1, 2)]))).toBe(42);
  });
});

describe("layout", () => {
  it("keeps placed nodes where they are and places new ones below them", () => {
    const v = view([node("id-a"), node("id-b"), node("id-c")], [edge("id-a", "id-b", [])]);
    const first = layout(v, {});
    expect(Object.keys(first).sort()).toEqual(["a", "b", "c"]);
    const placed = { a: { x: 500, y: 40 }, b: first.b };
    const again = layout(view([...v.nodes, node("id-d")], v.edges), { ...placed, c: first.c });
    expect(again.a).toEqual({ x: 500, y: 40 });
    expect(again.b).toEqual(first.b);
    expect(again.d.y).toBeGreaterThan(Math.max(again.a.y, again.b.y, again.c.y));
  });
});

describe("the link dialog's seed", () => {
  it("starts from the channels the pair's link carries, with their directions and its dialer", () => {
    const v = view(
      [node("a", ["dev:x", "dev:z"]), node("b", ["dev:x"])],
      [edge("a", "b", [chan("dev:x", "b"), chan("dev:y", "b")]), edge("b", "a", [chan("dev:y", "b")])],
    );
    const s = seed(v, "a", "b");
    expect(s.bDials).toBe(true);
    expect(s.channels).toEqual([
      { channel: "dev:x", direction: "aToB" },
      { channel: "dev:y", direction: "both" },
    ]);
    expect(offeredChannels(v, "a", "b", s.channels)).toEqual(["dev:x", "dev:y", "dev:z"]);
    expect(seed(v, "a", "c").channels).toEqual([]);
  });

  it("accepts a channel by the one rule the node holds too (crates/protocol/channel_cases.json)", () => {
    const { cases } = JSON.parse(readFileSync(join(__dirname, "../../../crates/protocol/channel_cases.json"), "utf8")) as { cases: { text: string; valid: boolean }[] };
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) expect([c.text, validChannel(c.text)]).toEqual([c.text, c.valid]);
    // What the dialog says: typed text is trimmed first; the reason names the part.
    expect(channelProblem("  dev:x  ")).toBeNull();
    expect(channelProblem("sensor data")).toBe("a channel is database:table (a colon between them)");
    expect(channelProblem("dev:t/1")).toBe("a channel is database:table: its table contains '.', ':' or '/'");
  });

  it("writes numbers short", () => {
    expect([short(0), short(1), short(3.25), short(42), short(1500), short(25_000)]).toEqual(["0", "1", "3.3", "42", "1.5k", "25k"]);
  });
});

describe("a large topology", () => {
  it("is laid out on a grid in layer order, compact enough to see whole", () => {
    const nodes = Array.from({ length: 100 }, (_, i) => node(`id-n${i}`));
    const edges = Array.from({ length: 300 }, (_, l) => edge(`id-n${(l % 100 + 1 + 17 * Math.floor(l / 100)) % 100}`, `id-n${l % 100}`, []));
    const p = layout(view(nodes, edges), {});
    const xs = Object.values(p).map((q) => q.x);
    const ys = Object.values(p).map((q) => q.y);
    const [w, h] = [Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
    expect(Object.keys(p)).toHaveLength(100);
    expect(w / h).toBeLessThan(4);
    expect(new Set(Object.values(p).map((q) => `${q.x},${q.y}`)).size).toBe(100);
  });
});

describe("floating edges", () => {
  const [w, h] = [NODE_WIDTH, NODE_HEIGHT];
  it("run from border to border on whichever side the other node lies, never around a node", () => {
    expect(floatingEdge({ x: 0, y: 0 }, { x: 400, y: 0 }, 0)).toMatchObject({ from: { x: w, y: h / 2 }, to: { x: 400, y: h / 2 } });
    // The target to the left of the source: the edge leaves by the source's left side.
    expect(floatingEdge({ x: 400, y: 0 }, { x: 0, y: 0 }, 0)).toMatchObject({ from: { x: 400, y: h / 2 }, to: { x: w, y: h / 2 } });
    expect(floatingEdge({ x: 0, y: 0 }, { x: 0, y: 300 }, 0)).toMatchObject({ from: { x: w / 2, y: h }, to: { x: w / 2, y: 300 } });
    const diagonal = floatingEdge({ x: 0, y: 0 }, { x: 600, y: 600 }, 0);
    expect(diagonal.from.y).toBeCloseTo(h);
    expect(diagonal.to.y).toBeCloseTo(600);
    expect(diagonal.mid.x).toBeCloseTo((diagonal.from.x + diagonal.to.x) / 2);
  });
  it("of both directions between two nodes lie side by side, not on one another", () => {
    const there = floatingEdge({ x: 0, y: 0 }, { x: 400, y: 0 }, 6);
    const back = floatingEdge({ x: 400, y: 0 }, { x: 0, y: 0 }, 6);
    expect(there.from.y).toBe(h / 2 - 6);
    expect(back.from.y).toBe(h / 2 + 6);
    expect(there.to.x).toBe(400);
    expect(back.to.x).toBe(w);
  });
  it("put the labels of a pair clear of the lines: farther apart when the pair runs up and down", () => {
    const across = labelOffset({ x: 0, y: 0 }, { x: 400, y: 0 });
    const upDown = labelOffset({ x: 0, y: 0 }, { x: 0, y: 400 });
    expect(across).toBeGreaterThan(18);
    expect(upDown).toBeGreaterThan(85);
  });
});

describe("the link dialog's words", () => {
  it("says why a typed channel is not one, and nothing while it is empty or valid", () => {
    expect(channelProblem("")).toBeNull();
    expect(channelProblem("dev:dog")).toBeNull();
    expect(channelProblem("dev")).toContain("colon");
    expect(channelProblem("dev:big dog")).toBeNull(); // the node takes a table name with a space inside
    expect(channelProblem("a:b:c")).toContain("one colon");
  });

  it("filters the channels by name, never hiding one that is carried", () => {
    const offered = ["dev:cat", "dev:dog", "factory:config"];
    expect(shownChannels(offered, "", () => false)).toEqual(offered);
    expect(shownChannels(offered, "DOG", () => false)).toEqual(["dev:dog"]);
    expect(shownChannels(offered, "dog", (c) => c === "factory:config")).toEqual(["dev:dog", "factory:config"]);
  });

  it("heads a report with what the nodes hold now", () => {
    const step = { instanceName: "hq", operation: "add_user", ok: true, message: "created" };
    const report = (r: Partial<ApplyReport>): ApplyReport => ({ ok: false, steps: [], undone: [], leftBehind: [], ...r });
    expect(reportHeadline(report({ ok: true, steps: [step] }))).toMatch(/^Applied/);
    expect(reportHeadline(report({ steps: [{ ...step, ok: false }] }))).toContain("nothing was changed");
    expect(reportHeadline(report({ undone: [step] }))).toContain("was taken back");
    expect(reportHeadline(report({ undone: [step], leftBehind: ["the user link-a on hq"] }))).toContain("not everything");
  });
});

describe("edge labels", () => {
  // The factory's layout: two edges linked both ways to hq, between them and to its left.
  const at = { "edge-1": { x: 0, y: 0 }, "edge-2": { x: 0, y: 210 }, hq: { x: 400, y: 105 } };
  // Readings flow to hq, its config back to the edges.
  const pair = (x: keyof typeof at, y: keyof typeof at) => [
    { id: `${x}->${y}`, a: at[x], b: at[y], paired: true, text: "factory:sensor_data" },
    { id: `${y}->${x}`, a: at[y], b: at[x], paired: true, text: "factory:config" },
  ];
  const edges = [...pair("edge-1", "hq"), ...pair("edge-2", "hq")];
  const centre = (e: (typeof edges)[number], s: { t: number; beside: boolean }) => along(labelLine(e.a, e.b, true, s.beside), s.t);

  it("never cover one another where there is room, and sit on their own line", () => {
    const spots = placeLabels(edges, Object.values(at));
    const centres = edges.map((e) => centre(e, spots.get(e.id) ?? { t: -1, beside: false }));
    for (const s of spots.values()) expect(s.t).toBeGreaterThan(0.1), expect(s.t).toBeLessThan(0.9), expect(s.compact).toBe(false);
    for (let i = 0; i < centres.length; i++)
      for (let j = i + 1; j < centres.length; j++) {
        const [p, q] = [centres[i], centres[j]];
        const [w, v] = [labelSize(edges[i].text), labelSize(edges[j].text)];
        expect(Math.abs(p.x - q.x) >= (w.width + v.width) / 2 || Math.abs(p.y - q.y) >= (w.height + v.height) / 2, `${edges[i].id} and ${edges[j].id}`).toBe(true);
      }
  });

  it("fold to their arrow and count when every spot along a short edge would cover a node", () => {
    // Two nodes 40 px apart: no room for a label between them.
    const near = { a: { x: 0, y: 0 }, b: { x: NODE_WIDTH + 40, y: 0 } };
    const spots = placeLabels([{ id: "a->b", ...near, paired: false, text: "dev:sensor_data, dev:config" }], [near.a, near.b]);
    expect(spots.get("a->b")).toEqual({ t: 0.5, beside: false, compact: true });
    // With room, the same edge keeps its words.
    const far = { a: { x: 0, y: 0 }, b: { x: NODE_WIDTH + 400, y: 0 } };
    expect(placeLabels([{ id: "a->b", ...far, paired: false, text: "dev:sensor_data, dev:config" }], [far.a, far.b]).get("a->b")?.compact).toBe(false);
  });

  it("keep their usual place when nothing is in the way, and the same places for the same topology", () => {
    const alone = pair("edge-1", "hq");
    const spots = placeLabels(alone, [at["edge-1"], at.hq]);
    // A short pair: the first sits on its line, the second (on its line it would cover the first)
    // just beside its own.
    expect([...spots.values()]).toEqual([{ t: 0.4, beside: false, compact: false }, { t: 0.4, beside: true, compact: false }]);
    expect(placeLabels([...edges].reverse(), Object.values(at))).toEqual(placeLabels(edges, Object.values(at)));
  });

  it("at 300 edges, are placed as weighing every spot against every label and node would place them", () => {
    // 100 nodes on a grid, 300 edges between them (as in the benchmark), some both ways.
    const nodes = Array.from({ length: 100 }, (_, i) => ({ x: (i % 13) * 260, y: Math.floor(i / 13) * 190 }));
    const many = Array.from({ length: 300 }, (_, l) => {
      const a = l % 100;
      const b = (a + 1 + 17 * Math.floor(l / 100)) % 100;
      return { id: `e${String(l).padStart(3, "0")}`, a: nodes[a], b: nodes[b], paired: l % 7 === 0, text: `dev:t${l % 10}${l % 3 ? ", dev:config" : ""}` };
    });
    // The quadratic reference: every spot weighed against every label placed and every node.
    const reference = new Map<string, { t: number; beside: boolean; compact: boolean }>();
    const placed: { at: { x: number; y: number }; width: number; height: number }[] = [];
    const cover = (p: { x: number; y: number }, w: number, h: number, q: { x: number; y: number }, qw: number, qh: number) => {
      const dx = Math.min(p.x + w / 2, q.x + qw / 2) - Math.max(p.x - w / 2, q.x - qw / 2);
      const dy = Math.min(p.y + h / 2, q.y + qh / 2) - Math.max(p.y - h / 2, q.y - qh / 2);
      return dx > 0 && dy > 0 ? dx * dy : 0;
    };
    for (const e of [...many].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      const { width, height } = labelSize(e.text);
      const line = floatingEdge(e.a, e.b, e.paired ? PAIR_GAP : 0);
      let best = { t: -1, beside: false, covered: Infinity, at: line.mid };
      const lines = e.paired ? [{ beside: false, l: line }, { beside: true, l: floatingEdge(e.a, e.b, labelOffset(e.a, e.b)) }] : [{ beside: false, l: line }];
      search: for (const { beside, l } of lines) {
        for (const t of e.paired ? SPOTS.paired : SPOTS.single) {
          const p = along(l, t);
          let covered = 0;
          for (const q of placed) covered += LABEL_WEIGHT * cover(p, width, height, q.at, q.width, q.height);
          for (const n of nodes) covered += NODE_WEIGHT * cover(p, width, height, { x: n.x + NODE_WIDTH / 2, y: n.y + NODE_HEIGHT / 2 }, NODE_WIDTH, NODE_HEIGHT);
          if (covered < best.covered) best = { t, beside, covered, at: p };
          if (covered === 0) break search;
        }
      }
      if (best.covered >= NODE_WEIGHT) {
        placed.push({ at: line.mid, width: COMPACT.width, height: COMPACT.height });
        reference.set(e.id, { t: 0.5, beside: false, compact: true });
        continue;
      }
      placed.push({ at: best.at, width, height });
      reference.set(e.id, { t: best.t, beside: best.beside, compact: false });
    }
    const spots = placeLabels(many, nodes);
    expect(spots).toEqual(reference);
    // Not all at their usual spot: the crowded ones moved.
    expect(new Set([...spots.values()].map((s) => s.t)).size).toBeGreaterThan(2);
    // No label lies on a node.
    for (const e of many) {
      const s = spots.get(e.id);
      if (!s || s.compact) continue;
      const { width, height } = labelSize(e.text);
      const p = along(labelLine(e.a, e.b, e.paired, s.beside), s.t);
      for (const n of nodes) expect(cover(p, width, height, { x: n.x + NODE_WIDTH / 2, y: n.y + NODE_HEIGHT / 2 }, NODE_WIDTH, NODE_HEIGHT), e.id).toBe(0);
    }
  });
});

describe("channels that cannot flow", () => {
  const tables: Record<string, string[]> = { a: ["dev:t"], b: ["dev:u"] };
  const has = (n: string, c: string) => tables[n]?.includes(c) ?? false;
  const name = (n: string) => n.toUpperCase();
  it("names the side a channel flows from when it lacks the table", () => {
    expect(cannotFlow([{ channel: "dev:t", direction: "aToB" }], "a", "b", has, name)).toEqual([]);
    expect(cannotFlow([{ channel: "dev:t", direction: "bToA" }], "a", "b", has, name)).toEqual([{ channel: "dev:t", sources: ["B"] }]);
    expect(cannotFlow([{ channel: "dev:new", direction: "aToB" }], "a", "b", has, name)).toEqual([{ channel: "dev:new", sources: ["A"] }]);
  });
  it("lets both ways flow when either side has the table", () => {
    expect(cannotFlow([{ channel: "dev:u", direction: "both" }], "a", "b", has, name)).toEqual([]);
    expect(cannotFlow([{ channel: "dev:none", direction: "both" }], "a", "b", has, name)).toEqual([{ channel: "dev:none", sources: ["A", "B"] }]);
  });
});
