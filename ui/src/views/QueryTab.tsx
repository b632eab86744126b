//! SQL against one instance: a CodeMirror editor, history, results in the grid.
import { useEffect, useRef, useState } from "react";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { sql } from "@codemirror/lang-sql";
import { native, type SqlResult, type UiError } from "../platform";
import { DataGrid } from "../grid/DataGrid";
import { describeError } from "../stores/ui";
import { useSqlHistory } from "../stores/browse";

export function QueryTab({ instance, name }: { instance: string; name: string }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [result, setResult] = useState<SqlResult | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [running, setRunning] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const { items, add } = useSqlHistory();
  const runRef = useRef<() => void>(() => {});

  runRef.current = async () => {
    const q = view.current?.state.doc.toString().trim() ?? "";
    if (!q || running) return;
    setRunning(true);
    setError(null);
    try {
      const r = await native.runSql(instance, q);
      setResult(r);
      setSelected(null);
      add(q);
    } catch (e) {
      setError(e as UiError);
      setResult(null);
    } finally {
      setRunning(false);
    }
  };

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: items[0] ?? "",
        extensions: [
          lineNumbers(),
          history(),
          sql(),
          placeholder("SELECT * FROM dev.dog WHERE age > 3 ORDER BY name LIMIT 100"),
          keymap.of([{ key: "Mod-Enter", run: () => (runRef.current(), true) }, ...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
        ],
      }),
    });
    view.current = v;
    v.focus();
    return () => v.destroy();
  }, [instance]); // eslint-disable-line react-hooks/exhaustive-deps

  const load = (q: string) => {
    const v = view.current;
    if (!v) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: q } });
    v.focus();
  };

  return (
    <section className="query-view" data-testid="query-view">
      <header className="toolbar">
        <h2>SQL · {name}</h2>
        <div className="spacer" />
        <select aria-label="History" value="" onChange={(e) => e.target.value && load(e.target.value)} data-testid="sql-history">
          <option value="">History ({items.length})</option>
          {items.map((q, i) => <option key={i} value={q}>{q.length > 80 ? q.slice(0, 80) + "…" : q}</option>)}
        </select>
        <button className="primary" onClick={() => runRef.current()} disabled={running} data-testid="sql-run" title="Run (Ctrl+Enter)">{running ? "Running…" : "Run"}</button>
      </header>
      <div className="editor" ref={host} data-testid="sql-editor" />
      {error && <div className="error-panel" role="alert" data-testid="sql-error">{describeError(error)}</div>}
      {result?.message && <div className="info-panel" data-testid="sql-message">{result.message}</div>}
      {result && !result.message && (
        <>
          <div className="muted result-meta" data-testid="sql-meta">{result.rows.length.toLocaleString("en-US")} {result.rows.length === 1 ? "row" : "rows"} · {result.elapsedMs.toFixed(1)} ms</div>
          <DataGrid columns={result.columns} rows={result.rows} selected={selected} onSelect={setSelected} testId="sql-grid" />
        </>
      )}
    </section>
  );
}
