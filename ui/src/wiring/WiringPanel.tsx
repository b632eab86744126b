//! The canvas's Wiring section: export the cluster's links to a file, open a wiring file to see
//! what it would add, change and remove (every request, passwords masked), then apply it.
import { useEffect, useRef } from "react";
import { Modal } from "../components/Modal";
import { PlanView, ReportView } from "../topology/LinkDialog";
import { describeError } from "../stores/ui";
import { applyWiring, attachWiring, closeWiring, detachWiring, exportWiring, planWiring, startDriftChecks, useWiring } from "./store";

export function WiringPanel() {
  const w = useWiring();
  const file = useRef<HTMLInputElement>(null);
  useEffect(() => startDriftChecks(), []);
  const open = async (f: File | undefined) => {
    if (f) await planWiring(await f.text());
    if (file.current) file.current.value = "";
  };
  return (
    <section>
      <h3>Wiring</h3>
      <div className="row">
        <button onClick={() => void exportWiring()} disabled={w.busy} data-testid="wiring-export" title="the cluster's links as a TOML file, no passwords in it">Export wiring…</button>
      </div>
      <label className="small wiring-open">Open wiring…
        <input ref={file} type="file" accept=".toml,text/plain" onChange={(e) => void open(e.target.files?.[0])} data-testid="wiring-open" aria-label="A wiring file to plan" disabled={w.busy} />
      </label>
      {w.exported && (
        <p className="small" data-testid="wiring-exported" title={w.exported.leftOut.join("\n")}>
          Written to <code>{w.exported.path}</code>{w.exported.leftOut.length ? ` (${w.exported.leftOut.length} left out)` : ""}
        </p>
      )}
      {w.attached && (
        <div className="small" data-testid="wiring-attached">
          <p>
            A wiring file is attached: {w.drift === null ? "checking…" : w.drift.length === 0 ? "the cluster is as it says." : `${w.drift.length} difference${w.drift.length === 1 ? "" : "s"}:`}{" "}
            <button className="link" onClick={() => void detachWiring()} data-testid="wiring-detach">Detach</button>
          </p>
          {w.drift && w.drift.length > 0 && (
            <ul className="wiring-changes">
              {w.drift.map((d) => <li key={`${d.dialer}-${d.to}`} className={`change-${d.kind === "missing" ? "add" : d.kind === "extra" ? "remove" : "change"}`} data-testid={`wiring-drift-${d.dialer}-${d.to}`} data-kind={d.kind}><code>{d.words}</code></li>)}
            </ul>
          )}
        </div>
      )}
      {w.error && !w.preview && <div className="error-panel small" role="alert">{describeError(w.error)}</div>}
      {w.preview && <WiringPlanDialog />}
    </section>
  );
}

function WiringPlanDialog() {
  const w = useWiring();
  const p = w.preview;
  if (!p) return null;
  return (
    <Modal title="Wiring: what the file changes" onClose={() => void closeWiring()} testId="wiring-plan" wide>
      {p.changes.length === 0 ? (
        <p data-testid="wiring-in-sync">The cluster is wired as the file says: nothing to do.</p>
      ) : (
        <ul className="wiring-changes">
          {p.changes.map((c) => <li key={c} className={`small change-${c[0] === "+" ? "add" : c[0] === "-" ? "remove" : "change"}`}><code>{c}</code></li>)}
        </ul>
      )}
      {p.leftOut.length > 0 && <p className="small muted">Left out: {p.leftOut.join("; ")}</p>}
      {!w.reports && p.plans.map((plan) => <PlanView key={plan.id} plan={plan} />)}
      {w.reports?.map((r, i) => <ReportView key={i} report={r} blocked={[]} />)}
      {w.reports && <p className={w.reports.every((r) => r.ok) ? "ok-text" : "error-text"} data-testid="wiring-applied">{w.reports.every((r) => r.ok) ? `Applied: ${w.reports.length} link change${w.reports.length === 1 ? "" : "s"}.` : "Not all applied: see above."}</p>}
      {w.error && <div className="error-panel" role="alert">{describeError(w.error)}</div>}
      <div className="modal-actions">
        <div className="spacer" />
        {w.opened && <button type="button" onClick={() => void attachWiring()} data-testid="wiring-attach" title="the canvas then marks where the cluster differs from this file">Keep attached</button>}
        <button type="button" onClick={() => void closeWiring()}>{w.reports ? "Close" : "Cancel"}</button>
        {!w.reports && p.changes.length > 0 && (
          <button type="button" className="primary" onClick={() => void applyWiring()} disabled={w.busy} data-testid="wiring-apply">Apply</button>
        )}
      </div>
    </Modal>
  );
}
