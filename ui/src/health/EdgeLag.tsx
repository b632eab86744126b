//! An edge's lag on the canvas: how far behind its target is in time (coloured by its
//! thresholds), a sparkline of the last minutes, and while a backlog drains, the time to catch up.
import { memo } from "react";
import type { TopoEdge } from "../platform";
import { catchUpMs, lagLevel, lagText, polyline, thresholdsOf, TREND_MS } from "./model";
import { useHealth } from "./store";
import { short } from "../topology/model";

export const EdgeLag = memo(function EdgeLag({ edge, source, target }: { edge: TopoEdge; source: string; target: string }) {
  const trend = useHealth((s) => s.trends[edge.id]);
  const rules = useHealth((s) => s.state?.rules ?? null);
  const behind = edge.channels.reduce((sum, c) => sum + (c.backlog ?? 0), 0);
  if (edge.lagMs === undefined) {
    return <span className="muted" data-testid={`edge-lag-${source}-${target}`} data-lag-ms="" title="this server does not report how far behind its peers are"> · lag n/a</span>;
  }
  const level = lagLevel(edge.lagMs, thresholdsOf(rules, edge.id));
  const eta = trend ? catchUpMs(trend) : null;
  const now = trend?.[trend.length - 1]?.at ?? 0;
  const points = trend ? polyline(trend.map((p) => ({ at: p.at, v: p.lagMs ?? 0 })), 32, 10, now - TREND_MS, now) : "";
  return (
    <span className={`edge-lag ${level}`} data-testid={`edge-lag-${source}-${target}`} data-lag-ms={Math.round(edge.lagMs)} data-level={level}
      title={`${target} is ${lagText(edge.lagMs)} behind ${source}${behind ? ` (${behind} entries)` : ""}; the line: the last 5 minutes`}>
      {" · lag "}{lagText(edge.lagMs)}
      {behind > 0 && <span className="muted"> ({short(behind)})</span>}
      {points && <svg className="spark" width={32} height={10} aria-hidden><polyline points={points} /></svg>}
      {eta !== null && <span data-testid={`edge-eta-${source}-${target}`}> · ~{lagText(eta)} to catch up</span>}
    </span>
  );
});
