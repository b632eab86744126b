//! Linking without a drag: pick the other node, then the link dialog opens as a drop would.
import { useState } from "react";
import type { TopoNode, TopologyView as View } from "../platform";
import { openLink } from "./store";

/** Linking without a drag: pick the other node, then the link dialog as a drop would open it. */
export function LinkTo({ view, from }: { view: View; from: TopoNode }) {
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
