//! One rule for date-times in the grid, the form and the tail: shown in the user's time zone
//! or in UTC (switched in the title bar, kept across sessions), always with the zone named.
import { readStored, writeStored } from "../stores/stored";
import { create } from "zustand";

export type Zone = "local" | "utc";

const ZONE_KEY = "switchyard.zone";

export const useZone = create<{ zone: Zone; setZone: (z: Zone) => void }>((set) => ({
  zone: readStored<Zone>(ZONE_KEY, "local", (v) => v === "local" || v === "utc"),
  setZone: (zone) => {
    writeStored(ZONE_KEY, zone);
    set({ zone });
  },
}));

const p = (n: number, w = 2) => String(Math.floor(Math.abs(n))).padStart(w, "0");

function parts(ms: number, zone: Zone) {
  const d = new Date(ms);
  return zone === "utc"
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
}

/** `YYYY-MM-DD hh:mm:ss.mmm` in `zone`. */
export function dateTime(ms: number, zone: Zone): string {
  const [y, mo, d, h, mi, s, mss] = parts(ms, zone);
  return `${y}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)}:${p(s)}.${p(mss, 3)}`;
}

/** `hh:mm:ss.mmm` in `zone` (the tail's arrival times, all of one session). */
export function clock(ms: number, zone: Zone): string {
  const [, , , h, mi, s, mss] = parts(ms, zone);
  return `${p(h)}:${p(mi)}:${p(s)}.${p(mss, 3)}`;
}

/** The zone's name at `ms`: `UTC`, or the local offset from it (`UTC+01:00`). */
export function zoneLabel(ms: number, zone: Zone): string {
  if (zone === "utc") return "UTC";
  const off = -new Date(ms).getTimezoneOffset();
  return `UTC${off < 0 ? "-" : "+"}${p(off / 60)}:${p(off % 60)}`;
}
