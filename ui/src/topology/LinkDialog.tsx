//! The link dialog: the channels of both sides and a typed new one, each with its direction,
//! which side dials out, and the exact requests per node (passwords masked) before Apply.
//! Also the removal of a link, with its own preview.
import { useEffect, useMemo, useRef, useState } from "react";
import type { ApplyReport, Direction, LinkChannel, LinkPlan, TopologyView, ErrorBody } from "../platform";
import { cannotFlow, type CannotFlow } from "./model";
import { Modal } from "../components/Modal";
import { describeError } from "../stores/ui";
import { count } from "../text/count";
import { channelProblem, offeredChannels, reportHeadline, shownChannels, validChannel } from "./model";
import { applyPlan, closeDialog, previewLink, previewUnlink, useTopology } from "./store";

const PREVIEW_DELAY_MS = 250;

export function PlanView({ plan }: { plan: LinkPlan }) {
  return (
    <div className="topo-plan" data-testid="topo-plan">
      <p>{plan.summary}</p>
      {plan.notes.length > 0 && (
        <div className="warn-panel" role="note" data-testid="topo-plan-notes">
          {plan.notes.map((n, i) => <p key={i}>{n}</p>)}
        </div>
      )}
      <ol>
        {plan.steps.map((s, i) => (
          <li key={i} data-testid={`topo-step-${i}`}>
            <b>{s.instanceName}</b> · <code>{s.operation}</code>
            <pre tabIndex={0} aria-label={`request ${i + 1}: ${s.operation} on ${s.instanceName}`}>{JSON.stringify(s.request, null, 2)}</pre>
          </li>
        ))}
      </ol>
    </div>
  );
}

function cannotFlowText(c: CannotFlow): string {
  return `${c.channel}: ${c.sources.join(" and ")} ${c.sources.length === 1 ? "has" : "have"} no such table, so nothing flows on it until ${c.sources.length === 1 ? "it has" : "one has"} one (the receiving side then makes its copy with the same primary key)`;
}

export function ReportView({ report, blocked }: { report: ApplyReport; blocked: CannotFlow[] }) {
  return (
    <div className="topo-report" data-testid="topo-report" role="status">
      <p className={report.ok ? "ok-text" : "error-text"} data-testid="topo-report-headline">{reportHeadline(report)}</p>
      {report.ok && blocked.length > 0 && (
        <p className="warn-panel small" data-testid="topo-report-cannot-flow">
          The link is made, but {blocked.map((c) => c.channel).join(", ")} cannot flow yet: {blocked.map(cannotFlowText).join("; ")}.
        </p>
      )}
      <ul>
        {report.steps.map((s, i) => (
          <li key={i} className={s.ok ? "" : "error-text"} data-testid={`topo-result-${i}`}>
            {s.ok ? "✓" : "✗"} <b>{s.instanceName}</b> {s.operation}: {s.message}
          </li>
        ))}
      </ul>
      {report.undone.length > 0 && (
        <>
          <p>Taken back:</p>
          <ul>
            {report.undone.map((s, i) => (
              <li key={i} className={s.ok ? "" : "error-text"}>
                {s.ok ? "↶" : "✗"} <b>{s.instanceName}</b> {s.operation}: {s.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {report.leftBehind.length > 0 && (
        <div className="error-panel" data-testid="topo-left-behind">
          Left behind, to clean up by hand:
          <ul>{report.leftBehind.map((l, i) => <li key={i}>{l}</li>)}</ul>
        </div>
      )}
    </div>
  );
}

function Footer({ busy, plan, report, error, onApply }: { busy: boolean; plan: LinkPlan | null; report: ApplyReport | null; error: ErrorBody | null; onApply: () => void }) {
  return (
    <>
      {error && <div className="error-panel" role="alert" data-testid="topo-error">{describeError(error)}</div>}
      <div className="modal-actions">
        {busy && <span className="muted" role="status"><span className="spinner" aria-hidden="true" /> Working…</span>}
        {!busy && !report && plan && <span className="muted small">Ctrl+Enter applies</span>}
        <div className="spacer" />
        <button type="button" onClick={() => void closeDialog()} data-testid="topo-cancel">{report ? "Close" : "Cancel"}</button>
        {!report && (
          <button type="button" className="primary" disabled={busy || !plan} onClick={onApply} data-testid="topo-apply">Apply</button>
        )}
      </div>
    </>
  );
}

const DIRECTIONS: { value: Direction; label: (a: string, b: string) => string }[] = [
  { value: "aToB", label: (a, b) => `${a} → ${b}` },
  { value: "bToA", label: (a, b) => `${b} → ${a}` },
  { value: "both", label: () => "both ways" },
];

export function LinkDialog({ view }: { view: TopologyView }) {
  const dialog = useTopology((s) => s.dialog);
  const d = dialog?.kind === "link" ? dialog : null;
  const name = (id: string) => view.nodes.find((n) => n.id === id)?.name ?? id;
  const [chosen, setChosen] = useState<Record<string, Direction | null>>(() =>
    Object.fromEntries((d?.seed.channels ?? []).map((c) => [c.channel, c.direction])),
  );
  const [extra, setExtra] = useState<string[]>([]);
  const [typed, setTyped] = useState("");
  const [filter, setFilter] = useState("");
  const [bDials, setBDials] = useState(d?.seed.bDials ?? false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const offered = useMemo(() => (d ? [...new Set([...offeredChannels(view, d.seed.a, d.seed.b, d.seed.channels), ...extra])].sort() : []), [view, d, extra]);
  const channels: LinkChannel[] = Object.entries(chosen)
    .filter(([, dir]) => dir !== null)
    .map(([channel, direction]) => ({ channel, direction: direction as Direction }));
  const key = JSON.stringify([channels, bDials]);

  useEffect(() => {
    if (!d || d.report) return;
    if (timer.current) clearTimeout(timer.current);
    if (channels.length === 0) {
      useTopology.getState().setDialog({ ...d, plan: null, error: null });
      return;
    }
    timer.current = setTimeout(() => void previewLink({ a: d.seed.a, b: d.seed.b, channels, bDials }), PREVIEW_DELAY_MS);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
    // The request is what `key` says; `d` changes with every preview.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  if (!d) return null;
  const [a, b] = [name(d.seed.a), name(d.seed.b)];
  const shown = shownChannels(offered, filter, (c) => !!chosen[c]);
  const harperdb = [d.seed.a, d.seed.b].some((id) => view.nodes.find((n) => n.id === id)?.serverKind === "harperdb");
  const has = (id: string, c: string) => view.nodes.find((n) => n.id === id)?.channels.includes(c) ?? false;
  const blocked = cannotFlow(channels, d.seed.a, d.seed.b, has, name);
  const where = (c: string) => [d.seed.a, d.seed.b].filter((id) => has(id, c)).map(name);
  const problem = channelProblem(typed);
  const apply = () => {
    if (!d.busy && !d.report && d.plan) void applyPlan();
  };
  const addTyped = () => {
    const c = typed.trim();
    if (!validChannel(c)) return;
    setExtra((x) => [...x, c]);
    setChosen((s) => ({ ...s, [c]: s[c] ?? "aToB" }));
    setTyped("");
  };
  return (
    <Modal title={`Link ${a} and ${b}`} onClose={() => void closeDialog()} testId="topo-dialog" wide>
      <div className="modal-keys" onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); apply(); } }}>
      {!d.report && (
        <>
          <div className="row">
            <span data-testid="topo-carried">{count(channels.length, "channel")} carried, of {offered.length} offered</span>
            <div className="spacer" />
            {offered.length > 8 && (
              <input type="search" placeholder="filter channels" aria-label="Filter channels" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="topo-filter" />
            )}
          </div>
          <table className="topo-channels">
            <thead>
              <tr><th>Channel</th><th>Carry</th><th>Direction</th><th>Table on</th></tr>
            </thead>
            <tbody>
              {shown.map((c) => (
                <tr key={c} data-testid={`topo-channel-${c}`}>
                  <td><code>{c}</code></td>
                  <td>
                    <input type="checkbox" aria-label={`carry ${c}`} checked={!!chosen[c]} onChange={(e) => setChosen((s) => ({ ...s, [c]: e.target.checked ? (s[c] ?? "aToB") : null }))} />
                  </td>
                  <td>
                    <select aria-label={`direction of ${c}`} value={chosen[c] ?? "aToB"} disabled={!chosen[c]} onChange={(e) => setChosen((s) => ({ ...s, [c]: e.target.value as Direction }))}>
                      {DIRECTIONS.map((o) => <option key={o.value} value={o.value}>{o.label(a, b)}</option>)}
                    </select>
                  </td>
                  <td className={where(c).length ? "small" : "small muted"} data-testid={`topo-where-${c}`}>{where(c).join(", ") || "neither"}</td>
                </tr>
              ))}
              {offered.length === 0 && <tr><td colSpan={4} className="muted">Neither side has a table yet: type a channel below.</td></tr>}
              {offered.length > 0 && shown.length < offered.length && (
                <tr><td colSpan={4} className="muted">{count(offered.length - shown.length, "channel")} hidden by the filter</td></tr>
              )}
            </tbody>
          </table>
          <div className="row">
            <input placeholder="new channel database:table" aria-label="New channel (database:table)" value={typed} onChange={(e) => setTyped(e.target.value)} data-testid="topo-new-channel"
              aria-invalid={!!problem} aria-describedby="topo-new-channel-problem"
              onKeyDown={(e) => { if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) { e.preventDefault(); addTyped(); } }} />
            <button type="button" onClick={addTyped} disabled={!validChannel(typed)}>Add channel</button>
          </div>
          {problem && <p className="error-text small" id="topo-new-channel-problem" data-testid="topo-channel-problem">{problem}</p>}
          <fieldset className="topo-dialer">
            <legend>Who dials out</legend>
            <label className="inline"><input type="radio" checked={!bDials} onChange={() => setBDials(false)} data-testid="topo-dialer-a" /> {a} dials {b}</label>
            <label className="inline"><input type="radio" checked={bDials} onChange={() => setBDials(true)} data-testid="topo-dialer-b" /> {b} dials {a} (when {a} cannot be reached, for example behind a firewall)</label>
          </fieldset>
          {harperdb ? (
            <p className="muted small">HarperDB links with its own add_node: the dialling node logs in once on the other with the credentials the studio holds for it, to have its certificate signed; HarperDB has no per-link user.</p>
          ) : (
            <p className="muted small">The dialled node gets a user of its own for this link, whose role grants read on what flows out of it and insert, update and delete on what flows in — nothing else.</p>
          )}
          {blocked.length > 0 && (
            <div className="warn-panel small" data-testid="topo-cannot-flow" role="alert">
              <ul>{blocked.map((c) => <li key={c.channel}>{cannotFlowText(c)}</li>)}</ul>
            </div>
          )}
          {d.plan && <PlanView plan={d.plan} />}
          {!d.plan && !d.busy && channels.length === 0 && <p className="muted">Choose at least one channel to see what will be sent.</p>}
        </>
      )}
      {d.report && <ReportView report={d.report} blocked={blocked} />}
      </div>
      <Footer busy={d.busy} plan={d.plan} report={d.report} error={d.error} onApply={apply} />
    </Modal>
  );
}

export function UnlinkDialog({ view }: { view: TopologyView }) {
  const dialog = useTopology((s) => s.dialog);
  const d = dialog?.kind === "unlink" ? dialog : null;
  const dialer = d?.dialer;
  const linkName = d?.linkName;
  useEffect(() => {
    if (dialer && linkName) void previewUnlink(dialer, linkName);
  }, [dialer, linkName]);
  if (!d) return null;
  const name = view.nodes.find((n) => n.id === d.dialer)?.name ?? d.dialer;
  return (
    <Modal title={`Remove the link from ${name} to ${d.linkName}`} onClose={() => void closeDialog()} testId="topo-unlink-dialog" wide>
      {!d.report && d.plan && <PlanView plan={d.plan} />}
      {d.report && <ReportView report={d.report} blocked={[]} />}
      <Footer busy={d.busy} plan={d.plan} report={d.report} error={d.error} onApply={() => void applyPlan()} />
    </Modal>
  );
}
