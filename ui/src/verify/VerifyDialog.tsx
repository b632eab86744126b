//! The Verify dialog of an edge: in sync (with the records and watermarks it reflects), or per
//! channel the records that differ side by side per node with the winner marked; then Repair,
//! shown as a plan per node before it is applied, and verified again after.
import { memo, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Cell, ChannelReport, DiffRow, RepairPlan } from "../platform";
import { Modal } from "../components/Modal";
import { describeError } from "../stores/ui";
import { count, grouped } from "../text/count";
import { ReportView } from "../topology/LinkDialog";
import { clock, dateTime, useZone, zoneLabel, type Zone } from "../text/time";
import { applyRepair, cancelVerify, closeVerify, planRepair, useVerify, verifyAgain } from "./store";

const ROW_HEIGHT = 46;
const LIST_HEIGHT = 320;

/** A write's time: to the millisecond, in the studio's zone, named. */
function when(ms: number | undefined, zone: Zone): string {
  return ms === undefined ? "" : `${dateTime(ms, zone)} ${zoneLabel(ms, zone)}`;
}

function CellView({ cell, wins, zone }: { cell: Cell; wins: boolean; zone: Zone }) {
  // A scan (HarperDB) knows no origin: the record and its time only.
  const by = cell.origin === undefined ? "" : ` by ${cell.origin}`;
  const who = cell.state === "absent" ? "absent" : `${cell.state === "deleted" ? "deleted" : "written"}${by}`;
  const head = cell.updated === undefined ? who : `${who} · ${clock(cell.updated, zone)}`;
  const body = cell.record === undefined ? "" : JSON.stringify(cell.record);
  const version = cell.version ? `\n${when(cell.updated, zone)}, version ${cell.version}` : "";
  return (
    <div className={`verify-cell ${cell.state}${wins ? " wins" : ""}`} title={`${head}${version}${body ? `\n${JSON.stringify(cell.record, null, 2)}` : ""}`}>
      <div className="small ellipsis">{wins && <b className="ok-text" aria-label="wins">★ wins </b>}{head}</div>
      <div className="mono ellipsis">{body}</div>
    </div>
  );
}

/** The differing records of one channel, virtualized (at most 1,000 come back per channel). */
const DiffRows = memo(function DiffRows({ report }: { report: ChannelReport }) {
  const scroller = useRef<HTMLDivElement>(null);
  const zone = useZone((z) => z.zone);
  const v = useVirtualizer({ count: report.rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 8 });
  const columns = `minmax(90px, 0.7fr) ${report.nodes.map(() => "minmax(160px, 2fr)").join(" ")}`;
  return (
    <div className="verify-diff" role="table" aria-label={`records of ${report.channel} that differ`}>
      <div className="verify-row head" role="row" style={{ gridTemplateColumns: columns }}>
        <div role="columnheader">key</div>
        {report.nodes.map((n) => <div role="columnheader" key={n.id}>{n.name} ({count(n.count, "record")})</div>)}
      </div>
      <div ref={scroller} className="verify-rows" style={{ maxHeight: LIST_HEIGHT }}>
        <div style={{ height: v.getTotalSize(), position: "relative" }}>
          {v.getVirtualItems().map((item) => {
            const row: DiffRow = report.rows[item.index];
            return (
              <div key={item.key} role="row" className={`verify-row${row.inFlight ? " in-flight" : ""}`} data-testid={`verify-diff-row-${keyText(row.key)}`}
                style={{ gridTemplateColumns: columns, position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                title={row.note ?? (row.inFlight ? "in flight: replication is still bringing the winner" : "")}>
                <div role="cell"><div className="mono ellipsis" title={keyText(row.key)}>{keyText(row.key)}</div>{row.inFlight && <span className="badge">in flight</span>}{row.winner === undefined && <span className="badge warn">no winner</span>}</div>
                {row.cells.map((c, i) => <div role="cell" key={i}><CellView cell={c} wins={row.winner === i} zone={zone} /></div>)}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
});

function keyText(key: unknown): string {
  return typeof key === "string" ? key : JSON.stringify(key);
}

function ChannelView({ report, zone }: { report: ChannelReport; zone: Zone }) {
  return (
    <section className="verify-channel" data-testid={`verify-channel-${report.channel}`}>
      <h4>{report.channel} · <span className={`verdict-${report.verdict}`}>{verdictWord(report)}</span></h4>
      {report.error && <p className="error-text small">{report.error}</p>}
      <p className="small muted">
        {report.nodes.map((n) => `${n.name}: ${count(n.count, "record")}${n.watermark.length ? ` as of ${n.watermark.join(", ")}` : ""}`).join(" · ")}
      </p>
      {report.method === "scan" && report.error === undefined && (
        <p className="small" data-testid="verify-coverage">
          Read every record of each node: {grouped(report.scanned)} in all (HarperDB keeps no digest); {count(report.differing, "record")} differ
          {report.rows.length < report.differing ? `, showing ${grouped(report.rows.length)}` : ""}
          {report.truncated ? "; the reading stopped at its bound, more may differ" : ""}
        </p>
      )}
      {report.method === "digests" && report.bucketsDiffering > 0 && (
        <p className="small" data-testid="verify-coverage">
          {report.bucketsDiffering} of 256 buckets differ; scanned {grouped(report.scanned)} records in them; {count(report.differing, "record")} differ
          {report.inFlight > 0 ? ` (${grouped(report.inFlight)} in flight)` : ""}
          {report.rows.length < report.differing ? `, showing ${grouped(report.rows.length)}` : ""}
          {report.truncated ? "; the listing stopped at its bound, more may differ" : ""}
        </p>
      )}
      {report.rows.length > 0 && (
        <p className="small muted">
          ★ marks the winner by the replication rule ({report.method === "scan" ? "the later __updatedtime__; a record one side lacks has none: deleted there or never received, HarperDB does not say" : "the highest version"}). Times in {zoneLabel(Date.now(), zone)}; hover a cell for its whole record{report.method === "scan" ? "" : " and version"}.
        </p>
      )}
      {report.rows.length > 0 && <DiffRows report={report} />}
    </section>
  );
}

function verdictWord(r: ChannelReport): string {
  switch (r.verdict) {
    case "inSync":
      return `in sync: ${count(r.nodes[0]?.count ?? 0, "record")}`;
    case "inFlight":
      return "in flight";
    case "differs":
      return `${count(r.differing - r.inFlight, "record")} differ`;
    case "failed":
      return "not verified";
  }
}

function PlanView({ plan }: { plan: RepairPlan }) {
  return (
    <div className="topo-plan" data-testid="repair-plan">
      <p>{plan.summary}: each written at the winner's version, only where the node still holds what Verify saw.</p>
      <ol>
        {plan.steps.map((s, i) => (
          <li key={i} data-testid={`repair-step-${i}`}>
            <b>{s.instanceName}</b> · {s.channel}: {count(s.writes, "record")} written, {count(s.deletes, "delete")}
            <span className="small muted"> (keys {s.keys.map(keyText).join(", ")}{s.keys.length < s.writes + s.deletes ? ", …" : ""})</span>
          </li>
        ))}
      </ol>
      {plan.skipped.length > 0 && <p className="warn-panel small">Left alone: {plan.skipped.join("; ")}</p>}
    </div>
  );
}

export function VerifyDialog() {
  const d = useVerify((s) => s.dialog);
  const zone = useZone((z) => z.zone);
  if (!d) return null;
  const r = d.report;
  const repairable = !!r && r.channels.some((c) => c.rows.some((row) => row.winner !== undefined && row.behind.length > 0));
  // Scanned records one node lacks: copied only when asked (they may have been deleted there).
  const missing = !!r && r.channels.some((c) => c.method === "scan" && c.rows.some((row) => row.winner === undefined && row.cells.some((cell) => cell.state === "absent")));
  return (
    <Modal title={`Verify ${d.title}`} onClose={closeVerify} testId="verify-dialog" wide>
      <div role="status" aria-live="polite" data-testid="verify-result" data-verdict={d.busy === "verify" ? "running" : r?.verdict ?? "none"}>
        {d.busy === "verify" && (
          <div className="row">
            <span className="muted">Verifying {d.channels.join(", ")}…{d.progress > 0 ? ` ${Math.floor(d.progress * 100)} % read` : ""}</span>
            {d.progress > 0 && <progress max={1} value={d.progress} aria-label="share of the records read" data-testid="verify-progress" />}
            <button type="button" onClick={cancelVerify} data-testid="verify-cancel">Cancel</button>
          </div>
        )}
        {d.busy !== "verify" && r && (
          <p className={r.verdict === "inSync" ? "ok-text" : r.verdict === "inFlight" ? "" : "error-text"} data-testid="verify-summary">
            {r.verdict === "inSync" ? "✓ " : ""}{r.summary} · verified {clock(r.at, zone).slice(0, 8)} in {r.tookMs.toFixed(0)} ms{r.passes > 1 ? ` (${r.passes} passes: differences in flight were checked again)` : ""}
          </p>
        )}
      </div>
      {d.error && <p className="error-text" role="alert">{describeError(d.error)}</p>}
      {r && d.busy !== "verify" && r.channels.map((c) => <ChannelView key={c.channel} report={c} zone={zone} />)}
      {d.plan && <PlanView plan={d.plan} />}
      {d.applied && <ReportView report={d.applied} blocked={[]} />}
      <div className="row end">
        <button type="button" onClick={() => void verifyAgain()} disabled={d.busy !== null} data-testid="verify-again">Verify again</button>
        {repairable && !d.plan && <button type="button" onClick={() => void planRepair()} disabled={d.busy !== null} data-testid="repair-plan-open">Repair…</button>}
        {missing && !d.plan && (
          <button type="button" onClick={() => void planRepair(true)} disabled={d.busy !== null} data-testid="repair-copy-missing"
            title="Also copy each record a node lacks from the nodes that hold it alike. HarperDB does not say whether the node deleted it: copy only what should be there.">
            Repair, copying missing records…
          </button>
        )}
        {d.plan && d.plan.steps.length > 0 && (
          <button type="button" className="primary" onClick={() => void applyRepair()} disabled={d.busy !== null} data-testid="repair-apply">
            {d.busy === "repair" ? "Repairing…" : "Apply repair"}
          </button>
        )}
        <button type="button" onClick={closeVerify}>Close</button>
      </div>
    </Modal>
  );
}
