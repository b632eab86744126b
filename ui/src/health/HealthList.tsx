//! The Health list: alerts going on and those that ended (when each started and ended, how bad
//! it got), and the default thresholds for every link.
import type { Alert } from "../platform";
import { toastError } from "../stores/ui";
import { useZone, clock } from "../text/time";
import { ThresholdsForm } from "./EdgeHealth";
import { lagText } from "./model";
import { setThresholds, useHealth } from "./store";
import { useTopology } from "../topology/store";

function words(a: Alert): string {
  return a.kind === "lag" ? `behind by up to ${lagText(a.worstSeconds * 1000)} (over ${a.thresholdSeconds} s)` : `down for ${lagText(a.worstSeconds * 1000)} (over ${a.thresholdSeconds} s)`;
}

export function HealthList() {
  const state = useHealth((s) => s.state);
  const zone = useZone((z) => z.zone);
  if (!state) return null;
  const active = state.alerts.filter((a) => a.ended === undefined).length;
  const shown = state.alerts.slice(0, 50);
  return (
    <section>
      <h3>Health {active > 0 && <span className="badge alert" data-testid="health-active">{active}</span>}</h3>
      <ul className="health-list" data-testid="health-list">
        {state.alerts.length === 0 && <li className="small muted">No alerts.</li>}
        {shown.map((a) => (
          <li key={`${a.edge}-${a.kind}-${a.started}`} className={`small ${a.ended === undefined ? "alert-text" : "muted"}`}
            data-testid={`health-alert-${a.sourceName}-${a.targetName}`} data-active={a.ended === undefined} data-kind={a.kind}>
            <button className="link" onClick={() => useTopology.getState().selectEdge(a.edge)}>{a.sourceName} → {a.targetName}</button>{" "}
            {words(a)} · since {clock(a.started, zone).slice(0, 8)}{a.ended !== undefined ? `, ended ${clock(a.ended, zone).slice(0, 8)}` : ""}
          </li>
        ))}
        {state.alerts.length > shown.length && <li className="small muted">{state.alerts.length - shown.length} older not shown</li>}
      </ul>
      <ThresholdsForm key={`${state.rules.default.lagSeconds}-${state.rules.default.downSeconds}`} lag={state.rules.default.lagSeconds} down={state.rules.default.downSeconds}
        onSave={(lag, down) => setThresholds(null, { lagSeconds: lag, downSeconds: down }).catch(toastError)} testId="default-thresholds" />
    </section>
  );
}
