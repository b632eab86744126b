//! Import CSV or JSON into a table in batches, with progress, cancel and a summary.
import { useMemo, useRef, useState } from "react";
import { native, type WriteMode } from "../platform";
import { batches, parseCsv, parseJson, preview, rejectedFile, withKey, type ParsedImport } from "./importing";
import { cellView } from "../grid/cells";
import { describeError, toastError, useUi } from "../stores/ui";
import { Modal } from "../components/Modal";
import { count, grouped } from "../text/count";

const BATCH = 500;
/** Rejected rows named in the dialog; the saved file has every one. */
const LISTED = 500;

interface Props {
  instance: string;
  database: string;
  table: string;
  primaryKey: string;
  onClose: (changed: boolean) => void;
}

interface Summary {
  written: number;
  skipped: unknown[];
  rejected: ParsedImport["rejected"];
  failed: string | null;
  cancelled: boolean;
}

export function ImportDialog({ instance, database, table, primaryKey, onClose }: Props) {
  const [parsed, setParsed] = useState<ParsedImport | null>(null);
  const [fileName, setFileName] = useState("");
  const [mode, setMode] = useState<WriteMode>("insert");
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [summary, setSummary] = useState<Summary | null>(null);
  const cancel = useRef(false);
  const shown = useMemo(() => (parsed ? preview(parsed.records, primaryKey) : null), [parsed, primaryKey]);
  /** The file's column written as the table's primary key (none: the server makes keys). */
  const [key, setKey] = useState<string | null>(null);

  const pick = async (f: File | undefined) => {
    if (!f) return;
    setFileName(f.name);
    setSummary(null);
    const text = await f.text();
    const p = /\.csv$/i.test(f.name) || (!text.trim().startsWith("[") && !text.trim().startsWith("{")) ? parseCsv(text) : parseJson(text);
    setParsed(p);
    setKey(preview(p.records, primaryKey).key);
  };

  const saveRejected = async () => {
    if (!parsed) return;
    const file = rejectedFile(parsed, fileName);
    try {
      const path = await native.exports_write(file.name, file.contents);
      useUi.getState().toast(`Saved ${count(parsed.rejected.length, "unreadable row")} to ${path}`);
    } catch (e) {
      toastError(e);
    }
  };

  const run = async () => {
    if (!parsed) return;
    cancel.current = false;
    const s: Summary = { written: 0, skipped: [], rejected: parsed.rejected, failed: null, cancelled: false };
    const all = batches(withKey(parsed.records, key, primaryKey), BATCH);
    setProgress({ done: 0, total: parsed.records.length });
    let done = 0;
    for (const b of all) {
      if (cancel.current) {
        s.cancelled = true;
        break;
      }
      try {
        const r = await native.browse_write(instance, database, table, mode, b);
        s.written += r.written;
        s.skipped.push(...r.skippedKeys);
      } catch (e) {
        // Batches are all-or-nothing on the server: what was written before stays, nothing after.
        s.failed = `${describeError(e as never)} (after ${count(s.written, "record")})`;
        break;
      }
      done += b.length;
      setProgress({ done, total: parsed.records.length });
    }
    setSummary(s);
    setProgress(null);
  };

  return (
    <Modal title={`Import into ${database}.${table}`} onClose={() => onClose(!!summary?.written)} testId="import-dialog" onSubmit={run}>
      <p className="muted">CSV with a header row, or JSON (an array of objects, one object, or one object per line). Records without “{primaryKey}” get a generated key.</p>
      <input type="file" accept=".csv,.json,.ndjson,.jsonl,text/csv,application/json" onChange={(e) => void pick(e.target.files?.[0])} data-testid="import-file" aria-label="File to import (CSV or JSON)" disabled={!!progress} />
      {parsed && (
        <p data-testid="import-parsed">
          {fileName}: {count(parsed.records.length, "record")}{parsed.rejected.length ? `, ${count(parsed.rejected.length, "row")} unreadable` : ""}
        </p>
      )}
      {shown && shown.columns.length > 0 && !summary && (
        <div className="import-preview" data-testid="import-preview">
          <label className="small">Key column (written as “{primaryKey}”){" "}
            <select value={key ?? ""} onChange={(e) => setKey(e.target.value || null)} data-testid="import-key" disabled={!!progress}>
              <option value="">none: the server makes keys</option>
              {shown.columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
            </select>
          </label>
          <div className="import-preview-grid">
            <table className="small">
              <thead>
                <tr>{shown.columns.map((c) => <th key={c.name} title={`${c.name}: ${c.kind}`}>{c.name}{c.name === key ? <span className="badge">key</span> : null}<div className="muted">{c.kind}</div></th>)}</tr>
              </thead>
              <tbody>
                {shown.rows.map((r, i) => (
                  <tr key={i}>{shown.columns.map((c) => { const v = cellView(r[c.name], c.name); return <td key={c.name} className={`k-${v.kind}`} title={v.title}>{v.text}</td>; })}</tr>
                ))}
              </tbody>
            </table>
          </div>
          {parsed && parsed.records.length > shown.rows.length && <p className="muted small">the first {shown.rows.length} of {count(parsed.records.length, "record")}</p>}
        </div>
      )}
      {parsed && parsed.rejected.length > 0 && (
        <div className="import-rejected" data-testid="import-rejected">
          <ul>
            {parsed.rejected.slice(0, LISTED).map((r) => (
              <li key={r.at}>{parsed.format === "csv" ? "line" : "line or item"} {r.at}: {r.reason}</li>
            ))}
          </ul>
          {parsed.rejected.length > LISTED && <p className="muted small">… and {count(parsed.rejected.length - LISTED, "more row")}, all in the saved file.</p>}
          <button type="button" onClick={() => void saveRejected()} data-testid="import-save-rejected">Save the unreadable rows…</button>
        </div>
      )}
      <label className="inline">
        <input type="radio" checked={mode === "insert"} onChange={() => setMode("insert")} /> insert (skip existing keys)
      </label>
      <label className="inline">
        <input type="radio" checked={mode === "upsert"} onChange={() => setMode("upsert")} /> upsert (replace existing)
      </label>
      {progress && (
        <div className="progress" data-testid="import-progress">
          <progress max={progress.total} value={progress.done} /> {grouped(progress.done)} / {grouped(progress.total)}
        </div>
      )}
      {summary && (
        <div className="summary" data-testid="import-summary" role="status">
          <p>
            {summary.cancelled ? "Cancelled. " : ""}Wrote {count(summary.written, "record")}.
            {summary.skipped.length > 0 && ` Skipped ${summary.skipped.length} whose key already exists (${summary.skipped.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}${summary.skipped.length > 5 ? ", …" : ""}).`}
            {summary.rejected.length > 0 && ` ${count(summary.rejected.length, "row")} could not be read (listed above, and can be saved to fix and import again).`}
          </p>
          {summary.failed && <p className="field-error">Stopped: {summary.failed}</p>}
        </div>
      )}
      <footer className="modal-actions">
        <div className="spacer" />
        {progress ? (
          <button type="button" onClick={() => (cancel.current = true)}>Cancel import</button>
        ) : (
          <button type="button" onClick={() => onClose(!!summary?.written)}>Close</button>
        )}
        <button type="submit" className="primary" disabled={!parsed || !!progress || parsed.records.length === 0 || !!summary} data-testid="import-run" title={summary ? "Pick a file to import again" : undefined}>Import</button>
      </footer>
    </Modal>
  );
}
