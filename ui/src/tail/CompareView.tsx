//! One channel on several nodes, side by side: each transaction once, with when it reached each
//! node (its delay from the commit at its origin), or flagged missing after the grace period.
//! The lining up happens in the studio; the list shows the rows of its screen, a page at a time.
import { count } from "../text/count";
import { useEffect, useRef, useState } from "react";
import { useViewport } from "./viewport";
import type { CrossingLine, Presence } from "../platform";
import { useInstances } from "../stores/instances";
import { toastError, useUi } from "../stores/ui";
import { covers, fixedRange, portAround } from "./range";
import { setComparePort, startCompare, stopCompare, useCompare } from "./store";

const ROW_HEIGHT = 26;
/** Rows drawn beyond each edge. */
const OVERSCAN = 4;

function presenceText(p: Presence): string {
  return p.kind === "arrived" ? `+${p.delayMs} ms` : p.kind === "missing" ? "missing" : "…";
}

export function CompareView() {
  const registry = useInstances((s) => s.view);
  const c = useCompare();
  const view = c.view;
  const [chosen, setChosen] = useState<string[]>(view.nodes.map((n) => n.id));
  const [channel, setChannel] = useState(c.channel);
  const scroller = useRef<HTMLDivElement>(null);
  const port = useViewport(scroller);

  const n = view.rows;
  const { first, last } = fixedRange(port.top, port.height, ROW_HEIGHT, n, OVERSCAN);
  useEffect(() => {
    if (!covers({ order: "newest", first: view.first, count: view.count }, "newest", first, last)) {
      const p = portAround("newest", first, last);
      setComparePort(p.first, p.count);
    }
  }, [view.first, view.count, first, last]);
  const name = (id: string) => registry?.instances.find((i) => i.id === id)?.name ?? id;

  const start = () => {
    if (chosen.length < 2 || !channel.includes(":")) return useUi.getState().toast("Pick two or more instances and one channel (database:table)", "error");
    startCompare(chosen, channel.trim()).catch(toastError);
  };

  const rows: { i: number; r: CrossingLine }[] = [];
  for (let i = first; i < last; i++) {
    const r = view.lines[i - view.first];
    if (r) rows.push({ i, r });
  }
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
        {c.running ? (
          <button onClick={() => void stopCompare()} data-testid="compare-stop">Stop</button>
        ) : (
          <button className="primary" onClick={start} data-testid="compare-start">Compare</button>
        )}
        <div className="spacer" />
        <span className="muted" data-testid="compare-count">{count(n, "transaction")} · missing after {view.graceMs / 1000} s</span>
      </div>
      <div className="tail-list" ref={scroller} data-testid="compare-list" tabIndex={0} role="region" aria-label="Transactions on each node, side by side">
        <div className="tail-row head">
          <span className="c-origin">origin #id</span><span className="c-op">op</span><span className="c-keys">keys</span>
          {view.nodes.map((node) => (
            <span key={node.id} className="c-node" data-testid={`compare-head-${name(node.id)}`} title={node.notice}>
              {name(node.id)} <em className="muted">{node.connection}</em>{node.missing ? <b className="tail-dropped"> · {node.missing} missing</b> : null}
            </span>
          ))}
        </div>
        <div style={{ height: n * ROW_HEIGHT, position: "relative" }}>
          {rows.map(({ i, r }) => (
            <div key={i - first} className="tail-row" data-testid="compare-row" data-key={r.keys}
              style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${i * ROW_HEIGHT}px)`, height: ROW_HEIGHT }}>
              <span className="c-origin">{r.origin} #{r.originId}</span>
              <span className={`c-op op-${r.operation}`}>{r.operation}</span>
              <span className="c-keys">{r.keys}</span>
              {view.nodes.map((node, at) => {
                const p = r.presence[at];
                return (
                  <span key={node.id} className={`c-node presence-${p.kind}`} data-testid={`presence-${name(node.id)}`} data-presence={p.kind}>
                    {presenceText(p)}
                  </span>
                );
              })}
            </div>
          ))}
        </div>
        {n === 0 && <div className="muted tail-empty">{c.running ? "Waiting for transactions…" : "Pick the nodes and a channel, then Compare."}</div>}
      </div>
    </section>
  );
}
