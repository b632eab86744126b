//! Zoomed out, every edge in one layer of paths, one per look.
import { memo } from "react";
import { useStore } from "@xyflow/react";

/**
 * Zoomed out, every edge drawn at once: one path per look (state, failing, dim, selected) in
 * flow coordinates under the nodes. A click on the pane selects the edge under it.
 */
export const FarEdges = memo(function FarEdges({ paths }: { paths: { look: string; d: string }[] }) {
  const [x, y, k] = useStore((s) => s.transform);
  return (
    <svg className="topo-far-edges" data-testid="topo-far-edges" aria-hidden>
      <g transform={`translate(${x},${y}) scale(${k})`}>
        {paths.map((p) => <path key={p.look} className={`topo-edge-path far ${p.look}`} d={p.d} />)}
      </g>
    </svg>
  );
});
