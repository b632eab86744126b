import { describe, expect, it } from "vitest";
import { catchUpMs, lagLevel, lagText, outages, polyline, sampled, thresholdsOf, TREND_STEP_MS } from "./model";
import type { HealthRules, TopoEdge, TopologyView } from "../platform";

function edge(id: string, lagMs: number | undefined, backlog: number): TopoEdge {
  return { id, source: "a", target: "b", state: "open", since: 0, channels: [{ channel: "d:t", dialer: "a", linkName: "b", backlog, carried: 0, gaps: 0, lagMs }], lagMs, cycle: false, failing: false, mesh: false };
}

function view(...edges: TopoEdge[]): TopologyView {
  return { nodes: [], edges, flows: [], warnings: [] };
}

describe("health in time", () => {
  it("says lag in words a reader takes in at a glance", () => {
    expect([0, 850, 2300, 42_000, 250_000, 3_720_000].map(lagText)).toEqual(["0 s", "850 ms", "2.3 s", "42 s", "4 min 10 s", "1 h 2 min"]);
  });

  it("colours lag by the edge's own threshold, else the default", () => {
    const rules: HealthRules = { default: { lagSeconds: 30 }, perEdge: { "a->b": { lagSeconds: 2 } } };
    expect(thresholdsOf(rules, "a->b")).toEqual({ lagSeconds: 2 });
    expect(thresholdsOf(rules, "x->y")).toEqual({ lagSeconds: 30 });
    expect([500, 5_000, 7_000, 31_000].map((ms) => lagLevel(ms, thresholdsOf(rules, "x->y")))).toEqual(["ok", "ok", "warn", "alert"]);
    expect(lagLevel(2_500, thresholdsOf(rules, "a->b"))).toBe("alert");
  });

  it("keeps five minutes of trend per edge and forgets edges that went", () => {
    let t = sampled({}, view(edge("a->b", 0, 0), edge("b->a", 0, 0)), 0);
    for (let at = 1000; at <= 400_000; at += 1000) t = sampled(t, view(edge("a->b", at, 3)), at);
    expect(Object.keys(t)).toEqual(["a->b"]);
    // A point every TREND_STEP_MS (5 s): 100 s … 400 s.
    expect(t["a->b"].length).toBe(61);
    expect(t["a->b"][0].at).toBe(100_000);
    expect(t["a->b"][1].at).toBe(100_000 + TREND_STEP_MS);
    // Between points nothing is copied: the same trends come back.
    expect(sampled(t, view(edge("a->b", 1, 3)), 401_000)).toBe(t);
    // A new edge gets its first point at once.
    const added = sampled(t, view(edge("a->b", 1, 3), edge("c->d", 7, 0)), 401_000);
    expect(added["a->b"]).toBe(t["a->b"]);
    expect(added["c->d"]).toEqual([{ at: 401_000, lagMs: 7, backlog: 0 }]);
  });

  it("estimates the time to catch up only while the backlog drains", () => {
    const pts = [0, 5000, 10_000].map((at, i) => ({ at, lagMs: 1000, backlog: [900, 600, 300][i] }));
    expect(catchUpMs(pts)).toBeCloseTo(5000);
    expect(catchUpMs([{ at: 0, lagMs: 0, backlog: 100 }, { at: 5000, lagMs: 0, backlog: 200 }])).toBeNull();
    expect(catchUpMs([{ at: 0, lagMs: 0, backlog: 100 }, { at: 5000, lagMs: 0, backlog: 0 }])).toBeNull();
  });

  it("draws points in their box and finds the outages of a history", () => {
    expect(polyline([{ at: 0, v: 0 }, { at: 10, v: 5 }], 100, 20)).toBe("0.0,20.0 100.0,0.0");
    const s = (at: number, down: boolean) => ({ at, backlog: 0, rate: 0, down });
    expect(outages([s(0, false), s(5, true), s(10, true), s(15, false), s(20, true)], () => 5)).toEqual([[5, 15], [20, 25]]);
  });
});
