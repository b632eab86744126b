//! A small canvas drawn once, out of sight, when the studio has just started and the Cluster view
//! is not open: the first canvas a process draws pays about 100 ms of one-time work (xyflow's
//! and React's code run for the first time, styles and glyphs met for the first time), which
//! the first open of the Cluster view would otherwise pay inside the user's click. Measured
//! (BENCHMARKS.md, issue 12): 100 nodes and 300 edges opened in 260–307 ms without it, 228–245
//! ms with it; the warm-up itself takes 70–95 ms of an idle second after start.
import { useEffect } from "react";
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, type Edge, type Node } from "@xyflow/react";

const NODES: Node[] = [
  { id: "a", position: { x: 0, y: 0 }, data: { label: "a" }, width: 180, height: 96 },
  { id: "b", position: { x: 320, y: 40 }, data: { label: "b" }, width: 180, height: 96 },
  { id: "c", position: { x: 160, y: 200 }, data: { label: "c" }, width: 180, height: 96 },
];
const EDGES: Edge[] = [
  { id: "a-b", source: "a", target: "b", label: "dev:a" },
  { id: "b-c", source: "b", target: "c", label: "dev:b" },
];

/** Draws the canvas, lets two frames pass, then calls `onDone` with the ms it took. */
export function CanvasWarmup({ onDone }: { onDone: (ms: number) => void }) {
  useEffect(() => {
    const started = performance.now();
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => onDone(performance.now() - started));
    });
    return () => cancelAnimationFrame(frame);
  }, [onDone]);
  return (
    <div aria-hidden className="canvas-warmup">
      <ReactFlowProvider>
        <ReactFlow nodes={NODES} edges={EDGES} fitView nodesFocusable={false} edgesFocusable={false} proOptions={{ hideAttribution: true }}>
          <Background />
          <MiniMap />
          <Controls />
        </ReactFlow>
      </ReactFlowProvider>
    </div>
  );
}
