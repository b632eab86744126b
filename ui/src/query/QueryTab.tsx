//! SQL against one instance: a CodeMirror editor (highlighting, completion of the instance's
//! databases, tables and attributes), a searchable history, results in the grid.
import { useEffect, useMemo, useRef, useState } from "react";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { autocompletion, closeBrackets, completionKeymap } from "@codemirror/autocomplete";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";
import { sql, StandardSQL } from "@codemirror/lang-sql";
import { native, type SqlResult, type ErrorBody } from "../platform";
import { DataGrid } from "../grid/DataGrid";
import { describeError } from "../stores/ui";
import { useBrowse, useSqlHistory } from "../browse/store";
import { searchHistory, sqlSchema } from "./schema";
import { count } from "../text/count";

/** Token colours from the theme (styles.css, checked for contrast by theme.test.ts). */
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: "var(--syn-keyword)", fontWeight: "600" },
  { tag: [t.string, t.special(t.string)], color: "var(--syn-string)" },
  { tag: [t.number, t.bool, t.null], color: "var(--syn-number)" },
  { tag: [t.typeName, t.standard(t.name)], color: "var(--syn-type)" },
  { tag: [t.lineComment, t.blockComment], color: "var(--muted)", fontStyle: "italic" },
]);

function language(schema: Record<string, string[]>) {
  return sql({ dialect: StandardSQL, schema, upperCaseKeywords: true });
}

export function QueryTab({ instance, name }: { instance: string; name: string }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [result, setResult] = useState<SqlResult | null>(null);
  const [error, setError] = useState<ErrorBody | null>(null);
  const [running, setRunning] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const { items, add } = useSqlHistory();
  const runRef = useRef<() => void>(() => {});
  // Completion follows the sidebar's tree of this instance as it loads and changes.
  const dbs = useBrowse((s) => s.trees[instance]?.dbs);
  const schema = useMemo(() => sqlSchema(dbs), [dbs]);
  const lang = useRef(new Compartment());

  runRef.current = async () => {
    const q = view.current?.state.doc.toString().trim() ?? "";
    if (!q || running) return;
    setRunning(true);
    setError(null);
    try {
      const r = await native.sql_run(instance, q);
      setResult(r);
      setSelected(null);
      add(q);
    } catch (e) {
      setError(e as ErrorBody);
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
          lang.current.of(language(schema)),
          syntaxHighlighting(highlight),
          autocompletion(),
          closeBrackets(),
          placeholder("SELECT * FROM dev.dog WHERE age > 3 ORDER BY name LIMIT 100"),
          keymap.of([{ key: "Mod-Enter", run: () => (runRef.current(), true) }, ...completionKeymap, ...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": "SQL query (Ctrl+Enter runs it)" }),
        ],
      }),
    });
    view.current = v;
    v.focus();
    return () => v.destroy();
  }, [instance]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(language(schema)) });
  }, [schema]);

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
        <HistoryPicker items={items} onPick={load} />
        <button className="primary" onClick={() => runRef.current()} disabled={running} data-testid="sql-run" title="Run (Ctrl+Enter)">{running ? "Running…" : "Run"}</button>
      </header>
      <div className="editor" ref={host} data-testid="sql-editor" />
      {error && <div className="error-panel" role="alert" data-testid="sql-error">{describeError(error)}</div>}
      {result?.message && <div className="info-panel" data-testid="sql-message">{result.message}</div>}
      {result && !result.message && (
        <>
          <div className="muted result-meta" data-testid="sql-meta">{count(result.rows.length, "row")} · {result.elapsedMs.toFixed(1)} ms</div>
          <DataGrid columns={result.columns} rows={result.rows} selected={selected} onSelect={setSelected} testId="sql-grid" />
        </>
      )}
    </section>
  );
}

/** The history as a list with a search field: type to narrow, ↑↓ to choose, Enter to load. */
function HistoryPicker({ items, onPick }: { items: string[]; onPick: (q: string) => void }) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const [active, setActive] = useState(0);
  const found = useMemo(() => searchHistory(items, search), [items, search]);
  const list = useRef<HTMLUListElement>(null);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => setActive(0), [search, open]);
  useEffect(() => {
    if (!open) return;
    const outside = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);
  useEffect(() => {
    list.current?.querySelector<HTMLElement>(`[data-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [active]);
  const pick = (q: string | undefined) => {
    if (q === undefined) return;
    setOpen(false);
    setSearch("");
    onPick(q);
  };
  const keyDown = (e: React.KeyboardEvent) => {
    if (e.key === "ArrowDown") setActive((a) => Math.min(found.length - 1, a + 1));
    else if (e.key === "ArrowUp") setActive((a) => Math.max(0, a - 1));
    else if (e.key === "Enter") pick(found[active]);
    else if (e.key === "Escape") setOpen(false);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <div className="history-picker" ref={root}>
      <button type="button" onClick={() => setOpen((o) => !o)} aria-expanded={open} disabled={!items.length} data-testid="sql-history">
        History ({items.length}) ▾
      </button>
      {open && (
        <div className="history-pop" role="dialog" aria-label="SQL history" onKeyDown={keyDown}>
          <input type="search" autoFocus placeholder="search the history" value={search} onChange={(e) => setSearch(e.target.value)}
            aria-label="Search the history" aria-controls="sql-history-list" data-testid="sql-history-search" />
          <ul id="sql-history-list" role="listbox" aria-label="Queries run before" ref={list}>
            {found.map((q, i) => (
              <li key={q} role="option" aria-selected={i === active} data-index={i} title={q} className={i === active ? "active" : ""}
                onMouseEnter={() => setActive(i)} onMouseDown={(e) => { e.preventDefault(); pick(q); }} data-testid={`sql-history-item-${i}`}>
                {q}
              </li>
            ))}
            {!found.length && <li className="muted" role="option" aria-selected={false} aria-disabled>No query in the history has {search.trim().split(/\s+/).length > 1 ? "all these words" : "this"}.</li>}
          </ul>
        </div>
      )}
    </div>
  );
}
