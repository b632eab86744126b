import { describe, expect, it } from "vitest";
import type { TailEvent } from "../platform";
import { PAUSE_CAP, SHOWN_CAP, SHOWN_KEYS, shownKeys, clear, initial, ndjson, pause, prepare, receive, resume, setFilter, type TailModel } from "./model";

function rec(id: number, extra: Partial<{ channel: string; operation: string; data: unknown }> = {}): TailEvent {
  return {
    kind: "record",
    id,
    channel: extra.channel ?? "dev:dog",
    origin: "edge",
    originId: id,
    operation: extra.operation ?? "insert",
    ts: 1_000 + id,
    arrived: 2_000 + id,
    source: "live",
    data: (extra.data ?? [{ id, name: `dog ${id}` }]) as never,
  };
}

function batch(from: number, n: number): TailEvent[] {
  return Array.from({ length: n }, (_, i) => rec(from + i));
}

const KEYS = { "dev:dog": "id" };

describe("the tail model", () => {
  it("shows records in arrival order with their keys", () => {
    const m = receive(initial(), batch(1, 3), KEYS, 0);
    expect(m.visible.map((r) => r.keys)).toEqual(["1", "2", "3"]);
    expect(m.received).toBe(3);
  });

  it("loses nothing while paused below the cap", () => {
    let m = receive(initial(), batch(1, 10), KEYS, 0);
    m = pause(m);
    m = receive(m, batch(11, 500), KEYS, 0);
    expect(m.visible.length).toBe(10);
    expect(m.buffer.length).toBe(500);
    m = resume(m);
    expect(m.visible.map((r) => r.id)).toEqual(Array.from({ length: 510 }, (_, i) => i + 1));
    expect(m.dropped).toBeNull();
  });

  it("says exactly what was dropped past the pause buffer", () => {
    let m = pause(initial());
    m = receive(m, batch(1, PAUSE_CAP), KEYS, 0);
    m = receive(m, batch(PAUSE_CAP + 1, 25), KEYS, 0);
    expect(m.dropped).toEqual({ count: 25, firstId: PAUSE_CAP + 1, lastId: PAUSE_CAP + 25, firstTs: 2_000 + PAUSE_CAP + 1, lastTs: 2_000 + PAUSE_CAP + 25 });
    m = resume(m);
    expect(m.rows.length).toBe(SHOWN_CAP);
    expect(m.notices.at(-1)).toContain("25 transactions");
    expect(m.notices.at(-1)).toMatch(/\d\d:\d\d:\d\d\.\d{3}–\d\d:\d\d:\d\d\.\d{3} UTC/);
  });

  it("keeps memory bounded: a ring of SHOWN_CAP records", () => {
    let m: TailModel = initial();
    for (let i = 0; i < 12; i++) m = receive(m, batch(i * 5000 + 1, 5000), KEYS, 0);
    expect(m.rows.length).toBe(SHOWN_CAP);
    expect(m.rows[0].id).toBe(60_000 - SHOWN_CAP + 1);
    expect(m.visible.length).toBe(SHOWN_CAP);
  });

  it("counts the ring and the pause buffer in records: a transaction of 100 counts 100", () => {
    const hundred = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => rec(from + i, { data: Array.from({ length: 100 }, (_, k) => ({ id: (from + i) * 100 + k })) }));
    let m: TailModel = initial();
    for (let i = 0; i < 12; i++) m = receive(m, hundred(i * 100 + 1, 100), KEYS, 0);
    expect(m.held).toBe(SHOWN_CAP);
    expect(m.rows.length).toBe(SHOWN_CAP / 100);
    expect(m.rows[0].id).toBe(1200 - SHOWN_CAP / 100 + 1);
    expect(m.received).toBe(1200);
    m = pause(m);
    m = receive(m, hundred(2001, PAUSE_CAP / 100 + 3), KEYS, 0);
    expect(m.buffered).toBe(PAUSE_CAP);
    expect(m.dropped?.count).toBe(3);
    m = resume(m);
    expect(m.held).toBe(SHOWN_CAP);
    expect(m.buffered).toBe(0);
  });

  it("shows the first keys of a batch and how many it has; all of a small one", () => {
    const big = receive(initial(), [rec(1, { data: Array.from({ length: 100 }, (_, k) => ({ id: k })) })], KEYS, 0).rows[0];
    expect(shownKeys(big)).toBe(`${Array.from({ length: SHOWN_KEYS }, (_, k) => k).join(", ")} … (100 keys)`);
    expect(big.keys.split(", ").length).toBe(100); // the filter still sees every key
    const small = receive(initial(), [rec(2, { data: [{ id: 7 }, { id: 8 }] })], KEYS, 0).rows[0];
    expect(shownKeys(small)).toBe("7, 8");
  });

  it("filters what is held and what arrives later, and never hides the count", () => {
    let m = receive(initial(), [rec(1), rec(2, { operation: "delete", data: [2] }), rec(3)], KEYS, 0);
    m = setFilter(m, { channel: "", operation: "delete", key: "", text: "" });
    expect(m.visible.map((r) => r.id)).toEqual([2]);
    m = receive(m, [rec(4, { operation: "delete", data: [4] }), rec(5)], KEYS, 0);
    expect(m.visible.map((r) => r.id)).toEqual([2, 4]);
    expect(m.rows.length - m.visible.length).toBe(3);
    m = setFilter(m, { channel: "", operation: "", key: "", text: "dog 5" });
    expect(m.visible.map((r) => r.id)).toEqual([5]);
  });

  it("reports gaps and reconnects as notices and state", () => {
    let m = receive(initial(), [{ kind: "reconnecting", error: "connection ended", retryInMs: 100 }], KEYS, 0);
    expect(m.connection).toBe("reconnecting");
    m = receive(m, [{ kind: "gap", channel: "dev:dog", after: 7, reason: "pruned" }, { kind: "live" }], KEYS, 0);
    expect(m.connection).toBe("live");
    expect(m.notices.at(-1)).toContain("after #7");
  });

  it("takes batches prepared as they arrived exactly as unprepared ones", () => {
    const early = batch(1, 50);
    prepare(early, KEYS);
    const a = receive(initial(), early, KEYS, 0);
    const b = receive(initial(), batch(1, 50), KEYS, 0);
    expect(a.rows.map((r) => [r.seq, r.keys, r.count])).toEqual(b.rows.map((r) => [r.seq, r.keys, r.count]));
    expect(a.held).toBe(b.held);
  });

  it("counts records per second over the last minute", () => {
    let m = receive(initial(), batch(1, 10), KEYS, 100_000);
    m = receive(m, batch(11, 5), KEYS, 100_500);
    m = receive(m, batch(16, 7), KEYS, 102_000);
    expect(m.rate.slice(-3)).toEqual([15, 0, 7]);
  });

  it("exports NDJSON without the UI's own fields, and clears", () => {
    const m = receive(initial(), batch(1, 2), KEYS, 0);
    const lines = ndjson(m.visible, 0, 10).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toHaveProperty("seq");
    expect(lines[0]).not.toHaveProperty("keys");
    expect(lines[0]).not.toHaveProperty("kind");
    expect(lines[1].id).toBe(2);
    expect(clear(m).rows).toEqual([]);
  });

  it("keeps the channels HarperDB does not publish, once each, and says why", () => {
    let m = receive(initial(), [{ kind: "not_exported", channel: "shop:item" }, { kind: "not_exported", channel: "shop:item" }], {}, 0);
    expect(m.notExported).toEqual(["shop:item"]);
    expect(m.notices[0]).toContain("until a component exports it");
    m = clear(m);
    expect(m.notExported).toEqual([]);
  });
});
