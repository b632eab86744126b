//! The Cluster view: every instance a node, every data flow an edge (one per direction), live
//! about once a second; drag from one node to another to link them, select an edge to change
//! or remove its link, pick a channel to see where its data goes.
import "@xyflow/react/dist/style.css";
import { FactoryReview } from "../factory/FactoryPanel";
import { startTransition, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { ReactFlowProvider, getNodesBounds, getViewportForBounds, type Edge, type Node } from "@xyflow/react";
import { describeError } from "../stores/ui";
import { edgeChannels, mergeEdges, mergeNodes, toFlow, type EdgeData, type NodeData } from "./flow";
import { LinkDialog, UnlinkDialog } from "./LinkDialog";
import { openUnlink, startTopologyPolling, useTopology } from "./store";
import { VerifyDialog } from "../verify/VerifyDialog";
import { startPeriodic, useVerify } from "../verify/store";
import { startHealth } from "../health/store";
import { FIT, FIT_MAX_ZOOM, FIT_PADDING, MIN_ZOOM } from "./viewport";
import { Panel } from "./Panel";
import { Flow } from "./Flow";

function Canvas() {
  const view = useTopology((s) => s.view);
  const positions = useTopology((s) => s.positions);
  const positionsLoaded = useTopology((s) => s.positionsLoaded);
  const rates = useTopology((s) => s.rates);
  const selectedChannel = useTopology((s) => s.selectedChannel);
  const selectedNode = useTopology((s) => s.selectedNode);
  const selectedEdge = useTopology((s) => s.selectedEdge);
  const error = useTopology((s) => s.error);
  const dialog = useTopology((s) => s.dialog);
  const placements = useTopology((s) => s.placements);
  useEffect(() => startTopologyPolling(), []);
  useEffect(() => startPeriodic(periodicEdges), []);
  useEffect(() => startHealth(), []);
  // The canvas holds its nodes: a drag moves one node's object only; the store learns the
  // position when the drag ends. Refreshes merge in, keeping what did not change.
  const [nodes, setNodes] = useState<Node<NodeData>[]>([]);
  const [edges, setEdges] = useState<Edge<EdgeData>[]>([]);
  // The placements the drawn nodes stand at: it changes in the same commit as the nodes, so a
  // fit for new placements frames the nodes where they now are (not where they were while the
  // transition below was still rendering).
  const [placed, setPlaced] = useState(placements);
  // Keyed on the parts of the view drawn: an answer that changed none of them (see `shareView`)
  // builds nothing.
  const [viewNodes, viewEdges, viewFlows] = [view?.nodes, view?.edges, view?.flows];
  useEffect(() => {
    if (!viewNodes || !viewEdges || !viewFlows) return;
    const next = toFlow({ nodes: viewNodes, edges: viewEdges, flows: viewFlows }, positions, rates, { channel: selectedChannel, node: selectedNode, edge: selectedEdge });
    // Drawn as a transition (a poll's answer, a selection): at a fleet's scale React renders the
    // changes in slices between frames, so a drag (an urgent update, laid on top) or a pan keeps
    // its frames.
    startTransition(() => {
      setNodes((prev) => mergeNodes(prev, next.nodes));
      setEdges((prev) => mergeEdges(prev, next.edges));
      setPlaced(placements);
    });
  }, [viewNodes, viewEdges, viewFlows, positions, placements, rates, selectedChannel, selectedNode, selectedEdge]);
  const placedAt = useMemo(() => new Map((viewNodes ?? []).map((n) => [n.id, positions[n.name] ?? { x: 0, y: 0 }])), [viewNodes, positions]);
  const canvas = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  useLayoutEffect(() => {
    const el = canvas.current;
    if (!el) return;
    // Sized now, so that the canvas is drawn in the click's own frame: the layout this reading
    // forces is the one that frame needs anyway, and waiting for the observer's first report
    // cost a frame and a paint of the page without the canvas (measured: 298 → 278 ms median
    // to open 100 nodes). The observer follows later changes.
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) setSize({ width: r.width, height: r.height });
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      setSize((s) => (s && s.width === width && s.height === height ? s : { width, height }));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (dialog || useVerify.getState().dialog) return;
    const s = useTopology.getState();
    if ((e.key === "Delete" || e.key === "Backspace") && s.selectedEdge && s.view) {
      const edge = s.view.edges.find((x) => x.id === s.selectedEdge);
      if (edge) openUnlink(edge);
    } else if (e.key === "Escape") {
      s.selectNode(null);
      s.selectEdge(null);
      s.selectChannel(null);
    }
  };
  // Drawn once positions and the canvas's size are known. The provider is created fitted: its
  // first render is at the zoom it keeps, so nothing is drawn at zoom 1 and drawn again (nodes
  // and edges pick their detail from the zoom).
  const ready = positionsLoaded && view && nodes.length > 0 && size;
  // The viewport the provider starts at, kept by ReactFlow (which otherwise starts at zoom 1).
  const initial = useMemo(
    () => (ready ? getViewportForBounds(getNodesBounds(nodes), size.width, size.height, MIN_ZOOM, FIT_MAX_ZOOM, FIT_PADDING) : null),
    // Only the first fit matters: later ones go through fitView.
    [!!ready],
  );
  return (
    <div className="topo-page" onKeyDown={onKeyDown} tabIndex={-1}>
      <div className="topo-canvas" data-testid="topo-canvas" ref={canvas}>
        {error && <div className="error-panel" role="alert">{describeError(error)}</div>}
        {!view && !error && <p className="pad muted">Asking every instance for its links…</p>}
        {view && view.nodes.length === 0 && <p className="pad muted">No instances yet: add a local cluster or a remote instance in the sidebar.</p>}
        {ready && initial && (
          <ReactFlowProvider initialNodes={nodes} initialWidth={size.width} initialHeight={size.height} fitView
            initialFitViewOptions={FIT} initialMinZoom={MIN_ZOOM} initialMaxZoom={FIT_MAX_ZOOM}>
            <Flow nodes={nodes} edges={edges} placedAt={placedAt} placements={placed} setNodes={setNodes} initial={initial} />
          </ReactFlowProvider>
        )}
      </div>
      {/* Always there, so the canvas never changes width under a fitted view. */}
      {view ? <Panel view={view} /> : <aside className="topo-panel" />}
      {view && dialog?.kind === "link" && <LinkDialog key={`${dialog.seed.a}-${dialog.seed.b}`} view={view} />}
      {view && dialog?.kind === "unlink" && <UnlinkDialog view={view} />}
      <VerifyDialog />
      <FactoryReview />
    </div>
  );
}

/** Each edge's instances and channels now, for the periodic verification. */
function periodicEdges(): Record<string, { instances: string[]; channels: string[] }> {
  const view = useTopology.getState().view;
  return Object.fromEntries((view?.edges ?? []).map((e) => [e.id, { instances: [e.source, e.target], channels: edgeChannels(e) }]));
}

export function TopologyView() {
  return <Canvas />;
}
