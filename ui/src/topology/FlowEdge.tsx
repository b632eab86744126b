//! An edge of the canvas drawn by xyflow when zoomed in: a straight line from border to border,
//! its label on its own line (placed clear of nodes and other labels) with the way data flows.
import { memo } from "react";
import { BaseEdge, EdgeLabelRenderer, useInternalNode, type Edge, type EdgeProps } from "@xyflow/react";
import { PAIR_GAP, along, floatingEdge, labelLine, labelSize, short } from "./model";
import { EdgeLag } from "../health/EdgeLag";
import { edgeChannels, edgeLook, labelText, type EdgeData } from "./flow";
import { useTopology } from "./store";
import { lastWords } from "../verify/EdgeVerify";
import { useVerify } from "../verify/store";
import { useZone } from "../text/time";
import { edgeDrift, useWiring } from "../wiring/store";

/** An edge drawn by xyflow: only when zoomed in (zoomed out, `FarEdges` draws them all). */
export const FlowEdge = memo(function FlowEdge(props: EdgeProps<Edge<EdgeData>>) {
  const { source, target, data, markerEnd, selected } = props;
  // Floating: from border to border on the line between the two nodes, whichever side each
  // lies on (a handle-to-handle curve loops around the nodes when the target lies left).
  const a = useInternalNode(source)?.internals.positionAbsolute;
  const b = useInternalNode(target)?.internals.positionAbsolute;
  const verified = useVerify((s) => (data ? s.last[data.edge.id] : undefined));
  const zone = useZone((z) => z.zone);
  const drift = useWiring((s) => (data ? edgeDrift(s.drift, data.sourceName, data.targetName) : undefined));
  if (!data || !a || !b) return null;
  const line = floatingEdge(a, b, data.paired ? PAIR_GAP : 0);
  const path = `M ${line.from.x},${line.from.y} L ${line.to.x},${line.to.y}`;
  // On its own line (or beside it, on its side), clear of the other labels and of the nodes
  // (`placeLabels`); its arrow points the way the data flows along that line.
  const { x: labelX, y: labelY } = along(data.labelBeside ? labelLine(a, b, true, true) : line, data.labelAt);
  const angle = Math.atan2(line.to.y - line.from.y, line.to.x - line.from.x);
  const e = data.edge;
  const look = edgeLook(data, !!selected);
  const channels = edgeChannels(e);
  const whole = `${data.sourceName} → ${data.targetName}: ${channels.join(", ")}${e.lastError ? `\n${e.lastError}` : ""}${e.channels.filter((c) => c.error).map((c) => `\n${c.channel}: ${c.error}`).join("")}`;
  const arrow = <span className="dir" aria-hidden style={{ transform: `rotate(${angle}rad)` }}>➜</span>;
  return (
    <>
      <BaseEdge path={path} markerEnd={markerEnd} interactionWidth={20} className={`topo-edge-path ${look}${(data.rate ?? 0) > 0 ? " busy" : ""}`} />
      <EdgeLabelRenderer>
        {data.labelCompact ? (
          <div className={`topo-edge-label compact ${look}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-testid={`topo-edge-${data.sourceName}-${data.targetName}`}
            onClick={() => useTopology.getState().selectEdge(e.id)}
            title={whole}>
            {arrow}<span data-testid="topo-edge-count">{channels.length}</span>
          </div>
        ) : (
          <div className={`topo-edge-label ${look}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)`, width: labelSize(labelText(e)).width, boxSizing: "border-box" }}
            data-testid={`topo-edge-${data.sourceName}-${data.targetName}`}
            onClick={() => useTopology.getState().selectEdge(e.id)}
            title={whole}>
            <div className="chans">{arrow}{e.mesh && <span className="badge" title="HarperDB's default: every table of these databases, both ways">full mesh</span>}{channels.join(", ")}{e.cycle ? " ↻" : ""}</div>
            <div className="stats">
              {drift && <span className="drift" data-testid={`edge-drift-${data.sourceName}-${data.targetName}`} title={`not as the attached wiring file says: ${drift.words}`}>drift · </span>}
              {data.rate === null ? <span className="muted" title="HarperDB reports no counts per link">rate n/a</span> : <span data-testid="topo-edge-rate">{short(data.rate)}/s</span>}
              <EdgeLag edge={e} source={data.sourceName} target={data.targetName} />
              {e.state !== "open" && <span> · {e.state}</span>}
              {verified && <span className={`verified ${verified.verdict}`} data-testid="topo-edge-verified"> · {lastWords(verified, zone)}</span>}

            </div>
          </div>
        )}
      </EdgeLabelRenderer>
    </>
  );
});
