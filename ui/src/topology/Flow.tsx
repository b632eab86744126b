//! The canvas itself (xyflow), inside a provider created already fitted.
import { useCallback, useEffect, useMemo, useRef, type MouseEvent as ReactMouseEvent } from "react";
import { Background, ConnectionMode, Controls, applyNodeChanges, MiniMap, ReactFlow, useReactFlow, useStore, useStoreApi, useUpdateNodeInternals, type Connection, type FinalConnectionState, type Edge, type EdgeChange, type Node, type NodeChange, type Viewport } from "@xyflow/react";
import { type Point } from "./model";
import { draggingKey, drawnAlikeFar, farEdges, nearestSegment, splitByMoving, withPlacedLabels, type EdgeData, type NodeData } from "./flow";
import { openLink, savePositionsSoon, useTopology } from "./store";
import { FAR_HIT_PX, FIT_MAX_ZOOM, FIT_PADDING, MIN_ZOOM, zoomedOut } from "./viewport";
import { InstanceNode } from "./InstanceNode";
import { FlowEdge } from "./FlowEdge";
import { FarEdges } from "./FarEdges";

const NO_EDGES: Edge<EdgeData>[] = [];
const NO_PATHS: { look: string; d: string }[] = [];

interface FlowProps {
  nodes: Node<NodeData>[];
  edges: Edge<EdgeData>[];
  /** Where each node is stored (by id): where its edges' labels are placed from. */
  placedAt: Map<string, Point>;
  /** How many times the studio has placed the nodes (see the store's `placements`), as of the
   *  nodes given: a new count frames them. */
  placements: number;
  setNodes: (f: (prev: Node<NodeData>[]) => Node<NodeData>[]) => void;
  initial: Viewport;
}

/** The canvas itself, inside a provider created already fitted (see `Canvas`). */
export function Flow({ nodes, edges, placedAt, placements, setNodes, initial }: FlowProps) {
  const far = useStore(zoomedOut);
  const { fitView, screenToFlowPosition } = useReactFlow();
  const store = useStoreApi();
  // Zoomed out, xyflow draws no edge: the far layer does (an edge component each for 300 edges
  // is most of the time the view takes to open). While nodes are dragged it is two layers: the
  // edges of the dragged nodes, laid out again each frame, and the rest, laid out once when the
  // drag starts (only dragged nodes move during a drag), so that a frame neither rebuilds nor
  // repaints 3,000 edges to move a handful.
  const moving = draggingKey(nodes);
  // The edges as the far layer last drew them, while it would draw the new ones alike (a poll
  // that moved rates, not lines, lays out nothing again).
  const farDrawn = useRef(edges);
  if (farDrawn.current !== edges && !drawnAlikeFar(farDrawn.current, edges)) farDrawn.current = edges;
  const farInput = farDrawn.current;
  const split = useMemo(() => splitByMoving(farInput, new Set(moving ? moving.split("\n") : [])), [farInput, moving]);
  // Keyed on the drag itself while there is one, on the nodes otherwise.
  const stillKey = moving || nodes;
  const stillLayer = useMemo(() => (far ? farEdges(nodes, split.still) : null), [far, split.still, stillKey]);
  const movingLayer = useMemo(() => (far && split.moving.length > 0 ? farEdges(nodes, split.moving) : null), [far, nodes, split.moving]);
  // Zoomed in, labels are drawn: each is placed clear of the others and of the nodes.
  const shown = useMemo(() => (far ? NO_EDGES : withPlacedLabels(edges, placedAt)), [far, edges, placedAt]);
  // Zooming in gives the nodes their handles: xyflow learns where they are (measured zoomed out,
  // a node had none, and its edges would have nowhere to start).
  const updateNodeInternals = useUpdateNodeInternals();
  const wasFar = useRef(far);
  useEffect(() => {
    if (wasFar.current && !far) updateNodeInternals(nodes.map((n) => n.id));
    wasFar.current = far;
  }, [far, nodes, updateNodeInternals]);
  // A node that comes or goes (an instance registered, a ghost), or nodes the studio placed (the
  // factory's layout after Apply), are framed with the rest.
  const nodeSet = nodes.map((n) => n.id).join(" ");
  const framed = useRef(`${nodeSet}|${placements}`);
  useEffect(() => {
    const now = `${nodeSet}|${placements}`;
    if (framed.current === now) return;
    framed.current = now;
    // Two frames: the canvas takes the new positions in its own effect first.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => void fitView({ maxZoom: FIT_MAX_ZOOM, padding: FIT_PADDING }));
    });
    return () => cancelAnimationFrame(frame);
  }, [nodeSet, placements, fitView]);
  const onNodesChange = useCallback((changes: NodeChange<Node<NodeData>>[]) => {
    const s = useTopology.getState();
    setNodes((nds) => applyNodeChanges(changes, nds));
    for (const c of changes) if (c.type === "select" && c.selected) s.selectNode(c.id);
  }, [setNodes]);
  const onNodeDragStop = useCallback((_: unknown, node: Node<NodeData>) => {
    // Stored exactly where the canvas has it: the refresh that follows then finds every node as
    // it is and re-renders nothing (positions are rounded when saved).
    useTopology.getState().moved(node.data.node.name, { x: node.position.x, y: node.position.y });
    savePositionsSoon();
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<Edge<EdgeData>>[]) => {
    for (const c of changes) if (c.type === "select" && c.selected) useTopology.getState().selectEdge(c.id);
  }, []);
  const onConnect = useCallback((c: Connection) => {
    const v = useTopology.getState().view;
    if (v && c.source && c.target && c.source !== c.target) openLink(v, c.source, c.target);
  }, []);
  // A link let go anywhere on another node's card (not only on its small handle) connects to it.
  const onConnectEnd = useCallback((event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== null || !state.fromNode) return; // a handle took it, or refused it
    const at = "changedTouches" in event ? event.changedTouches[0] : event;
    // Every element under the pointer: an edge's label may lie over the card.
    const dropped = document.elementsFromPoint(at.clientX, at.clientY).map((e) => e.closest<HTMLElement>(".react-flow__node")).find((e) => e)?.dataset.id;
    if (!dropped || dropped === state.fromNode.id) return;
    const from = state.fromNode.id;
    const [source, target] = state.fromHandle?.type === "target" ? [dropped, from] : [from, dropped];
    onConnect({ source, target, sourceHandle: null, targetHandle: null });
  }, [onConnect]);
  const onPaneClick = useCallback((e: ReactMouseEvent) => {
    const s = useTopology.getState();
    const segments = stillLayer ? [...stillLayer.segments, ...(movingLayer?.segments ?? [])] : [];
    const hit = stillLayer ? nearestSegment(screenToFlowPosition({ x: e.clientX, y: e.clientY }), segments, FAR_HIT_PX / store.getState().transform[2]) : null;
    s.selectNode(null);
    s.selectEdge(hit);
  }, [stillLayer, movingLayer, screenToFlowPosition, store]);
  return (
    <ReactFlow nodes={nodes} defaultViewport={initial} edges={shown} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
      onNodesChange={onNodesChange} onNodeDragStop={onNodeDragStop} onEdgesChange={onEdgesChange} onConnect={onConnect} onConnectEnd={onConnectEnd} connectionMode={ConnectionMode.Loose}
      onEdgeClick={onEdgeClick} onPaneClick={onPaneClick}
      deleteKeyCode={null} selectNodesOnDrag={false} onlyRenderVisibleElements minZoom={MIN_ZOOM} maxZoom={2} proOptions={PRO_OPTIONS}>
      <Background />
      {stillLayer && <FarEdges still={stillLayer.paths} moving={movingLayer?.paths ?? NO_PATHS} />}
      <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={2} />
      <Controls />
    </ReactFlow>
  );
}

/** Not made anew each render: the minimap redraws every one of its nodes when its colour
 * function changes (at 1,000 nodes, in every frame of a drag). */
const minimapColor = (n: Node) => ((n.data as NodeData).node.online ? "#6f9be8" : "#c9777a");
const PRO_OPTIONS = { hideAttribution: true };

const onEdgeClick = (_: unknown, e: Edge<EdgeData>) => useTopology.getState().selectEdge(e.id);

const nodeTypes = { instance: InstanceNode };
const edgeTypes = { flow: FlowEdge };
