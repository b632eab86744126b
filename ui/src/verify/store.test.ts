import { beforeEach, describe, expect, it } from "vitest";
import type { ApplyReport, RepairPlan, VerifyReport } from "../platform";
import { freshStorage } from "../stores/memory-storage";
import { readStored } from "../stores/stored";
import { useVerify } from "./store";

const report = (verdict: VerifyReport["verdict"], summary: string): VerifyReport => ({
  id: "r1", at: 1000, instances: ["a", "b"], verdict, channels: [], passes: 1, summary, tookMs: 3,
});

describe("verify store", () => {
  beforeEach(() => {
    freshStorage();
    useVerify.setState({ last: {}, periodic: {}, dialog: null });
  });

  it("keeps each edge's last result and periodic switch across restarts", () => {
    useVerify.getState().verified("a->b", report("inSync", "in sync: 2 records"));
    useVerify.getState().setPeriodic("a->b", true);
    const isRecord = (v: unknown) => typeof v === "object" && v !== null;
    expect(readStored<Record<string, { summary: string }>>("switchyard.verify.last", {}, isRecord)["a->b"].summary).toBe("in sync: 2 records");
    expect(readStored("switchyard.verify.periodic", {}, isRecord)).toEqual({ "a->b": true });
  });

  it("keeps an edge's last result and shows it in the open dialog of that edge only", () => {
    const s = useVerify.getState();
    s.opened({ edge: "a->b", title: "a → b", instances: ["a", "b"], channels: ["dev:t"] });
    expect(useVerify.getState().dialog?.busy).toBe("verify");
    s.verified("c->d", report("inSync", "in sync: 2 records"));
    expect(useVerify.getState().dialog?.report).toBeNull();
    s.verified("a->b", report("differs", "3 records differ"));
    const st = useVerify.getState();
    expect(st.dialog?.report?.summary).toBe("3 records differ");
    expect(st.dialog?.busy).toBeNull();
    expect(Object.keys(st.last).sort()).toEqual(["a->b", "c->d"]);
    expect(st.last["a->b"].verdict).toBe("differs");
  });

  it("goes from a plan to its applied report, and a failure says why on the edge", () => {
    const s = useVerify.getState();
    s.opened({ edge: "a->b", title: "a → b", instances: ["a", "b"], channels: ["dev:t"] });
    const plan: RepairPlan = { id: "p", summary: "1 key set on 1 node", steps: [], skipped: [] };
    s.planned(plan);
    expect(useVerify.getState().dialog?.plan).toEqual(plan);
    const applied: ApplyReport = { ok: true, steps: [], undone: [], leftBehind: [] };
    s.applied(applied);
    expect(useVerify.getState().dialog?.plan).toBeNull();
    expect(useVerify.getState().dialog?.applied).toEqual(applied);
    s.notVerified("a->b", { code: "unreachable", message: "b does not answer" });
    expect(useVerify.getState().last["a->b"]).toMatchObject({ verdict: "failed", summary: "could not verify: b does not answer" });
    s.closed();
    expect(useVerify.getState().dialog).toBeNull();
  });
});
