//! One channel on several nodes, side by side: each transaction once, with when it reached each
//! node (its delay from the commit at its origin), or flagged missing after the grace period.
import { count } from "../text/count";
import { useEffect, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useInstances } from "../stores/instances";
import { toastError, useUi } from "../stores/ui";
import { GRACE_MS, missingCounts, presence } from "./compare";
import { startCompare, stopCompare, useCompare } from "./store";

const ROW_HEIGHT = 26;

export function CompareView() {
  const registry = useInstances((s) => s.view);
  const c = useCompare();
  const [chosen, setChosen] = useState<string[]>(c.model.nodes);
  const [channel, setChannel] = useState(c.channel);
  const [now, setNow] = useState(Date.now());
  const scroller = useRef<HTMLDivElement>(null);

  // Pending rows turn missing without new traffic: the clock moves the view.
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const rows = c.model.rows;
  const n = rows.length;
  const v = useVirtualizer({ count: n, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const missing = missingCounts(c.model, now);
  const name = (id: string) => registry?.instances.find((i) => i.id === id)?.name ?? id;

  const start = () => {
    if (chosen.length < 2 || !channel.includes(":")) return useUi.getState().toast("Pick two or more instances and one channel (database:table)", "error");
    startCompare(chosen, channel.trim()).catch(toastError);
  };

  return (
    <section className="tail compare" data-testid="compare-view">
      <div className="toolbar tail-filters">
        {(registry?.instances ?? []).map((i) => (
          <label key={i.id} className="inline-check">
            <input type="checkbox" checked={chosen.includes(i.id)} data-testid={`compare-node-${i.name}`}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, i.id] : chosen.filter((x) => x !== i.id))} /> {i.name}
          </label>
        ))}
        <input value={channel} onChange={(e) => setChannel(e.target.value)} placeholder="dev:sensor_data" data-testid="compare-channel" aria-label="Channel"
          onKeyDown={(e) => e.key === "Enter" && start()} />
        {c.tails.length ? (
          <button onClick={() => void stopCompare()} data-testid="compare-stop">Stop</button>
        ) : (
          <button className="primary" onClick={start} data-testid="compare-start">Compare</button>
        )}
        <div className="spacer" />
        <span className="muted" data-testid="compare-count">{count(n, "transaction")} · missing after {GRACE_MS / 1000} s</span>
      </div>
      <div className="tail-list" ref={scroller} data-testid="compare-list">
        <div className="tail-row head">
          <span className="c-origin">origin #id</span><span className="c-op">op</span><span className="c-keys">keys</span>
          {c.model.nodes.map((id) => (
            <span key={id} className="c-node" data-testid={`compare-head-${name(id)}`}>
              {name(id)} <em className="muted">{c.model.state[id]}</em>{missing[id] ? <b className="tail-dropped"> · {missing[id]} missing</b> : null}
            </span>
          ))}
        </div>
        <div style={{ height: v.getTotalSize(), position: "relative" }}>
          {v.getVirtualItems().map((it) => {
            const r = rows[n - 1 - it.index];
            if (!r) return null;
            return (
              <div key={r.key} className="tail-row" data-testid="compare-row" data-key={r.keys}
                style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${it.start}px)`, height: ROW_HEIGHT }}>
                <span className="c-origin">{r.origin} #{r.originId}</span>
                <span className={`c-op op-${r.operation}`}>{r.operation}</span>
                <span className="c-keys">{r.keys}</span>
                {c.model.nodes.map((id) => {
                  const p = presence(r, id, now);
                  return (
                    <span key={id} className={`c-node presence-${p.kind}`} data-testid={`presence-${name(id)}`} data-presence={p.kind}>
                      {p.kind === "arrived" ? `+${p.delayMs} ms` : p.kind === "missing" ? "missing" : "…"}
                    </span>
                  );
                })}
              </div>
            );
          })}
        </div>
        {n === 0 && <div className="muted tail-empty">{c.tails.length ? "Waiting for transactions…" : "Pick the nodes and a channel, then Compare."}</div>}
      </div>
    </section>
  );
}
