//! The edge panel's Verify: the button (`verify-<source>-<target>`), the edge's last result and
//! the switch for verifying it periodically; and the result's few words on the edge's label.
import type { TopoEdge, TopologyView } from "../platform";
import { edgeChannels } from "../topology/flow";
import { clock, useZone, type Zone } from "../text/time";
import { openVerify, PERIODIC_MS, useVerify, type LastResult } from "./store";

/** Why an edge cannot be verified, or null. */
export function cannotVerify(view: TopologyView, edge: TopoEdge): string | null {
  const ends = [edge.source, edge.target].map((id) => view.nodes.find((n) => n.id === id));
  if (ends.some((n) => !n || n.kind === "ghost")) return "Register both nodes to verify them.";
  if (ends.some((n) => !n?.online)) return "Both nodes must be online to verify.";
  return null;
}

/** "in sync 12:03" or "3 records differ": what an edge label says of its last result. */
export function lastWords(last: LastResult, zone: Zone): string {
  const at = clock(last.at, zone).slice(0, 5);
  return last.verdict === "inSync" ? `✓ verified ${at}` : `${last.summary} (${at})`;
}

export function EdgeVerify({ view, edge }: { view: TopologyView; edge: TopoEdge }) {
  const last = useVerify((s) => s.last[edge.id]);
  const periodic = useVerify((s) => !!s.periodic[edge.id]);
  const zone = useZone((z) => z.zone);
  const name = (id: string) => view.nodes.find((n) => n.id === id)?.name ?? id;
  const [source, target] = [name(edge.source), name(edge.target)];
  const why = cannotVerify(view, edge);
  const channels = edgeChannels(edge);
  return (
    <div className="verify-edge">
      <div className="row">
        <button onClick={() => openVerify(edge.id, `${source} → ${target}`, [edge.source, edge.target], channels)} disabled={why !== null || channels.length === 0}
          title={why ?? `Compare ${channels.join(", ")} on ${source} and ${target}`} data-testid={`verify-${source}-${target}`}>
          Verify…
        </button>
        <label className="small" title={`Verify this edge every ${PERIODIC_MS / 60_000} minutes while the studio runs`}>
          <input type="checkbox" checked={periodic} disabled={why !== null} onChange={(e) => useVerify.getState().setPeriodic(edge.id, e.target.checked)} data-testid="verify-periodic" />
          every {PERIODIC_MS / 60_000} min
        </label>
      </div>
      {why && <p className="small muted">{why}</p>}
      {!why && [edge.source, edge.target].some((id) => view.nodes.find((n) => n.id === id)?.serverKind === "harperdb") && (
        <p className="small muted">HarperDB keeps no digest: Verify reads both tables whole (slower, with progress and Cancel).</p>
      )}
      {last && <p className={`small verdict-${last.verdict}`} data-testid="verify-last">Last: {last.summary}, {clock(last.at, zone).slice(0, 8)}</p>}
    </div>
  );
}

/** The nodes a channel can be verified on: registered, online, holding its table. */
export function verifiableHolders(view: TopologyView, channel: string) {
  return view.nodes.filter((n) => n.kind !== "ghost" && n.online && n.channels.includes(channel));
}

/** Verify one channel across every node that holds it (beside "Follow a channel"). */
export function ChannelVerify({ view, channel }: { view: TopologyView; channel: string }) {
  const holders = verifiableHolders(view, channel);
  const last = useVerify((s) => s.last[`channel:${channel}`]);
  const zone = useZone((z) => z.zone);
  if (holders.length < 2) return <p className="small muted">Fewer than two online instances hold {channel}: nothing to verify it across.</p>;
  return (
    <div className="row">
      <button className="link" data-testid={`verify-channel-${channel}`}
        onClick={() => openVerify(`channel:${channel}`, `${channel} on ${holders.map((n) => n.name).join(", ")}`, holders.map((n) => n.id), [channel])}>
        Verify {channel} on its {holders.length} nodes…
      </button>
      {last && <span className={`small verdict-${last.verdict}`}>{lastWords(last, zone)}</span>}
    </div>
  );
}
