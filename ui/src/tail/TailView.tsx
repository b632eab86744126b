//! The live tail: pick an instance and channels, watch transactions arrive (virtualized list,
//! newest or oldest first), pause without losing any below the buffer's cap, filter, inspect
//! one in the detail pane, and export the session as NDJSON.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { useVirtualizer } from "@tanstack/react-virtual";
import { native, type Order, type TailLine, type TailNotice, type TailRecord, type TailUpdate } from "../platform";
import { useInstances } from "../stores/instances";
import { toastError, useUi } from "../stores/ui";
import { cutTo, fittingChars, headerPrefix, keysColumn, prefix, widths } from "./line";
import { NO_FILTER, act, setFilter, setPort, startTail, stopTail, useTail } from "./store";
import { CompareView } from "./CompareView";
import { count, grouped } from "../text/count";
import { BAND_ROWS, bandSources, covers, fixedRange, nextBand, portAround, replacedAll } from "./range";
import { useViewport } from "./viewport";
import { clock, dateTime, useZone, zoneLabel, type Zone } from "../text/time";

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
  return prefix({ time: clock(r.arrived, zone), node: nodeName, channel: r.channel, operation: r.operation, keys: keysColumn(r.keys, r.count), origin: `${r.origin} #${r.originId}` }, w);
}

/** A row's tooltip: how many records it holds and every key, for a batch. */
function rowTitle(r: TailLine): string | undefined {
  return r.count > 1 ? `${count(r.count, "record")}: ${r.allKeys ?? r.keys}` : r.allKeys;
}

/** A notice as the user reads it (the dropped range's times in their zone). */
function noticeText(n: TailNotice, zone: Zone): string {
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

/** Messages per second over the last minute, as a small line chart. */
function RateChart({ rate }: { rate: number[] }) {
  const max = Math.max(1, ...rate);
  const w = 180;
  const h = 28;
  const points = rate.map((v, i) => `${(i / (rate.length - 1)) * w},${h - (v / max) * (h - 2) - 1}`).join(" ");
  return (
    <span className="tail-rate" data-testid="tail-rate" title={`records per second over the last minute (peak ${max})`}>
      <svg width={w} height={h} aria-hidden>
        <polyline points={points} fill="none" stroke="var(--accent)" strokeWidth="1.5" />
      </svg>
      <span>{rate[rate.length - 2] ?? 0}/s</span>
    </span>
  );
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
const TailList = memo(function TailList({ view, order, wrap, selected, nodeName, channels, running }: ListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const zone = useZone((s) => s.zone);
  const n = view.shown;
  const v = useVirtualizer({ count: wrap ? n : 0, enabled: wrap, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: OVERSCAN });
  // The scroll position, the viewport's height, and how many characters of a line the list
  // shows: only those are laid out (the rest would be shaped on every row, four times a second).
  const port = useViewport(scroller, (el) => fittingChars(el.clientWidth - LINE_PADDING_PX, advance(el)));
  const w = useMemo(() => widths(nodeName, channels), [nodeName, channels]);

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

/** The tail page: one node, or one channel compared across nodes. */
export function TailView(props: { instance?: string; channels?: string[]; compare?: boolean }) {
  const [mode, setMode] = useState<"one" | "compare">(props.compare ? "compare" : "one");
  return (
    <div className="tail-page">
      <div className="tabs tail-tabs">
        <button className={mode === "one" ? "active" : ""} onClick={() => setMode("one")} data-testid="tail-mode-one">One node</button>
        <button className={mode === "compare" ? "active" : ""} onClick={() => setMode("compare")} data-testid="tail-mode-compare">Compare nodes</button>
      </div>
      {mode === "one" ? <SingleTail {...props} /> : <CompareView />}
    </div>
  );
}

function SingleTail({ instance: initialInstance, channels: initialChannels }: { instance?: string; channels?: string[] }) {
  const registry = useInstances((s) => s.view);
  const t = useTail();
  const m = t.view;
  const zone = useZone((s) => s.zone);
  const [instance, setInstance] = useState(initialInstance ?? t.instance ?? registry?.instances[0]?.id ?? "");
  const [channelText, setChannelText] = useState((initialChannels?.length ? initialChannels : t.channels).join(", "));
  const [known, setKnown] = useState<string[]>([]);
  const [exporting, setExporting] = useState<number | null>(null);
  const [filterName, setFilterName] = useState("");

  useEffect(() => {
    if (!instance) return;
    native.browse_tree(instance).then((dbs) => setKnown(dbs.flatMap((d) => d.tables.map((tb) => `${d.name}:${tb.name}`))), () => setKnown([]));
  }, [instance]);

  const n = m.shown;
  // The selected transaction, read whole from the studio (the list holds only its lines).
  const [selected, setSelected] = useState<TailRecord | null>(null);
  useEffect(() => {
    setSelected(null);
    if (t.selected === null || !t.tailId) return;
    let current = true;
    native.tail_record(t.tailId, t.selected).then((r) => current && setSelected(r), (e) => current && toastError(e));
    return () => {
      current = false;
    };
  }, [t.tailId, t.selected]);
  const channels = t.channels;
  const hidden = m.rows - n;
  const nodeName = registry?.instances.find((i) => i.id === t.instance)?.name ?? "";

  const start = () => {
    const list = channelText.split(/[\s,]+/).filter(Boolean);
    if (!instance || !list.length) return useUi.getState().toast("Pick an instance and at least one channel (database:table)", "error");
    startTail(instance, list).catch(toastError);
  };

  // HarperDB: export the tables it does not publish, once the user agrees, then tail again.
  const [exportingTables, setExportingTables] = useState(false);
  const exportTables = async (on: string, tables: string[]) => {
    const ok = await useUi.getState().ask({
      title: `Export ${tables.join(", ")} on ${nodeName}?`,
      body: `This writes the component switchyard_export on ${nodeName} and restarts its HTTP workers (REST, WebSocket and MQTT clients reconnect). Nothing else changes.`,
      confirmLabel: "Export and restart",
      danger: false,
    });
    if (!ok) return;
    setExportingTables(true);
    try {
      useUi.getState().toast(await native.tail_harperdb_export(on, tables));
      await startTail(on, channels.length ? channels : tables);
    } catch (e) {
      toastError(e);
    } finally {
      setExportingTables(false);
    }
  };

  const exportSession = async () => {
    if (!t.tailId) return;
    setExporting(0);
    try {
      const done = await native.tail_export(t.tailId, `tail-${new Date().toISOString().replace(/[:.]/g, "-")}.ndjson`, setExporting);
      useUi.getState().toast(`Exported ${count(done.count, "transaction")} to ${done.path}`);
    } catch (e) {
      toastError(e);
    } finally {
      setExporting(null);
    }
  };

  const pause = () => void act({ kind: m.paused ? "resume" : "pause" }).catch(toastError);

  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === " " && e.target === e.currentTarget) {
      e.preventDefault();
      pause();
    }
  };

  return (
    <section className="tail" data-testid="tail-view" tabIndex={-1} onKeyDown={onKey}>
      <div className="toolbar">
        <h2>Live tail</h2>
        <select value={instance} onChange={(e) => setInstance(e.target.value)} data-testid="tail-instance" aria-label="Instance">
          {(registry?.instances ?? []).map((i) => (
            <option key={i.id} value={i.id}>{i.name}</option>
          ))}
        </select>
        <input list="tail-known" value={channelText} onChange={(e) => setChannelText(e.target.value)} placeholder="dev:dog, dev:cat" data-testid="tail-channels"
          aria-label="Channels" onKeyDown={(e) => e.key === "Enter" && start()} style={{ minWidth: 220 }} />
        <datalist id="tail-known">{known.map((k) => <option key={k} value={k} />)}</datalist>
        {t.running ? (
          <button onClick={() => void stopTail()} data-testid="tail-stop">Stop</button>
        ) : (
          <button className="primary" onClick={start} data-testid="tail-start">Start</button>
        )}
        <span className={`tail-state ${m.connection}`} data-testid="tail-state">{m.connection}</span>
        <div className="spacer" />
        <RateChart rate={m.rate} />
      </div>
      <div className="toolbar tail-controls">
        <button onClick={pause} data-testid="tail-pause" title="Space">
          {m.paused ? `Resume (${count(m.buffered, "record")} held)` : "Pause"}
        </button>
        {m.paused && (
          <span className="muted" data-testid="tail-buffer">
            buffer {grouped(m.buffered)} / {grouped(m.pauseCap)} records
            {m.dropped && <b className="tail-dropped" data-testid="tail-dropped"> · {grouped(m.dropped.count)} dropped (#{m.dropped.firstId}–#{m.dropped.lastId})</b>}
          </span>
        )}
        <button onClick={() => { t.select(null); void act({ kind: "clear" }).catch(toastError); }} data-testid="tail-clear">Clear</button>
        <button onClick={() => t.setOrder(t.order === "newest" ? "oldest" : "newest")} data-testid="tail-order">{t.order === "newest" ? "Newest first" : "Oldest first"}</button>
        <label className="inline-check"><input type="checkbox" checked={t.wrap} onChange={(e) => t.setWrap(e.target.checked)} data-testid="tail-wrap" /> Wrap</label>
        <button onClick={() => void exportSession()} disabled={exporting !== null || n === 0} data-testid="tail-export">
          {exporting === null ? "Export NDJSON" : `Exporting ${Math.round(exporting * 100)}%`}
        </button>
        <div className="spacer" />
        <span className="muted" data-testid="tail-count">
          {grouped(n)} shown{hidden > 0 ? ` · ${grouped(hidden)} hidden by the filter` : ""} · {grouped(m.received)} received · ring of {grouped(m.shownCap)} records
        </span>
      </div>
      <div className="toolbar tail-filters">
        <select value={t.filter.channel} onChange={(e) => setFilter({ ...t.filter, channel: e.target.value })} aria-label="Channel filter" data-testid="tail-filter-channel">
          <option value="">all channels</option>
          {channels.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        <select value={t.filter.operation} onChange={(e) => setFilter({ ...t.filter, operation: e.target.value })} aria-label="Operation filter" data-testid="tail-filter-operation">
          <option value="">all operations</option>
          {m.operations.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
        <input placeholder="key" value={t.filter.key} onChange={(e) => setFilter({ ...t.filter, key: e.target.value })} data-testid="tail-filter-key" style={{ width: 90 }} />
        <input placeholder="text" value={t.filter.text} onChange={(e) => setFilter({ ...t.filter, text: e.target.value })} data-testid="tail-filter-text" />
        <button onClick={() => setFilter(NO_FILTER)} data-testid="tail-filter-reset" disabled={!t.filter.channel && !t.filter.operation && !t.filter.key && !t.filter.text}>Reset</button>
        <input placeholder="name" value={filterName} onChange={(e) => setFilterName(e.target.value)} style={{ width: 90 }} aria-label="Filter name" />
        <button onClick={() => filterName && t.saveFilter(filterName)} disabled={!filterName} data-testid="tail-filter-save">Save filter</button>
        {t.saved.map((f) => (
          <span key={f.name} className="chip">
            <button className="link" onClick={() => setFilter({ channel: f.channel, operation: f.operation, key: f.key, text: f.text })}>{f.name}</button>
            <button className="close" title="Forget this filter" onClick={() => t.removeFilter(f.name)}>×</button>
          </span>
        ))}
      </div>
      {m.notExported.length > 0 && instance && (
        <div className="warn-panel tail-export" role="alert" data-testid="tail-not-exported">
          <p>
            HarperDB publishes a table over MQTT only once a component exports it, and no component exports {m.notExported.join(", ")} on {nodeName}.
            The studio can export {m.notExported.length === 1 ? "it" : "them"}: it writes the component <code>switchyard_export</code> (package.json,
            config.yaml, resources.js) through set_component_file and restarts HarperDB's HTTP workers, which drops their open connections for a moment.
          </p>
          <button className="primary" disabled={exportingTables} onClick={() => void exportTables(instance, m.notExported)} data-testid="tail-export-tables">
            {exportingTables ? "Exporting…" : `Export ${m.notExported.join(", ")}…`}
          </button>
        </div>
      )}
      {m.notices.length > 0 && (
        <div className="tail-notices" data-testid="tail-notices">
          <button className="close" title="Dismiss" onClick={() => void act({ kind: "dismiss_notices" }).catch(toastError)}>×</button>
          {m.notices.map((notice, i) => <div key={i}>{noticeText(notice, zone)}</div>)}
        </div>
      )}
      <div className="tail-body">
        <TailList view={m} order={t.order} wrap={t.wrap} selected={t.selected} nodeName={nodeName} channels={channels} running={t.running} />
        {selected && (
          <aside className="tail-detail" data-testid="tail-detail">
            <div className="toolbar">
              <b>#{selected.id}</b> <span className="muted">{selected.channel} · {selected.operation} · {selected.source}</span>
              <div className="spacer" />
              <button onClick={() => navigator.clipboard.writeText(JSON.stringify(selected.data, null, 2)).then(() => useUi.getState().toast("Copied"), toastError)}>Copy</button>
              <button onClick={() => t.select(null)} aria-label="Close">×</button>
            </div>
            <dl>
              <dt>origin</dt><dd>{selected.origin} #{selected.originId}</dd>
              <dt>committed</dt><dd>{dateTime(selected.ts, zone)} {zoneLabel(selected.ts, zone)}</dd>
              <dt>arrived</dt><dd>{clock(selected.arrived, zone)} ({Math.max(0, Math.round(selected.arrived - selected.ts))} ms later)</dd>
              {selected.user && (<><dt>user</dt><dd>{selected.user}</dd></>)}
            </dl>
            <pre>{JSON.stringify(selected.data, null, 2)}</pre>
          </aside>
        )}
      </div>
    </section>
  );
}
