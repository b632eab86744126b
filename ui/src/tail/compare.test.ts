import { describe, expect, it } from "vitest";
import type { TailEvent } from "../platform";
import { COMPARE_CAP, GRACE_MS, initialCompare, missingCounts, presence, receiveOn } from "./compare";

function rec(originId: number, arrived: number, origin = "edge-1"): TailEvent {
  return { kind: "record", id: originId + 100, channel: "dev:sensor_data", origin, originId, operation: "insert", ts: 1_000, arrived, source: "live", data: [{ id: originId }] as never };
}

describe("the cross-node comparison", () => {
  it("lines one transaction up across nodes by origin and origin id, with each delay", () => {
    let m = initialCompare(["edge", "hq"]);
    m = receiveOn(m, "edge", [rec(1, 1_002)], "id");
    m = receiveOn(m, "hq", [{ ...rec(1, 1_040), id: 7 } as TailEvent], "id");
    expect(m.rows).toHaveLength(1);
    expect(presence(m.rows[0], "edge", 1_100)).toEqual({ kind: "arrived", delayMs: 2 });
    expect(presence(m.rows[0], "hq", 1_100)).toEqual({ kind: "arrived", delayMs: 40 });
    expect(m.rows[0].keys).toBe("1");
  });

  it("flags a transaction missing on a node after the grace period, and unflags it when it arrives", () => {
    let m = receiveOn(initialCompare(["edge", "hq"]), "edge", [rec(2, 10_000)], "id");
    expect(presence(m.rows[0], "hq", 10_000 + GRACE_MS - 1).kind).toBe("pending");
    expect(presence(m.rows[0], "hq", 10_000 + GRACE_MS + 1).kind).toBe("missing");
    expect(missingCounts(m, 10_000 + GRACE_MS + 1)).toEqual({ edge: 0, hq: 1 });
    m = receiveOn(m, "hq", [rec(2, 20_000)], "id");
    expect(presence(m.rows[0], "hq", 30_000).kind).toBe("arrived");
    expect(missingCounts(m, 30_000)).toEqual({ edge: 0, hq: 0 });
  });

  it("keeps at most COMPARE_CAP rows and still lines up the newest", () => {
    let m = initialCompare(["a", "b"]);
    const batch: TailEvent[] = [];
    for (let i = 1; i <= COMPARE_CAP + 10; i++) batch.push(rec(i, 1_000 + i));
    m = receiveOn(m, "a", batch, "id");
    expect(m.rows).toHaveLength(COMPARE_CAP);
    expect(m.rows[0].originId).toBe(11);
    m = receiveOn(m, "b", [rec(COMPARE_CAP + 10, 99_999)], "id");
    expect(m.rows[COMPARE_CAP - 1].arrived.b).toBe(99_999);
  });

  it("records each node's connection state", () => {
    const m = receiveOn(initialCompare(["a", "b"]), "b", [{ kind: "reconnecting", error: "x", retryInMs: 1 }], "id");
    expect(m.state).toEqual({ a: "opening", b: "reconnecting" });
  });
});
