//! Zoomed out, every edge in one layer of paths, one per look (and, during a drag, per part).
import { memo } from "react";
import { useStore } from "@xyflow/react";

type Paths = { look: string; d: string }[];

/**
 * Zoomed out, every edge drawn at once: one path per look (state, failing, dim, selected) in
 * flow coordinates under the nodes. During a drag the dragged nodes' edges are paths of their
 * own (`moving`), so a frame rewrites those and leaves the others' untouched. A click on the
 * pane selects the edge under it.
 */
export const FarEdges = memo(function FarEdges({ still, moving }: { still: Paths; moving: Paths }) {
  const [x, y, k] = useStore((s) => s.transform);
  return (
    <svg className="topo-far-edges" data-testid="topo-far-edges" aria-hidden>
      <g transform={`translate(${x},${y}) scale(${k})`}>
        {still.map((p) => <path key={`still ${p.look}`} className={`topo-edge-path far ${p.look}`} d={p.d} />)}
        {moving.map((p) => <path key={`moving ${p.look}`} className={`topo-edge-path far ${p.look}`} d={p.d} />)}
      </g>
    </svg>
  );
});
