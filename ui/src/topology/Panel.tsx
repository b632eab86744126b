//! The canvas's side panel: the factory, Follow a channel, the selected node or edge (links,
//! Verify, tails) and the warnings.
import { FactoryPanel } from "../factory/FactoryPanel";
import { memo, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { TopoNode, TopoWarning, TopologyView as View } from "../platform";
import { useBrowse } from "../browse/store";
import { switchLocal } from "../stores/instances";
import { toastError, useUi } from "../stores/ui";
import { WARNING_ABOUT, short } from "./model";
import { edgeChannels } from "./flow";
import { startCompare } from "../tail/store";
import { useTopology } from "./store";
import { ChannelVerify, EdgeVerify } from "../verify/EdgeVerify";
import { LinkTo } from "./LinkTo";
import { EdgeHealth } from "../health/EdgeHealth";
import { HealthList } from "../health/HealthList";
import { WiringPanel } from "../wiring/WiringPanel";
import { lagText } from "../health/model";
import { openLink, openUnlink, refreshTopology } from "./store";
import { native } from "../platform";

/** Pauses or resumes the link `dialer` dials to `linkName`, then shows it. */
async function pause(dialer: string, linkName: string, paused: boolean): Promise<void> {
  try {
    await native.link_pause(dialer, linkName, paused);
    await refreshTopology();
  } catch (e) {
    toastError(e);
  }
}

/** Memoised: a drag re-renders the canvas every frame, never the panel. */
export const Panel = memo(function Panel({ view }: { view: View }) {
  const selectedNode = useTopology((s) => s.selectedNode);
  const selectedEdge = useTopology((s) => s.selectedEdge);
  const selectedChannel = useTopology((s) => s.selectedChannel);
  const rates = useTopology((s) => s.rates);
  const open = useBrowse((s) => s.open);
  const node = view.nodes.find((n) => n.id === selectedNode);
  const edge = view.edges.find((e) => e.id === selectedEdge);
  const name = (id: string) => view.nodes.find((n) => n.id === id)?.name ?? id;
  const stopStart = (n: TopoNode, start: boolean) => switchLocal(n.id, start, toastError);
  return (
    <aside className="topo-panel" data-testid="topo-panel">
      <FactoryPanel view={view} />
      <label className="small">Follow a channel{" "}
        <select value={selectedChannel ?? ""} onChange={(e) => useTopology.getState().selectChannel(e.target.value || null)} data-testid="topo-follow">
          <option value="">all</option>
          {view.flows.map((f) => <option key={f.channel} value={f.channel}>{f.channel}{f.cycleEdges.length ? " (cycle)" : ""}</option>)}
        </select>
      </label>
      {selectedChannel && <ChannelVerify view={view} channel={selectedChannel} />}
      {node && (
        <section data-testid="topo-node-panel">
          <h3>{node.name}</h3>
          <p className="small muted">{node.nodeName && node.nodeName !== node.name ? `node name ${node.nodeName} · ` : ""}{node.kind}{node.version ? ` · ${node.serverKind} ${node.version}` : ""}</p>
          {node.kind === "local" && (
            <div className="row">
              {node.online
                ? <button onClick={() => void stopStart(node, false)} data-testid="topo-stop">Stop</button>
                : <button onClick={() => void stopStart(node, true)} data-testid="topo-start">Start</button>}
            </div>
          )}
          {node.kind !== "ghost" && node.online && node.channels.length > 0 && (
            <button className="link" onClick={() => open({ kind: "tail", instance: node.id, channels: [] })}>Tail this node…</button>
          )}
          {node.kind !== "ghost" && <LinkTo view={view} from={node} />}
          {node.kind === "ghost" && (
            <>
              <p className="small">Another instance links to it at <code>{node.url}</code>, but it is not registered here.</p>
              <button className="primary" onClick={() => useUi.getState().askRegister({ name: node.name, url: node.url ?? "" })} data-testid="topo-register">Register…</button>
            </>
          )}
        </section>
      )}
      {edge && (
        <section data-testid="topo-edge-panel">
          <h3>{name(edge.source)} → {name(edge.target)}</h3>
          <p className="small">{edge.state}{edge.latencyMs !== undefined ? ` · ${edge.latencyMs.toFixed(1)} ms` : ""}{edge.lastError ? ` · ${edge.lastError}` : ""}</p>
          {edge.mesh && <p className="small" data-testid="topo-edge-mesh">HarperDB's full mesh: every table of these databases flows both ways, tables made later too.</p>}
          <table className="small">
            <thead><tr><th>channel</th><th>at</th><th>/s</th><th title="entries its target lacks">behind</th><th title="the age of the oldest entry its target lacks">lag</th></tr></thead>
            <tbody>
              {edge.channels.map((c) => (
                <tr key={`${c.channel}|${c.dialer}`} className={c.error ? "error-text" : ""} title={c.error ?? ""}>
                  <td>{c.channel}</td>
                  <td>{c.position ?? "–"}</td>
                  <td>{short(rates[`${edge.id}|${c.channel}|${c.dialer}`] ?? 0)}</td>
                  <td>{c.backlog ?? "–"}</td>
                  <td>{c.lagMs === undefined ? "n/a" : lagText(c.lagMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {edge.channels.some((c) => c.error) && <p className="small error-text">{edge.channels.filter((c) => c.error).map((c) => `${c.channel}: ${c.error}`).join("; ")}</p>}
          <div className="row">
            <button onClick={() => openLink(view, edge.channels[0]?.dialer ?? edge.source, edge.channels[0]?.dialer === edge.source ? edge.target : edge.source)} data-testid="topo-edit">Edit…</button>
            <button className="danger" onClick={() => openUnlink(edge)} data-testid="topo-remove">Remove…</button>
            {view.nodes.find((n) => n.id === edge.target)?.kind !== "ghost" && (
              <button className="link" onClick={() => open({ kind: "tail", instance: edge.target, channels: edgeChannels(edge) })}>Tail on {name(edge.target)}…</button>
            )}
          </div>
          {edge.channels[0] && view.nodes.find((n) => n.id === edge.channels[0].dialer)?.serverKind !== "harperdb" && (
            <div className="row">
              {edge.state === "paused"
                ? <button onClick={() => void pause(edge.channels[0].dialer, edge.channels[0].linkName, false)} data-testid="topo-resume">Resume link</button>
                : <button onClick={() => void pause(edge.channels[0].dialer, edge.channels[0].linkName, true)} data-testid="topo-pause" title="carry nothing until resumed; what is written meanwhile waits">Pause link</button>}
            </div>
          )}
          <EdgeVerify view={view} edge={edge} />
          <EdgeHealth edge={edge} />
          <div className="row">
            {[edge.source, edge.target].every((id) => view.nodes.find((n) => n.id === id)?.kind !== "ghost") &&
              edgeChannels(edge).map((c) => (
                <button key={c} className="link" data-testid={`topo-compare-${c}`}
                  onClick={() => startCompare([edge.source, edge.target], c).then(() => open({ kind: "tail", instance: edge.target, channels: [c], compare: true }), toastError)}>
                  Compare {c} on both…
                </button>
              ))}
          </div>
        </section>
      )}
      {!node && !edge && <p className="small muted">Drag from the right handle of a node to another node to link them. Select an edge to change or remove it; Delete removes it, Escape clears.</p>}
      <HealthList />
      <WiringPanel />
      <section>
        <h3>Warnings {view.warnings.length > 0 && <span className="badge" data-testid="topo-warnings-count">{view.warnings.length}</span>}</h3>
        {view.warnings.length === 0 && <p className="small muted">None.</p>}
        <Warnings warnings={view.warnings} />
      </section>
    </aside>
  );
});

/** About one warning's line: the list measures each as drawn (a long one wraps). */
const WARNING_ROW = 20;

/** The warnings in a box of their own, drawn as they scroll into it: a fleet with a site down
 * has thousands, and the panel is drawn again on every poll. The count is in the heading. */
const Warnings = memo(function Warnings({ warnings }: { warnings: TopoWarning[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: warnings.length, getScrollElement: () => scroller.current, estimateSize: () => WARNING_ROW, overscan: 8 });
  return (
    <div ref={scroller} className="topo-warnings" data-testid="topo-warnings" role="list" aria-label="warnings" tabIndex={warnings.length > 0 ? 0 : -1}>
      <div style={{ height: v.getTotalSize(), position: "relative" }}>
        {v.getVirtualItems().map((item) => {
          const w = warnings[item.index];
          return (
            <div key={item.key} ref={v.measureElement} data-index={item.index} role="listitem" className={`topo-warning small w-${w.kind}`} title={WARNING_ABOUT[w.kind]}
              style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}>
              <div>{w.message}</div>
            </div>
          );
        })}
      </div>
    </div>
  );
});
