//! A tail's notices in words: reconnects (for how long, where it resumed, what it missed) and
//! what a full pause buffer dropped, times in the user's zone.
import { type TailNotice } from "../platform";
import { count } from "../text/count";
import { clock, zoneLabel, type Zone } from "../text/time";

/** A notice as the user reads it (the dropped range's times in their zone). */
export function noticeText(n: TailNotice, zone: Zone): string {
  switch (n.kind) {
    case "said":
      return n.text;
    case "reconnecting":
      return `Reconnecting: ${n.error}`;
    case "reconnected":
      return reconnectedText(n);
    case "dropped":
      return droppedText(n, zone);
  }
}

/** Back after a reconnect: for how long, where it resumed, and what it missed. */
function reconnectedText(n: Extract<TailNotice, { kind: "reconnected" }>): string {
  const away = n.awayMs < 1000 ? `${Math.round(n.awayMs)} ms` : `${(n.awayMs / 1000).toFixed(1)} s`;
  const at = n.resumedAfter !== undefined ? `resumed after #${n.resumedAfter}` : "live from now";
  const missed = n.gap
    ? `${n.healed > 0 ? `${count(n.healed, "missed transaction")} read from the log; ` : ""}some are missing (below)`
    : n.healed > 0
      ? `${count(n.healed, "missed transaction")} read from the log, nothing lost`
      : "nothing missed";
  return `Reconnected after ${away}: ${at}; ${missed}`;
}

function droppedText(n: Extract<TailNotice, { kind: "dropped" }>, zone: Zone): string {
  const d = n.dropped;
  const one = d.count === 1;
  return `While paused, ${count(d.count, "transaction")} (#${d.firstId}–#${d.lastId}, ${clock(d.firstTs, zone)}–${clock(d.lastTs, zone)} ${zoneLabel(d.lastTs, zone)}) ${one ? "was" : "were"} past the buffer of ${count(n.cap, "record")} and ${one ? "is" : "are"} not shown`;
}
