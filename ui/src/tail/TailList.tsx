//! The tail's list of transactions: virtualized wrapped, by arithmetic unwrapped, painted in bands
//! when an update replaces every row on screen; its rows come from the studio a page at a time.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type Order, type TailLine, type TailUpdate } from "../platform";
import { cutTo, fittingChars, headerPrefix, keysColumn, originColumn, prefix, widths } from "./line";
import { setPort, useTail } from "./store";
import { count } from "../text/count";
import { BAND_ROWS, bandSources, covers, fixedRange, nextBand, portAround, replacedAll } from "./range";
import { useViewport } from "./viewport";
import { clock, useZone, zoneLabel, type Zone } from "../text/time";

const ROW_HEIGHT = 26;
/** A line's horizontal padding and edge (styles.css, `.tail-row.line`). */
const LINE_PADDING_PX = 16;
/** Rows drawn beyond each edge of the list. Few: a live tail changes every row on screen four
 * times a second, and each row drawn is laid out again each time. */
const OVERSCAN = 2;

/** The row at place `i` of the list in `order`, when `u`'s page holds it. */
function lineAt(u: TailUpdate, order: Order, i: number): TailLine | undefined {
  return u.port.order === order ? u.lines[i - u.port.first] : undefined;
}

function seqsOn(u: TailUpdate, order: Order, first: number, last: number): number[] {
  const out: number[] = [];
  for (let i = first; i < last; i++) {
    const l = lineAt(u, order, i);
    if (l) out.push(l.seq);
  }
  return out;
}

let lineAdvance = 0;

/** The width of one character of a line, measured once in the list's own font (0 until the
 * list is laid out). */
function advance(list: HTMLElement): number {
  if (lineAdvance > 0) return lineAdvance;
  const probe = document.createElement("span");
  probe.className = "tail-row line";
  // Sized by its text alone (the rows' own containment and padding would hide it).
  probe.style.cssText = "position:absolute;visibility:hidden;contain:none;width:auto;padding:0;border:0";
  probe.textContent = "0".repeat(100);
  list.appendChild(probe);
  const measured = probe.getBoundingClientRect().width / 100;
  probe.remove();
  if (measured > 0) lineAdvance = measured;
  return measured;
}

/** A row's fixed columns (time, node, channel, operation, keys, origin), padded to `w`. */
function rowPrefix(r: TailLine, zone: Zone, nodeName: string, w: ReturnType<typeof widths>): string {
  return prefix({ time: clock(r.arrived, zone), node: nodeName, channel: r.channel, operation: r.operation, keys: keysColumn(r.keys, r.count), origin: originColumn(r.origin, r.originId) }, w);
}

/** A row's tooltip: how many records it holds and every key, for a batch. */
function rowTitle(r: TailLine): string | undefined {
  return r.count > 1 ? `${count(r.count, "record")}: ${r.allKeys ?? r.keys}` : r.allKeys;
}

interface ListProps {
  view: TailUpdate;
  order: Order;
  wrap: boolean;
  selected: number | null;
  nodeName: string;
  channels: string[];
  running: boolean;
}

/**
 * The list of transactions, virtualized; its rows come from the studio a page at a time (the
 * rows on screen and a margin: `setPort`). Unwrapped, every row is ROW_HEIGHT high, one line of
 * text in fixed columns (line.ts), and the rows on screen follow from the scroll position by
 * arithmetic; wrapped, rows differ in height and the virtualizer measures them.
 */
export const TailList = memo(function TailList({ view, order, wrap, selected, nodeName, channels, running }: ListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const zone = useZone((s) => s.zone);
  const n = view.shown;
  const v = useVirtualizer({ count: wrap ? n : 0, enabled: wrap, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: OVERSCAN });
  // The scroll position, the viewport's height, and how many characters of a line the list
  // shows: only those are laid out (the rest would be shaped on every row, four times a second).
  const port = useViewport(scroller, (el) => fittingChars(el.clientWidth - LINE_PADDING_PX, advance(el)));
  // The origin column widens to the longest origin seen on screen so far (never narrows while
  // the tail's node and channels stay, so columns do not jump as rows scroll by).
  const seen = useRef({ of: "", longest: 0 });
  const of = `${nodeName}\n${channels.join("\n")}`;
  if (seen.current.of !== of) seen.current = { of, longest: 0 };
  for (const l of view.lines) seen.current.longest = Math.max(seen.current.longest, originColumn(l.origin, l.originId).length);
  const origins = seen.current.longest;
  const w = useMemo(() => widths(nodeName, channels, origins), [nodeName, channels, origins]);

  // The rows on screen: by arithmetic unwrapped, by the virtualizer wrapped.
  const items = wrap ? v.getVirtualItems() : [];
  const { first, last } = wrap
    ? { first: items.length ? items[0].index : 0, last: items.length ? items[items.length - 1].index + 1 : 0 }
    : fixedRange(port.top, port.height, ROW_HEIGHT, n, OVERSCAN);
  // Asked for when the page does not hold them (a scroll, a resize, the order, a longer list).
  useEffect(() => {
    if (!covers(view.port, order, first, last)) setPort(portAround(order, first, last));
  }, [view.port, order, first, last]);

  // Unwrapped, drawn band by band when an update replaces every row on screen (range.ts
  // `bandSources`): each band reads from the update it was last given.
  const bands = Math.max(1, Math.ceil((last - first) / BAND_ROWS));
  const banded = useRef<{ view: TailUpdate; sources: TailUpdate[]; onScreen: number[]; inFrame: boolean }>({ view, sources: [], onScreen: [], inFrame: false });
  const b = banded.current;
  if (b.view !== view || b.sources.length !== (wrap ? 0 : bands)) {
    const now = wrap ? [] : seqsOn(view, order, first, last);
    // Wrapped rows are drawn whole (and followed here, so that unwrapping is drawn whole too).
    const wholesale = !wrap && b.view !== view && running && replacedAll(b.onScreen, now);
    b.sources = wrap ? [] : bandSources(b.sources, view, bands, wholesale);
    b.view = view;
    b.onScreen = now;
  }
  const [, step] = useState(0);
  useLayoutEffect(() => {
    const bb = banded.current;
    if (bb.sources.every((src) => src === bb.view)) return;
    // One band a frame. A render outside a frame (an update taken, a scroll) is painted in the
    // coming frame, so the next band waits for the one after it.
    const run = () => {
      bb.sources = nextBand(bb.sources, bb.view);
      bb.inFrame = true;
      try {
        flushSync(() => step((x) => x + 1));
      } finally {
        bb.inFrame = false;
      }
    };
    let id = bb.inFrame ? requestAnimationFrame(run) : requestAnimationFrame(() => (id = requestAnimationFrame(run)));
    return () => cancelAnimationFrame(id);
  });

  const select = useTail.getState().select;
  const head = headerPrefix(w);
  const lines: React.ReactNode[] = [];
  if (wrap) {
    for (const [place, it] of items.entries()) {
      const r = lineAt(view, order, it.index);
      // Measured even before its page comes, so that the list keeps its height.
      if (!r) {
        lines.push(<div key={place} className="tail-row wrap" style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${it.start}px)`, height: ROW_HEIGHT }} ref={v.measureElement} data-index={it.index} />);
        continue;
      }
      const line = rowPrefix(r, zone, nodeName, w);
      lines.push(
        <div key={place} className={`tail-row row-${r.operation}${selected === r.seq ? " selected" : ""} wrap`} data-testid="tail-row" data-key={r.allKeys ?? r.keys}
          style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${it.start}px)` }}
          title={rowTitle(r)} ref={v.measureElement} data-index={it.index} onClick={() => select(r.seq)}>
          <span className="c-prefix">{line}</span><span className="c-data">{r.preview}</span>
        </div>,
      );
    }
  } else {
    for (let i = first; i < last; i++) {
      const place = i - first;
      const src = b.sources[Math.floor(place / BAND_ROWS)] ?? view;
      const r = lineAt(src, order, i) ?? lineAt(view, order, i);
      if (!r) continue;
      // Keyed by place, not by record: when an update shifts every row (newest first), the rows
      // on screen are updated in place instead of unmounted and made anew.
      lines.push(<TailRow key={place} r={r} top={i * ROW_HEIGHT} selected={selected === r.seq} chars={port.extra} w={w} zone={zone} nodeName={nodeName} select={select} />);
    }
  }
  return (
    <div className="tail-list tail-lines" ref={scroller} data-testid="tail-list" tabIndex={0} role="region" aria-label="Transactions received">
      <div className="tail-row head" title={`arrival times in ${zoneLabel(Date.now(), zone)}`}>
        <span className="c-prefix">{head}</span><span className="c-data">data</span>
      </div>
      <div style={{ height: wrap ? v.getTotalSize() : n * ROW_HEIGHT, position: "relative" }}>{lines}</div>
      {n === 0 && <div className="muted tail-empty">{running ? "Waiting for transactions…" : "Pick channels and press Start."}</div>}
    </div>
  );
});

interface LineProps {
  r: TailLine;
  top: number;
  selected: boolean;
  chars: number;
  w: ReturnType<typeof widths>;
  zone: Zone;
  nodeName: string;
  select: (seq: number | null) => void;
}

/** One unwrapped row: one line in fixed columns, cut to the characters the list shows. Not
 * drawn again while its row and place stay (a band's rows while another band is drawn). */
const TailRow = memo(function TailRow({ r, top, selected, chars, w, zone, nodeName, select }: LineProps) {
  const line = rowPrefix(r, zone, nodeName, w);
  return (
    <div className={`tail-row row-${r.operation}${selected ? " selected" : ""} line`} data-testid="tail-row" data-key={r.allKeys ?? r.keys}
      style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
      title={rowTitle(r)} onClick={() => select(r.seq)}>
      {cutTo(line + r.preview, chars)}
    </div>
  );
}, (a, b) =>
  // A row's content never changes once held: each update brings equal rows as new objects.
  a.r.seq === b.r.seq && a.r.arrived === b.r.arrived && a.top === b.top && a.selected === b.selected && a.chars === b.chars && a.w === b.w && a.zone === b.zone && a.nodeName === b.nodeName && a.select === b.select);
