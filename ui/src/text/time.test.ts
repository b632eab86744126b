import { describe, expect, it } from "vitest";
import { clock, dateTime, zoneLabel } from "./time";

describe("date-times", () => {
  const ms = Date.UTC(2026, 10, 30, 8, 5, 9, 7);

  it("read the same in UTC wherever the user is, with the zone named", () => {
    expect(dateTime(ms, "utc")).toBe("2026-11-30 08:05:09.007");
    expect(clock(ms, "utc")).toBe("08:05:09.007");
    expect(zoneLabel(ms, "utc")).toBe("UTC");
  });

  it("in local time match the local clock and name the offset", () => {
    const d = new Date(ms);
    expect(dateTime(ms, "local").slice(11, 13)).toBe(String(d.getHours()).padStart(2, "0"));
    expect(zoneLabel(ms, "local")).toMatch(/^UTC[+-]\d\d:\d\d$/);
  });
});
