import { describe, expect, it } from "vitest";
import type { TopoEdge, TopoNode, TopologyView } from "../platform";
import { distanceToSegment, draggingKey, drawnAlikeFar, edgeLook, farEdges, splitByMoving, mergeEdges, mergeNodes, nearestSegment, toFlow, withPlacedLabels } from "./flow";
import { equalJson, nodeKey, shareView } from "./model";

const node = (id: string, backlog = 0): TopoNode => ({ id, name: id, kind: "local", online: true, channels: ["dev:x"], channelsLastKnown: false, backlog });
const edge = (s: string, t: string, position = 1): TopoEdge => ({
  id: `${s}->${t}`, source: s, target: t, state: "open", since: 0, cycle: false, failing: false, mesh: false,
  channels: [{ channel: "dev:x", dialer: t, linkName: s, position, carried: position, gaps: 0 }],
});
const view = (nodes: TopoNode[], edges: TopoEdge[]): TopologyView => ({ nodes, edges, flows: [{ channel: "dev:x", edges: edges.map((e) => e.id), reach: { a: ["b"] }, cycleEdges: [] }], warnings: [] });
const sel = { channel: null, node: null, edge: null };
const at = { a: { x: 0, y: 0 }, b: { x: 300, y: 0 }, c: { x: 0, y: 200 } };

describe("the canvas's elements", () => {
  it("keep their identity across a refresh that changed nothing of them", () => {
    const v1 = view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c")]);
    const first = toFlow(v1, at, {}, sel);
    // A fresh answer: new objects, equal content except b's backlog and b->c's position.
    const v2 = view([node("a"), node("b", 5), node("c")], [edge("a", "b"), edge("b", "c", 9)]);
    const second = toFlow(v2, at, {}, sel);
    const nodes = mergeNodes(first.nodes, second.nodes);
    expect(nodes[0]).toBe(first.nodes[0]);
    expect(nodes[1]).not.toBe(first.nodes[1]);
    expect(nodes[2]).toBe(first.nodes[2]);
    const edges = mergeEdges(first.edges, second.edges);
    expect(edges[0]).toBe(first.edges[0]);
    expect(edges[1]).not.toBe(first.edges[1]);
    expect(mergeNodes(first.nodes, toFlow(v1, at, {}, sel).nodes)).toBe(first.nodes);
  });

  it("share an answer's unchanged parts with the last, and build nothing again for them", () => {
    const v1 = view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c")]);
    // The same answer again (new objects, parsed anew): every part is the last one's.
    const same = shareView(v1, view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c")]));
    expect(same).not.toBe(v1);
    expect(same.nodes).toBe(v1.nodes);
    expect(same.edges).toBe(v1.edges);
    expect(same.flows).toBe(v1.flows);
    expect(same.warnings).toBe(v1.warnings);
    // b->c carried more: that edge (and the flows listing it, unchanged) only.
    const moved = shareView(same, view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c", 9)]));
    expect(moved.nodes).toBe(v1.nodes);
    expect(moved.edges).not.toBe(v1.edges);
    expect(moved.edges[0]).toBe(v1.edges[0]);
    expect(moved.edges[1].channels[0].position).toBe(9);
    expect(moved.flows).toBe(v1.flows);
    // Built from shared parts and merged, the canvas's elements are the last ones, but for what
    // changed.
    const first = toFlow(v1, at, {}, sel);
    const second = toFlow(moved, at, {}, sel);
    expect(mergeNodes(first.nodes, second.nodes)).toBe(first.nodes);
    const edges = mergeEdges(first.edges, second.edges);
    expect(edges[0]).toBe(first.edges[0]);
    expect(edges[1]).toBe(second.edges[1]);
  });

  it("are drawn alike zoomed out when only what that layer does not draw changed", () => {
    const v = view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c")]);
    const first = toFlow(v, at, {}, sel).edges;
    // b->c carried more (a rate, a position): the lines are the same.
    const carried = toFlow(view(v.nodes, [v.edges[0], edge("b", "c", 9)]), at, { "b->c|dev:x|c": 4 }, sel).edges;
    expect(carried[1]).not.toBe(first[1]);
    expect(drawnAlikeFar(first, carried)).toBe(true);
    // b->c closed, or selected, or an edge gone: drawn anew.
    expect(drawnAlikeFar(first, toFlow(view(v.nodes, [v.edges[0], { ...edge("b", "c"), state: "connecting" }]), at, {}, sel).edges)).toBe(false);
    expect(drawnAlikeFar(first, toFlow(v, at, {}, { ...sel, edge: "b->c" }).edges)).toBe(false);
    expect(drawnAlikeFar(first, first.slice(1))).toBe(false);
  });

  it("compare answers the way JSON does, key order aside", () => {
    expect(equalJson({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 })).toBe(true);
    expect(equalJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(equalJson({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(equalJson([1, 2], [2, 1])).toBe(false);
    expect(equalJson([1], { 0: 1 })).toBe(false);
    expect(equalJson(null, {})).toBe(false);
    expect(equalJson({ a: null }, { a: 0 })).toBe(false);
  });

  it("dim what a followed channel does not touch and light what it reaches", () => {
    const v = view([node("a"), node("b"), node("c")], [edge("a", "b")]);
    const f = toFlow(v, at, {}, { channel: "dev:x", node: "a", edge: null });
    expect(f.nodes.map((n) => [n.id, n.data.dim, n.data.reached])).toEqual([["a", false, true], ["b", false, true], ["c", true, false]]);
  });
});

describe("edge labels zoomed in", () => {
  it("are placed clear of one another, the same objects refresh after refresh", () => {
    // a→b and c→d cross at the same point: their labels' usual places coincide.
    const nodes = { a: { x: 0, y: 0 }, b: { x: 400, y: 400 }, c: { x: 0, y: 400 }, d: { x: 400, y: 0 } };
    const v = view([node("a"), node("b"), node("c"), node("d")], [edge("a", "b"), edge("c", "d")]);
    const f = toFlow(v, nodes, {}, sel);
    expect(f.edges.map((e) => e.data?.labelAt)).toEqual([0.5, 0.5]);
    const placedAt = new Map(Object.entries(nodes));
    const placed = withPlacedLabels(f.edges, placedAt);
    const spots = placed.map((e) => e.data?.labelAt);
    expect(spots[0]).toBe(0.5);
    expect(spots[1]).not.toBe(0.5);
    // The label that stays is the edge itself; the moved one is the same object next time.
    expect(placed[0]).toBe(f.edges[0]);
    expect(withPlacedLabels(f.edges, placedAt)[1]).toBe(placed[1]);
  });
});

describe("rates a server does not report", () => {
  it("are null, not zero, for a HarperDB node and the edges it dials", () => {
    const hdb = (id: string): TopoNode => ({ ...node(id), serverKind: "harperdb" });
    // The test edges are dialled by their target.
    const v = view([{ ...node("a"), logHead: 10 }, hdb("b"), hdb("c")], [edge("b", "a"), edge("b", "c")]);
    const f = toFlow(v, at, { [nodeKey("a")]: 2 }, sel);
    expect(f.nodes.map((n) => n.data.rate)).toEqual([2, null, null]);
    expect(f.edges.map((e) => [e.id, e.data?.rate === null])).toEqual([["b->a", false], ["b->c", true]]);
  });
});

describe("an edge's look", () => {
  it("is its state, failing as the studio judged it (LinkState::failing)", () => {
    const look = (e: Partial<TopoEdge>) => edgeLook({ ...toFlow(view([node("a"), node("b")], [{ ...edge("a", "b"), ...e }]), at, {}, sel).edges[0].data!, dim: false }, false);
    expect(look({ state: "open" })).toBe("open");
    expect(look({ state: "connecting" })).toBe("connecting");
    expect(look({ state: "connecting", lastError: "connection refused", failing: true })).toBe("connecting failing");
    expect(look({ state: "paused" })).toBe("paused");
  });
});

describe("the zoomed-out canvas", () => {
  it("draws every edge in one path per look, and a click finds the edge under it", () => {
    const v = view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "a"), { ...edge("a", "c"), state: "connecting", lastError: "connection refused", failing: true }]);
    const f = toFlow(v, at, {}, { channel: null, node: null, edge: "b->a" });
    const far = farEdges(f.nodes, f.edges);
    expect(far.segments.map((s) => s.id)).toEqual(["a->b", "b->a", "a->c"]);
    expect(far.paths.map((p) => p.look).sort()).toEqual(["connecting failing", "open", "open selected"]);
    // Two segments in the "open" path (a->b only: b->a is selected), each a move and a line.
    expect(far.paths.find((p) => p.look === "open")?.d.match(/M/g)).toHaveLength(1);
    expect(far.paths.find((p) => p.look === "connecting failing")?.d).toMatch(/^M[-\d.]+,[-\d.]+L[-\d.]+,[-\d.]+$/);
    // a (0,0) and b (300,0) side by side: a->b runs along y = 48 - 5, b->a along y = 48 + 5.
    const ab = far.segments[0];
    expect(ab.from.y).toBeCloseTo(43);
    expect(nearestSegment({ x: 250, y: 44 }, far.segments, 4)).toBe("a->b");
    expect(nearestSegment({ x: 250, y: 52 }, far.segments, 4)).toBe("b->a");
    expect(nearestSegment({ x: 250, y: 120 }, far.segments, 4)).toBeNull();
    // An edge whose end is not placed is not drawn.
    expect(farEdges(f.nodes.slice(0, 2), f.edges).segments).toHaveLength(2);
  });

  it("during a drag, puts the dragged nodes' edges apart from the ones that stay still", () => {
    const v = view([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("a", "c")]);
    const f = toFlow(v, at, {}, sel);
    expect(draggingKey(f.nodes)).toBe("");
    expect(splitByMoving(f.edges, new Set()).still).toBe(f.edges);
    const dragged = f.nodes.map((n) => (n.id === "b" ? { ...n, dragging: true } : n));
    expect(draggingKey(dragged)).toBe("b");
    const split = splitByMoving(f.edges, new Set([draggingKey(dragged)]));
    expect(split.moving.map((e) => e.id)).toEqual(["a->b", "b->c"]);
    expect(split.still.map((e) => e.id)).toEqual(["c->a", "a->c"]);
    const both = f.nodes.map((n) => (n.id !== "c" ? { ...n, dragging: true } : n));
    expect(splitByMoving(f.edges, new Set(draggingKey(both).split("\n"))).still).toEqual([]);
  });

  it("measures the distance to a segment, its ends included", () => {
    expect(distanceToSegment({ x: 5, y: 3 }, { x: 0, y: 0 }, { x: 10, y: 0 })).toBe(3);
    expect(distanceToSegment({ x: 13, y: 4 }, { x: 0, y: 0 }, { x: 10, y: 0 })).toBe(5);
    expect(distanceToSegment({ x: 3, y: 4 }, { x: 0, y: 0 }, { x: 0, y: 0 })).toBe(5);
  });
});
