//! A node of the canvas: an instance's card (status, server, tables, backlog, writes per second), its
//! name only when zoomed out, its box alone when even the name cannot be read; its handles start
//! and take links.
import { memo } from "react";
import { Handle, Position as Side, useStore, useConnection, type Node, type NodeProps } from "@xyflow/react";
import { NODE_HEIGHT, NODE_KIND_LABEL, NODE_WIDTH, short } from "./model";
import { type NodeData } from "./flow";
import { count } from "../text/count";
import { lagLevel, lagText, thresholdsOf } from "../health/model";
import { useHealth } from "../health/store";
import { nodeDetail } from "./viewport";

export const InstanceNode = memo(function InstanceNode({ id, data, selected }: NodeProps<Node<NodeData>>) {
  const n = data.node;
  const state = n.kind === "ghost" ? "ghost" : n.online ? (n.error ? "warn" : "online") : "offline";
  const detail = useStore(nodeDetail);
  // While a link is dragged from another node, this whole card takes the drop (it shows so
  // under the pointer); only a change of that answer re-renders the card.
  const accepts = useConnection((c) => c.inProgress && c.fromNode.id !== id);
  // The rules themselves (a stable reference) are selected; what follows from them is not.
  const rules = useHealth((s) => s.state?.rules ?? null);
  const defaults = thresholdsOf(rules, "");
  if (detail !== "card") {
    // Zoomed out, a node is its name. No handles: at that zoom they are a few pixels wide, too
    // small to drag a link from, and 200 of them were a good part of what opening 100 nodes
    // costs (each subscribes to the canvas's store). Links are drawn zoomed in. Further out the
    // name could not be read: the box alone, filled when the node is down or failing (its
    // border is a fraction of a pixel there), the name in its tooltip.
    return (
      <div className={`topo-node far${detail === "box" ? " box" : ""} ${state}${selected ? " selected" : ""}${data.dim ? " dim" : ""}${data.reached ? " reached" : ""}`}
        data-testid={`topo-node-${n.name}`} title={n.name} style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
        <div className="topo-node-head">{detail === "name" && <b>{n.name}</b>}</div>
      </div>
    );
  }
  return (
    <div className={`topo-node ${state}${selected ? " selected" : ""}${data.dim ? " dim" : ""}${data.reached ? " reached" : ""}${accepts ? " accepts" : ""}`}
      data-testid={`topo-node-${n.name}`} style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
      <Handle type="target" position={Side.Left} />
      <div className="topo-node-head">
        <span className={`dot ${state}`} aria-hidden />
        <b title={n.nodeName ?? n.name}>{n.name}</b>
        <span className="badge">{NODE_KIND_LABEL[n.kind]}</span>
      </div>
      <div className="small muted">
        {n.kind === "ghost" ? `not registered · ${n.url ?? ""}` : n.online ? `${n.serverKind ?? "?"} ${n.version ?? ""}` : "offline"}
      </div>
      <div className="small">
        <span title={n.channelsLastKnown ? "offline: the tables it had when it last answered" : undefined}>
          {count(n.channels.length, "table")}{n.channelsLastKnown ? " (last known)" : ""}
        </span>
        {n.serverKind !== "harperdb" && !n.channelsLastKnown && <> · backlog <span data-testid={`topo-backlog-${n.name}`}>{short(n.backlog)}</span></>}
      </div>
      <div className="small">
        {data.rate === null
          ? <span className="muted" data-testid={`topo-writes-${n.name}`} title="this server reports no log position to count writes from">write rate not reported</span>
          : <span data-testid={`topo-writes-${n.name}`} title="transactions written to its log per second">{short(data.rate)} writes/s</span>}
      </div>
      {n.inboundLagMs !== undefined && (
        <div className="small">
          <span className={`edge-lag ${lagLevel(n.inboundLagMs, defaults)}`} data-testid={`topo-inbound-lag-${n.name}`} title="the worst lag of the links into it">
            {n.inboundLagMs > 0 ? `behind by up to ${lagText(n.inboundLagMs)}` : "caught up"}
          </span>
        </div>
      )}
      {n.error && <div className="small error-text topo-node-error" title={n.error}>{n.error}</div>}
      <Handle type="source" position={Side.Right} />
    </div>
  );
});
