//! The factory scenario in the Cluster view: set it up (the links' plans shown first), run the
//! load at a chosen rate, take edge-1 offline and back, check what reached hq, remove it all.
import { useEffect, useRef, useState } from "react";
import { CLUSTER_NODES, native, type TopologyView } from "../platform";
import { Modal } from "../components/Modal";
import { PlanView } from "../topology/LinkDialog";
import { refreshTopology } from "../topology/store";
import { describeError, toastError, useUi } from "../stores/ui";
import { switchLocal, useInstances } from "../stores/instances";
import { count, grouped } from "../text/count";
import { applyLinks, cancelLinks, checkArrival, DEFAULT_EXPIRATION_S, DEFAULT_RATE, perSecond, refreshStats, removeScenario, setUp, startLoad, stopLoad, useFactory } from "./store";

/** Asks before reusing instances of the scenario's names, then sets it up (raw readings expiring
 * after `expirationS`). */
export async function startScenario(existing: string[], expirationS = DEFAULT_EXPIRATION_S): Promise<void> {
  const reused = CLUSTER_NODES.filter((n) => existing.includes(n));
  if (reused.length) {
    const ok = await useUi.getState().ask({
      title: "Reuse the instances already named so?",
      body: `${reused.join(", ")} ${reused.length === 1 ? "exists" : "exist"}: the scenario adds its factory tables and links to ${reused.length === 1 ? "it" : "them"} instead of making new ones.`,
      confirmLabel: "Reuse",
      danger: false,
    });
    if (!ok) return;
  }
  await setUp(expirationS);
  await refreshTopology();
  await useInstances.getState().refresh();
}

export function FactoryReview() {
  const f = useFactory();
  if (f.phase !== "review" && f.phase !== "applying") return null;
  return (
    <Modal title="Factory scenario: the links to make" onClose={() => void cancelLinks()} testId="factory-review" wide>
      <p>edge-1 and edge-2 send their out-of-range readings (<code>factory:sensor_data</code>) to hq, and hq sends its configuration (<code>factory:config</code>) back, through these requests:</p>
      {f.plans.map((p) => <PlanView key={p.id} plan={p} />)}
      {f.reports.filter((r) => !r.ok).map((r, i) => (
        <div key={i} className="error-panel" role="alert">{r.steps.filter((s) => !s.ok).map((s) => `${s.instanceName} ${s.operation}: ${s.message}`).join("; ")}</div>
      ))}
      {f.error && <div className="error-panel" role="alert">{describeError(f.error)}</div>}
      <div className="modal-actions">
        {f.phase === "applying" && <span className="muted" role="status"><span className="spinner" aria-hidden="true" /> Linking…</span>}
        <div className="spacer" />
        <button type="button" onClick={() => void cancelLinks()} disabled={f.phase === "applying"}>Cancel</button>
        <button type="button" className="primary" onClick={() => void applyLinks()} disabled={f.phase === "applying" || !f.plans.length} data-testid="factory-apply">Apply</button>
      </div>
    </Modal>
  );
}

/** A network outage on purpose: edge-1 keeps running and writing, its link to hq carries
 * nothing until restored (the canvas shows the backlog and lag growing, then draining). */
function CutLink({ view }: { view: TopologyView }) {
  const id = (name: string) => view.nodes.find((n) => n.name === name)?.id;
  const link = view.edges.find((e) => e.source === id(CLUSTER_NODES[0]) && e.target === id(CLUSTER_NODES[2]));
  if (!link) return null;
  const cut = (yes: boolean) => native.factory_cut_link(CLUSTER_NODES[0], yes).then(refreshTopology, toastError);
  return link.state === "paused"
    ? <button onClick={() => void cut(false)} data-testid="factory-restore-link">Restore edge-1's link</button>
    : <button onClick={() => void cut(true)} data-testid="factory-cut-link" title="edge-1 keeps running and writing; its link to hq carries nothing">Cut edge-1's link</button>;
}

export function FactoryPanel({ view }: { view: TopologyView }) {
  const f = useFactory();
  const [rate, setRate] = useState(String(DEFAULT_RATE));
  const [expiration, setExpiration] = useState(String(DEFAULT_EXPIRATION_S / 60));
  const edge1 = view.nodes.find((n) => n.name === CLUSTER_NODES[0] && n.kind === "local");
  const present = CLUSTER_NODES.every((n) => view.nodes.some((v) => v.name === n && v.kind === "local"));
  const running = !!f.stats?.running;
  // Totals a second apart give the rate actually written.
  const last = useRef<{ at: number; written: number } | null>(null);
  const [written, setWritten] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => void refreshStats(), 1000);
    return () => clearInterval(t);
  }, [running]);
  useEffect(() => {
    const total = (f.stats?.edges ?? []).reduce((a, e) => a + e.written, 0);
    const now = performance.now();
    if (last.current) setWritten(perSecond(last.current.written, total, (now - last.current.at) / 1000));
    last.current = { at: now, written: total };
  }, [f.stats]);

  const toggleEdge1 = async () => {
    if (edge1) await switchLocal(edge1.id, !edge1.online, toastError);
  };
  const remove = async () => {
    const ok = await useUi.getState().ask({
      title: "Remove the factory scenario?",
      body: "The load stops, and the local instances edge-1, edge-2 and hq are deleted with their data, tables and links.",
      confirmLabel: "Remove",
      danger: true,
    });
    if (!ok) return;
    const removed = await removeScenario();
    await Promise.all([refreshTopology(), useInstances.getState().refresh()]);
    if (removed.length) useUi.getState().toast(`Removed ${removed.join(", ")}`);
  };

  return (
    <section className="factory" data-testid="factory-panel">
      <h3>Factory scenario</h3>
      {!present && (
        <>
          <p className="small muted">Two edge nodes write sensor readings; hq receives the out-of-range ones and sends configuration back.</p>
          <label className="small">Raw readings expire after{" "}
            <input type="number" min={1} max={43200} value={expiration} onChange={(e) => setExpiration(e.target.value)} style={{ width: 64 }} data-testid="factory-expiration" /> min
          </label>
          <button className="primary" disabled={f.phase === "setting-up" || !(Number(expiration) >= 1)} onClick={() => void startScenario(view.nodes.map((n) => n.name), Number(expiration) * 60).catch(toastError)} data-testid="factory-start">
            {f.phase === "setting-up" ? "Starting edge-1, edge-2 and hq…" : "Set up the factory scenario…"}
          </button>
        </>
      )}
      {present && (
        <>
          <div className="row">
            <label className="small">Readings/s per edge{" "}
              <input type="number" min={1} max={50000} value={rate} onChange={(e) => setRate(e.target.value)} style={{ width: 80 }} data-testid="factory-rate" />
            </label>
            {running
              ? <button onClick={() => void stopLoad()} disabled={f.busy} data-testid="factory-load-stop">Stop load</button>
              : <button className="primary" onClick={() => void startLoad(Number(rate))} disabled={f.busy || !(Number(rate) >= 1)} data-testid="factory-load-start">Start load</button>}
          </div>
          {f.stats && f.stats.edges.length > 0 && (
            <table className="small" data-testid="factory-stats">
              <thead><tr><th>edge</th><th>written</th><th title="out of range: also written to factory.sensor_data">hot</th><th title="batches the edge refused or did not answer">failed</th></tr></thead>
              <tbody>
                {f.stats.edges.map((e) => (
                  <tr key={e.edge} className={e.lastError ? "error-text" : ""} title={e.lastError ?? ""}>
                    <td>{e.edge}</td><td>{grouped(e.written)}</td><td>{grouped(e.outOfRange)}</td><td>{grouped(e.failedBatches)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {running && <p className="small muted" data-testid="factory-rate-now">{grouped(Math.round(written))} readings/s written, {f.stats ? grouped(f.stats.rate) : ""}/s per edge asked</p>}
          <div className="row">
            {edge1 && (
              <button onClick={() => void toggleEdge1()} data-testid={edge1.online ? "factory-offline" : "factory-online"}>
                {edge1.online ? "Take edge-1 offline" : "Bring edge-1 back"}
              </button>
            )}
            {edge1?.online && <CutLink view={view} />}
            <button onClick={() => void checkArrival()} disabled={f.busy || !f.stats?.edges.length} data-testid="factory-check">Check hq</button>
          </div>
          {f.arrival && (
            <p className={f.arrival.missing.length ? "error-text" : "ok-text"} data-testid="factory-summary" title={f.arrival.missing.join("\n")}>{f.arrival.summary}</p>
          )}
          <button className="danger" onClick={() => void remove()} disabled={f.busy} data-testid="factory-remove">Remove scenario…</button>
        </>
      )}
      {f.error && <div className="error-panel small" role="alert">{describeError(f.error)}</div>}
      {f.phase === "ready" && f.reports.length > 0 && <p className="small ok-text">Linked: {count(f.reports.length, "link")} made.</p>}
    </section>
  );
}
