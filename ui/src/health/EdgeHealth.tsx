//! The edge panel's health: its alert thresholds (its own, or the default) and its last 24 hours.
import { useEffect, useState } from "react";
import type { TopoEdge } from "../platform";
import { toastError } from "../stores/ui";
import { HealthChart } from "./HealthChart";
import { thresholdsOf } from "./model";
import { loadHistory, setThresholds, useHealth } from "./store";

export function EdgeHealth({ edge }: { edge: TopoEdge }) {
  const rules = useHealth((s) => s.state?.rules ?? null);
  const history = useHealth((s) => (s.history?.edge === edge.id ? s.history : null));
  useEffect(() => {
    void loadHistory(edge.id);
    const timer = setInterval(() => void loadHistory(edge.id), 5000);
    return () => clearInterval(timer);
  }, [edge.id]);
  const own = rules?.perEdge[edge.id];
  const t = thresholdsOf(rules, edge.id);
  return (
    <div className="edge-health" data-testid="edge-health">
      <h4>This link's alerts</h4>
      <ThresholdsForm key={`${edge.id}-${t.lagSeconds}-${t.downSeconds}`} lag={t.lagSeconds} down={t.downSeconds}
        onSave={(lag, down) => setThresholds(edge.id, { lagSeconds: lag, downSeconds: down }).catch(toastError)} testId="edge-thresholds" />
      <p className="small muted">
        {own ? "This link's own thresholds." : "The default thresholds (set for every link under Health, below)."}
        {own && <> <button className="link" onClick={() => void setThresholds(edge.id, null).catch(toastError)}>Use the default</button></>}
      </p>
      {history && <HealthChart history={history} />}
    </div>
  );
}

/** Alert past `lag` seconds behind or `down` seconds not open (empty: not watched). */
export function ThresholdsForm({ lag, down, onSave, testId }: { lag?: number; down?: number; onSave: (lag?: number, down?: number) => void; testId: string }) {
  const [lagText, setLag] = useState(lag === undefined ? "" : String(lag));
  const [downText, setDown] = useState(down === undefined ? "" : String(down));
  const parse = (s: string) => (s.trim() === "" ? undefined : Number(s));
  const valid = [lagText, downText].every((s) => s.trim() === "" || Number(s) > 0);
  return (
    <form className="row small" data-testid={testId} onSubmit={(e) => { e.preventDefault(); if (valid) onSave(parse(lagText), parse(downText)); }}>
      <label>Alert when behind by more than <input type="number" min={0.1} step="any" value={lagText} onChange={(e) => setLag(e.target.value)} style={{ width: 60 }} data-testid={`${testId}-lag`} /> s</label>
      <label>or down for <input type="number" min={0.1} step="any" value={downText} onChange={(e) => setDown(e.target.value)} style={{ width: 60 }} data-testid={`${testId}-down`} /> s</label>
      <button type="submit" disabled={!valid} data-testid={`${testId}-save`}>Save</button>
    </form>
  );
}
