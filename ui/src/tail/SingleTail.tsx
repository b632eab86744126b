//! The tail of one instance: pick it and its channels, watch, pause, filter, inspect and export.
import { useEffect, useState } from "react";
import { native, type TailRecord } from "../platform";
import { useInstances } from "../stores/instances";
import { toastError, useUi } from "../stores/ui";
import { NO_FILTER, act, setFilter, startTail, stopTail, useTail } from "./store";
import { count, grouped } from "../text/count";
import { clock, dateTime, useZone, zoneLabel } from "../text/time";
import { TailList } from "./TailList";
import { RateChart } from "./RateChart";
import { noticeText } from "./notices";

export function SingleTail({ instance: initialInstance, channels: initialChannels }: { instance?: string; channels?: string[] }) {
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
