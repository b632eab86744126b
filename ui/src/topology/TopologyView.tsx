//! The Cluster view: every instance a node, every data flow an edge (one per direction), live
//! about once a second; drag from one node to another to link them, select an edge to change
//! or remove its link, pick a channel to see where its data goes.
import { FactoryPanel, FactoryReview } from "../factory/FactoryPanel";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from "react";
import {
  Background,
  BaseEdge,
  ConnectionMode,
  Controls,
  EdgeLabelRenderer,
  Handle,
  applyNodeChanges,
  MiniMap,
  Position as Side,
  ReactFlow,
  ReactFlowProvider,
  useInternalNode,
  useReactFlow,
  getNodesBounds,
  getViewportForBounds,
  useStore,
  useStoreApi,
  useUpdateNodeInternals,
  useConnection,
  type Connection,
  type FinalConnectionState,
  type Edge,
  type EdgeChange,
  type EdgeProps,
  type Node,
  type NodeChange,
  type NodeProps,
  type Viewport,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { TopoEdge, TopoNode, TopologyView as View } from "../platform";
import { useBrowse } from "../stores/browse";
import { switchLocal } from "../stores/instances";
import { describeError, toastError, useUi } from "../stores/ui";
import { NODE_HEIGHT, NODE_KIND_LABEL, NODE_WIDTH, PAIR_GAP, WARNING_ABOUT, along, edgeBacklog, floatingEdge, labelLine, seed, short, type Point } from "./model";
import { edgeChannels, edgeLook, farEdges, mergeEdges, mergeNodes, nearestSegment, toFlow, withPlacedLabels, type EdgeData, type NodeData } from "./flow";
import { LinkDialog, UnlinkDialog } from "./LinkDialog";
import { startCompare } from "../tail/store";
import { savePositionsSoon, startTopologyPolling, useTopology } from "./store";
import { count } from "../text/count";
import { ChannelVerify, EdgeVerify, lastWords } from "../verify/EdgeVerify";
import { VerifyDialog } from "../verify/VerifyDialog";
import { startPeriodic, useVerify } from "../verify/store";
import { useZone } from "../text/time";

/** Below this zoom labels cannot be read: edges drop them and nodes show their name only. */
const DETAIL_ZOOM = 0.5;
const MIN_ZOOM = 0.1;
const FIT_MAX_ZOOM = 1.25;
/** Keeps the outer handles clear of the border, where dragging a link auto-pans the view. */
const FIT_PADDING = 0.15;
const FIT = { padding: FIT_PADDING, minZoom: MIN_ZOOM, maxZoom: FIT_MAX_ZOOM };
const zoomedOut = (s: { transform: [number, number, number] }) => s.transform[2] < DETAIL_ZOOM;

const InstanceNode = memo(function InstanceNode({ id, data, selected }: NodeProps<Node<NodeData>>) {
  const n = data.node;
  const state = n.kind === "ghost" ? "ghost" : n.online ? (n.error ? "warn" : "online") : "offline";
  const far = useStore(zoomedOut);
  // While a link is dragged from another node, this whole card takes the drop (it shows so
  // under the pointer); only a change of that answer re-renders the card.
  const accepts = useConnection((c) => c.inProgress && c.fromNode.id !== id);
  if (far) {
    // Zoomed out, a node is its name. No handles: at that zoom they are a few pixels wide, too
    // small to drag a link from, and 200 of them were a good part of what opening 100 nodes
    // costs (each subscribes to the canvas's store). Links are drawn zoomed in.
    return (
      <div className={`topo-node far ${state}${selected ? " selected" : ""}${data.dim ? " dim" : ""}${data.reached ? " reached" : ""}`}
        data-testid={`topo-node-${n.name}`} style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
        <div className="topo-node-head"><b>{n.name}</b></div>
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
      {n.error && <div className="small error-text topo-node-error" title={n.error}>{n.error}</div>}
      <Handle type="source" position={Side.Right} />
    </div>
  );
});

/** An edge drawn by xyflow: only when zoomed in (zoomed out, `FarEdges` draws them all). */
const FlowEdge = memo(function FlowEdge(props: EdgeProps<Edge<EdgeData>>) {
  const { source, target, data, markerEnd, selected } = props;
  // Floating: from border to border on the line between the two nodes, whichever side each
  // lies on (a handle-to-handle curve loops around the nodes when the target lies left).
  const a = useInternalNode(source)?.internals.positionAbsolute;
  const b = useInternalNode(target)?.internals.positionAbsolute;
  const verified = useVerify((s) => (data ? s.last[data.edge.id] : undefined));
  const zone = useZone((z) => z.zone);
  if (!data || !a || !b) return null;
  const line = floatingEdge(a, b, data.paired ? PAIR_GAP : 0);
  const path = `M ${line.from.x},${line.from.y} L ${line.to.x},${line.to.y}`;
  // On its own line (or beside it, on its side), clear of the other labels and of the nodes
  // (`placeLabels`); its arrow points the way the data flows along that line.
  const { x: labelX, y: labelY } = along(data.labelBeside ? labelLine(a, b, true, true) : line, data.labelAt);
  const angle = Math.atan2(line.to.y - line.from.y, line.to.x - line.from.x);
  const e = data.edge;
  const look = edgeLook(data, !!selected);
  const backlog = edgeBacklog(e);
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
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-testid={`topo-edge-${data.sourceName}-${data.targetName}`}
            onClick={() => useTopology.getState().selectEdge(e.id)}
            title={whole}>
            <div className="chans">{arrow}{e.mesh && <span className="badge" title="HarperDB's default: every table of these databases, both ways">full mesh</span>}{channels.join(", ")}{e.cycle ? " ↻" : ""}</div>
            <div className="stats">
              {data.rate === null ? <span className="muted" title="HarperDB reports no counts per link">rate n/a</span> : <span data-testid="topo-edge-rate">{short(data.rate)}/s</span>}
              {backlog > 0 && <span> · lag {short(backlog)}</span>}
              {e.state !== "open" && <span> · {e.state}</span>}
              {verified && <span className={`verified ${verified.verdict}`} data-testid="topo-edge-verified"> · {lastWords(verified, zone)}</span>}
            </div>
          </div>
        )}
      </EdgeLabelRenderer>
    </>
  );
});

const nodeTypes = { instance: InstanceNode };
const edgeTypes = { flow: FlowEdge };

/** Memoised: a drag re-renders the canvas every frame, never the panel. */
const Panel = memo(function Panel({ view }: { view: View }) {
  const { selectedNode, selectedEdge, selectedChannel, rates } = useTopology();
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
            <thead><tr><th>channel</th><th>at</th><th>/s</th><th>lag</th></tr></thead>
            <tbody>
              {edge.channels.map((c) => (
                <tr key={`${c.channel}|${c.dialer}`} className={c.error ? "error-text" : ""} title={c.error ?? ""}>
                  <td>{c.channel}</td>
                  <td>{c.position ?? "–"}</td>
                  <td>{short(rates[`${edge.id}|${c.channel}|${c.dialer}`] ?? 0)}</td>
                  <td>{c.backlog ?? "–"}</td>
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
          <EdgeVerify view={view} edge={edge} />
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
      <section>
        <h3>Warnings {view.warnings.length > 0 && <span className="badge">{view.warnings.length}</span>}</h3>
        {view.warnings.length === 0 && <p className="small muted">None.</p>}
        <ul className="topo-warnings" data-testid="topo-warnings">
          {view.warnings.map((w, i) => <li key={i} className={`small w-${w.kind}`} title={WARNING_ABOUT[w.kind]}>{w.message}</li>)}
        </ul>
      </section>
    </aside>
  );
});

/** Linking without a drag: pick the other node, then the link dialog as a drop would open it. */
function LinkTo({ view, from }: { view: View; from: TopoNode }) {
  const others = view.nodes.filter((n) => n.id !== from.id && n.kind !== "ghost");
  const [to, setTo] = useState("");
  const target = others.find((n) => n.id === to) ?? others[0];
  if (!target) return null;
  return (
    <div className="row">
      <select value={target.id} onChange={(e) => setTo(e.target.value)} aria-label={`Node to link ${from.name} to`} data-testid="topo-link-to-target">
        {others.map((n) => <option key={n.id} value={n.id}>{n.name}</option>)}
      </select>
      <button onClick={() => openLink(view, from.id, target.id)} data-testid="topo-link-to">Link to…</button>
    </div>
  );
}

function openLink(view: View, a: string, b: string) {
  useTopology.getState().setDialog({ kind: "link", seed: seed(view, a, b), plan: null, report: null, busy: false, error: null });
}

function openUnlink(edge: TopoEdge) {
  const c = edge.channels[0];
  if (!c) return;
  useTopology.getState().setDialog({ kind: "unlink", dialer: c.dialer, linkName: c.linkName, plan: null, report: null, busy: false, error: null });
}

/**
 * Zoomed out, every edge drawn at once: one path per look (state, failing, dim, selected) in
 * flow coordinates under the nodes. A click on the pane selects the edge under it.
 */
const FarEdges = memo(function FarEdges({ paths }: { paths: { look: string; d: string }[] }) {
  const [x, y, k] = useStore((s) => s.transform);
  return (
    <svg className="topo-far-edges" data-testid="topo-far-edges" aria-hidden>
      <g transform={`translate(${x},${y}) scale(${k})`}>
        {paths.map((p) => <path key={p.look} className={`topo-edge-path far ${p.look}`} d={p.d} />)}
      </g>
    </svg>
  );
});

const NO_EDGES: Edge<EdgeData>[] = [];

interface FlowProps {
  nodes: Node<NodeData>[];
  edges: Edge<EdgeData>[];
  /** Where each node is stored (by id): where its edges' labels are placed from. */
  placedAt: Map<string, Point>;
  setNodes: (f: (prev: Node<NodeData>[]) => Node<NodeData>[]) => void;
  initial: Viewport;
}

/** The canvas itself, inside a provider created already fitted (see `Canvas`). */
function Flow({ nodes, edges, placedAt, setNodes, initial }: FlowProps) {
  const far = useStore(zoomedOut);
  const { fitView, screenToFlowPosition } = useReactFlow();
  const store = useStoreApi();
  // Zoomed out, xyflow draws no edge: the far layer does (an edge component each for 300 edges
  // is most of the time the view takes to open).
  const farLayer = useMemo(() => (far ? farEdges(nodes, edges) : null), [far, nodes, edges]);
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
  const placements = useTopology((s) => s.placements);
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
    const hit = farLayer ? nearestSegment(screenToFlowPosition({ x: e.clientX, y: e.clientY }), farLayer.segments, FAR_HIT_PX / store.getState().transform[2]) : null;
    s.selectNode(null);
    s.selectEdge(hit);
  }, [farLayer, screenToFlowPosition, store]);
  return (
    <ReactFlow nodes={nodes} defaultViewport={initial} edges={shown} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
      onNodesChange={onNodesChange} onNodeDragStop={onNodeDragStop} onEdgesChange={onEdgesChange} onConnect={onConnect} onConnectEnd={onConnectEnd} connectionMode={ConnectionMode.Loose}
      onEdgeClick={onEdgeClick} onPaneClick={onPaneClick}
      deleteKeyCode={null} selectNodesOnDrag={false} onlyRenderVisibleElements minZoom={MIN_ZOOM} maxZoom={2} proOptions={{ hideAttribution: true }}>
      <Background />
      {farLayer && <FarEdges paths={farLayer.paths} />}
      <MiniMap pannable zoomable nodeColor={(n) => ((n.data as NodeData).node.online ? "#6f9be8" : "#c9777a")} nodeStrokeWidth={2} />
      <Controls />
    </ReactFlow>
  );
}

const onEdgeClick = (_: unknown, e: Edge<EdgeData>) => useTopology.getState().selectEdge(e.id);

/** A click within this many screen pixels of a zoomed-out edge selects it. */
const FAR_HIT_PX = 6;

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
  useEffect(() => startTopologyPolling(), []);
  useEffect(() => startPeriodic(periodicEdges), []);
  // The canvas holds its nodes: a drag moves one node's object only; the store learns the
  // position when the drag ends. Refreshes merge in, keeping what did not change.
  const [nodes, setNodes] = useState<Node<NodeData>[]>([]);
  const [edges, setEdges] = useState<Edge<EdgeData>[]>([]);
  useEffect(() => {
    if (!view) return;
    const next = toFlow(view, positions, rates, { channel: selectedChannel, node: selectedNode, edge: selectedEdge });
    setNodes((prev) => mergeNodes(prev, next.nodes));
    setEdges((prev) => mergeEdges(prev, next.edges));
  }, [view, positions, rates, selectedChannel, selectedNode, selectedEdge]);
  const placedAt = useMemo(() => new Map((view?.nodes ?? []).map((n) => [n.id, positions[n.name] ?? { x: 0, y: 0 }])), [view, positions]);
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
            <Flow nodes={nodes} edges={edges} placedAt={placedAt} setNodes={setNodes} initial={initial} />
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
