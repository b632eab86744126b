//! A table: server-paged grid with sort and filters per column, record form, import, export.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { native, type ColumnFilter, type FilterOp, type PageAnchor, type SortSpec, type TreeTable, type ErrorBody } from "../platform";
import { DataGrid } from "../grid/DataGrid";
import { useColumnOrder } from "../grid/columns";
import { applyPage, applyReread, emptyWindow, nextAnchor, PAGE_SIZE, pagesByKey, positionLabel, prevAnchor, rereadPlan, wantsMore, type Direction, type PagingWindow, type Row } from "../grid/paging";
import { RecordForm } from "./RecordForm";
import { ImportDialog } from "./ImportDialog";
import { describeError, toastError, useUi } from "../stores/ui";
import { findTable, useBrowse } from "./store";
import { SERVER_FIELDS } from "../forms/infer";
import { toCsv } from "./exporting";
import { count } from "../text/count";

/** A page read again in place: rows from `from` on replaced; `select` is a key to select. */
type Reread = { from: number; select?: unknown };

interface Props {
  instance: string;
  database: string;
  table: string;
}

/** A filter's text becomes a typed condition: numbers compare as numbers, `>5`, `<5`, `=x`, `!x`. */
export function parseFilter(attribute: string, text: string): ColumnFilter | null {
  const t = text.trim();
  if (!t) return null;
  let op: FilterOp = "contains";
  let raw = t;
  if (t.startsWith(">")) [op, raw] = ["greater_than", t.slice(1)];
  else if (t.startsWith("<")) [op, raw] = ["less_than", t.slice(1)];
  else if (t.startsWith("=")) [op, raw] = ["equals", t.slice(1)];
  else if (t.startsWith("!")) [op, raw] = ["not_equal", t.slice(1)];
  raw = raw.trim();
  const n = Number(raw);
  const value: unknown = raw !== "" && Number.isFinite(n) ? n : raw === "true" ? true : raw === "false" ? false : raw;
  if (op === "contains" && typeof value !== "string") op = "equals";
  return { attribute, op, value };
}

/**
 * The visible row range changes on every scrolled frame. It lives outside React state, so that a
 * scroll re-renders only the grid and the position label, never the whole view.
 */
function createRange() {
  let value: [number, number] = [0, 0];
  const subs = new Set<() => void>();
  return {
    get: () => value,
    set: (v: [number, number]) => {
      value = v;
      subs.forEach((f) => f());
    },
    subscribe: (f: () => void) => {
      subs.add(f);
      return () => void subs.delete(f);
    },
  };
}
type Range = ReturnType<typeof createRange>;

function Position({ w, range }: { w: PagingWindow; range: Range }) {
  const [a, b] = useSyncExternalStore(range.subscribe, range.get);
  return <span data-testid="position">{positionLabel(w, a, b)}</span>;
}

export function TableView({ instance, database, table }: Props) {
  const [info, setInfo] = useState<TreeTable | null>(null);
  /** What the server's answers made the studio leave out (HarperDB's resurrected rows). */
  const [notice, setNotice] = useState<string | null>(null);
  const [w, setW] = useState<PagingWindow>(emptyWindow());
  const [error, setError] = useState<ErrorBody | null>(null);
  const [loading, setLoading] = useState(false);
  const [sort, setSort] = useState<SortSpec | null>(null);
  const [filters, setFilters] = useState<ColumnFilter[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const range = useMemo(createRange, []);
  const [form, setForm] = useState<{ record: Row | null } | null>(null);
  const [importing, setImporting] = useState(false);
  const [scroll, setScroll] = useState<{ by?: number; to?: number; seq: number }>({ seq: 0 });
  const busy = useRef(false);
  const current = useRef(w);
  current.current = w;
  const generation = useRef(0);
  const { toast, ask } = useUi();
  const loadTree = useBrowse((s) => s.loadTree);
  // The count shown is the tree's (one source of truth with the sidebar), which every read of
  // this table's description updates; until the tree has the table, the description's own.
  const listed = useBrowse((s) => findTable(s.trees[instance]?.dbs, database, table));
  const records = listed?.recordCount ?? info?.recordCount;
  const estimated = listed ? listed.recordCountEstimated : info?.recordCountEstimated;

  const pk = info?.primaryKey ?? "id";

  /**
   * Reads one page and folds it into the window: after it, before it, in its place, or (a
   * `Reread`, see `rereadPlan`) over the rows from `from` on, selecting the record keyed `select`.
   */
  const fetchPage = useCallback(
    async (anchor: PageAnchor, how: Direction | Reread, limit = PAGE_SIZE, base?: TreeTable) => {
      const meta = base ?? info;
      if (!meta || busy.current) return;
      busy.current = true;
      setLoading(true);
      const gen = generation.current;
      try {
        const page = await native.browse_page(instance, { database, table, primaryKey: meta.primaryKey, sort: sort ?? undefined, filters, anchor, limit });
        if (gen !== generation.current) return;
        if (page.notice) setNotice(page.notice);
        if (typeof how === "object") {
          const reread = how;
          const next = applyReread(current.current, page, anchor, reread.from);
          current.current = next;
          setW(next);
          setError(null);
          // Rows above the view kept their indices: the view holds. The selection follows the
          // saved record when it is among the rows read, else stays where it was (after a
          // delete, on the row that took the deleted one's place).
          const found = reread.select === undefined ? -1 : next.rows.findIndex((r) => r[meta.primaryKey] === reread.select);
          if (found >= 0) {
            setSelected(found);
            setScroll((c) => ({ to: found, seq: c.seq + 1 }));
          } else {
            setSelected((sel) => (sel === null || next.rows.length === 0 ? null : Math.min(sel, next.rows.length - 1)));
          }
          return;
        }
        const direction = how;
        const prev = direction === "replace" ? emptyWindow() : current.current;
        const next = applyPage(prev, page, anchor, direction);
        current.current = next;
        setW(next);
        // Keep what the user looks at in place: rows added above push it down, rows dropped
        // above pull it up; the visible range moves with it until the grid reports a scroll.
        let shift = 0;
        // A prepend trims at the far end, so only its own rows shift positions.
        if (direction === "prepend") shift = page.rows.length;
        if (direction === "append") shift = -(prev.rows.length + page.rows.length - next.rows.length);
        if (direction === "replace") {
          const to = next.rows.length ? (anchor.kind === "last" ? next.rows.length - 1 : 0) : null;
          setSelected(to);
          range.set([to ?? 0, to ?? 0]);
          if (to !== null) setScroll((c) => ({ to, seq: c.seq + 1 }));
        } else if (shift) {
          const [a, b] = range.get();
          range.set([a + shift, b + shift]);
          setSelected((sel) => (sel === null || sel + shift < 0 ? null : sel + shift));
          setScroll((c) => ({ by: shift, seq: c.seq + 1 }));
        }
        setError(null);
      } catch (e) {
        if (gen === generation.current) setError(e as ErrorBody);
      } finally {
        // A superseded read leaves the flags to the one that superseded it.
        if (gen === generation.current) {
          busy.current = false;
          setLoading(false);
        }
      }
    },
    [instance, database, table, info, sort, filters],
  );

  // Table changed: read its description, then the first page.
  useEffect(() => {
    generation.current++;
    setInfo(null);
    setNotice(null);
    setW(emptyWindow());
    setSort(null);
    setFilters([]);
    setSelected(null);
    setError(null);
    native.browse_table(instance, database, table).then((fresh) => {
      setInfo(fresh);
      useBrowse.getState().tableSeen(instance, database, fresh);
    }, (e) => setError(e as ErrorBody));
  }, [instance, database, table]);

  // Table read, sort or filters changed: start over from the first page. (A description read
  // again, after a save, leaves the rows where they are: see `reload`.)
  const ready = info !== null;
  useEffect(() => {
    if (!ready) return;
    generation.current++;
    busy.current = false;
    void fetchPage({ kind: "first" }, "replace");
  }, [ready, sort, filters]); // eslint-disable-line react-hooks/exhaustive-deps

  // Scrolling near an open edge of the window loads the next or previous page: checked on every
  // range change and whenever the window or an error changes.
  const latest = useRef({ pk, sort, error, fetchPage });
  latest.current = { pk, sort, error, fetchPage };
  const maybeLoad = useCallback(() => {
    const { pk, sort, error, fetchPage } = latest.current;
    const win = current.current;
    const [a, b] = range.get();
    const want = wantsMore(win, a, b);
    if (!want || busy.current || error) return;
    if (want === "append") {
      const next = nextAnchor(win, pk, sort);
      if (next) void fetchPage(next, "append");
    } else {
      const p = prevAnchor(win, pk, sort);
      if (p) void fetchPage(p.anchor, "prepend", p.limit);
    }
  }, [range]);
  useEffect(() => range.subscribe(maybeLoad), [range, maybeLoad]);
  useEffect(() => maybeLoad(), [w, error, maybeLoad]);

  const onRange = useCallback((a: number, b: number) => range.set([a, b]), [range]);
  const onActivate = useCallback((i: number) => setForm({ record: current.current.rows[i] }), []);

  const first = () => fetchPage({ kind: "first" }, "replace");
  const last = () => fetchPage({ kind: "last" }, "replace");
  /**
   * Reads the table again where the user is: its description (count, attributes) and the rows
   * around the view, which stays in place; `select` is the key of a record to select (the one
   * just saved). A page being read meanwhile is superseded.
   */
  const reload = async (select?: unknown) => {
    const described = native.browse_table(instance, database, table).then((fresh) => {
      setInfo(fresh);
      useBrowse.getState().tableSeen(instance, database, fresh);
      return null;
    }, (e) => e as ErrorBody);
    if (info) {
      generation.current++;
      busy.current = false;
      const [a, b] = range.get();
      const plan = rereadPlan(current.current, a, b, info.primaryKey, sort);
      await fetchPage(plan.anchor, { from: plan.from, select }, plan.limit, info);
    }
    // Shown after the rows are read, whose success clears the error panel.
    const failed = await described;
    if (failed) setError(failed);
  };

  /**
   * Shows a record just added when the rows read again around the view do not hold it: where
   * pages go by key, the page from its key on (read after the row before it), the record
   * selected at its top. Sorted on another attribute its place is not known, and under a filter
   * the record may not pass it (the jump would show other rows): the view stays.
   */
  const reveal = async (key: unknown) => {
    if (!info || key === undefined || key === null || !pagesByKey(info.primaryKey, sort) || filters.length > 0) return;
    if (current.current.rows.some((r) => r[info.primaryKey] === key)) return;
    try {
      const before = await native.browse_page(instance, { database, table, primaryKey: info.primaryKey, sort: sort ?? undefined, filters: [], anchor: { kind: "before", key }, limit: 1 });
      const prev = before.rows[0]?.[info.primaryKey];
      generation.current++;
      busy.current = false;
      await fetchPage(prev === undefined ? { kind: "first" } : { kind: "after", key: prev }, "replace");
    } catch (e) {
      toastError(e);
    }
  };

  const onSort = useCallback((attribute: string) => {
    setSort((s) => (s?.attribute === attribute ? (s.descending ? null : { attribute, descending: true }) : { attribute, descending: false }));
  }, []);
  const onFilter = useCallback((attribute: string, text: string) => {
    const f = parseFilter(attribute, text);
    setFilters((fs) => [...fs.filter((x) => x.attribute !== attribute), ...(f ? [f] : [])]);
  }, []);

  const remove = async (i: number) => {
    const row = w.rows[i];
    if (!row) return;
    const key = row[pk];
    const ok = await ask({ title: "Delete record", body: `Delete the record ${pk} = ${JSON.stringify(key)} from ${database}.${table}?`, confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await native.browse_delete(instance, database, table, [key]);
      const restore = Object.fromEntries(Object.entries(row).filter(([k]) => !SERVER_FIELDS.includes(k)));
      toast(`Deleted ${pk} = ${JSON.stringify(key)}`, "info", {
        label: "Undo",
        run: () => {
          native.browse_write(instance, database, table, "insert", [restore]).then(() => { toast("Record restored"); void reload(key); }, toastError);
        },
      });
      setForm(null);
      void reload();
      void loadTree(instance);
    } catch (e) {
      toastError(e);
    }
  };

  // The columns as the user arranged them: the grid, the form and a CSV export follow it.
  const tableKey = `${instance}/${database}/${table}`;
  const { ordered: columns, arranged, arrange } = useColumnOrder(tableKey, w.columns.length ? w.columns : info?.attributes ?? []);

  const exportView = async (format: "csv" | "json") => {
    const contents = format === "csv" ? toCsv(columns, w.rows) : JSON.stringify(w.rows, null, 2);
    try {
      const path = await native.exports_write(`${database}.${table}.${format}`, contents);
      toast(`Exported ${count(w.rows.length, "row")} to ${path}`);
    } catch (e) {
      toastError(e);
    }
  };

  const keyHandler = useRef<(e: React.KeyboardEvent) => void>(() => {});
  const onKey = useCallback((e: React.KeyboardEvent) => keyHandler.current(e), []);
  keyHandler.current = (e: React.KeyboardEvent) => {
    if (e.ctrlKey && e.key === "Home") {
      e.preventDefault();
      void first();
    } else if (e.ctrlKey && e.key === "End") {
      e.preventDefault();
      void last();
    } else if (e.key === "Delete" && selected !== null) {
      e.preventDefault();
      void remove(selected);
    }
  };

  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "n" && !form) {
        e.preventDefault();
        setForm({ record: null });
      }
    };
    window.addEventListener("keydown", h);
    return () => window.removeEventListener("keydown", h);
  }, [form]);

  return (
    <section className="table-view" data-testid="table-view">
      <header className="toolbar">
        <h2 data-testid="table-title">
          {database}.{table}
        </h2>
        <span className="muted" data-testid="record-count">{info && records != null ? `${estimated ? "≈ " : ""}${count(records, "record")}` : ""}</span>
        {info?.expiration ? <span className="badge">expires after {info.expiration} s</span> : null}
        <div className="spacer" />
        <button onClick={() => setForm({ record: null })} data-testid="new-record" title="New record (Ctrl+N)">New record</button>
        <button onClick={() => setImporting(true)} data-testid="import">Import…</button>
        <button onClick={() => exportView("csv")} disabled={!w.rows.length}>Export CSV</button>
        <button onClick={() => exportView("json")} disabled={!w.rows.length}>Export JSON</button>
        {arranged && <button onClick={() => arrange(undefined)} title="Put the columns back in the table's own order" data-testid="reset-columns">Reset columns</button>}
        <button onClick={() => void reload()} title="Read the table again where you are" data-testid="reload">Reload</button>
      </header>
      {notice && <div className="page-notice" role="status" data-testid="page-notice">{notice}</div>}
      {error && (
        <div className="error-panel" role="alert" data-testid="table-error">
          {describeError(error)} <button onClick={() => void reload()}>Retry</button>
        </div>
      )}
      <DataGrid columns={columns} onArrange={arrange} rows={w.rows} selected={selected} onSelect={setSelected}
        onActivate={onActivate} sort={sort} onSort={onSort} filters={filters} onFilter={onFilter}
        onRange={onRange} onKey={onKey} scroll={scroll} widthKey={tableKey} />
      {info && !loading && !error && w.rows.length === 0 && w.atEnd && w.atStart && (
        <div className="empty-state" data-testid="empty-table">
          {filters.length > 0 ? (
            <>
              <p>No record matches {filters.length === 1 ? "the filter" : `the ${filters.length} filters`}.</p>
              <button onClick={() => setFilters([])}>Clear the filters</button>
            </>
          ) : (
            <>
              <p>{database}.{table} has no records yet.</p>
              <div className="row">
                <button className="primary" onClick={() => setForm({ record: null })} data-testid="empty-new-record">New record</button>
                <button onClick={() => setImporting(true)} data-testid="empty-import">Import…</button>
              </div>
            </>
          )}
        </div>
      )}
      <footer className="pager">
        <button onClick={() => void first()} disabled={w.atStart || loading} data-testid="first-page" title="First page (Ctrl+Home)">« First</button>
        <button onClick={() => void last()} disabled={w.atEnd || loading} data-testid="last-page" title="Last page (Ctrl+End)">Last »</button>
        <Position w={w} range={range} />
        {filters.length > 0 && <span className="badge">{count(filters.length, "filter")}</span>}
        {loading && <span className="spinner" aria-label="loading" />}
        <div className="spacer" />
        <span className="muted">↑↓ select · Enter edit · Del delete · Ctrl+N new</span>
      </footer>
      {form && info && (
        <RecordForm instance={instance} database={database} table={table} info={info} record={form.record} sample={w.rows.slice(0, 50)} columns={columns}
          onClose={() => setForm(null)} onSaved={(key) => { const added = !form.record; setForm(null); void reload(key).then(() => (added ? reveal(key) : undefined)); void loadTree(instance); }}
          onDelete={form.record ? () => { const i = w.rows.indexOf(form.record as Row); if (i >= 0) void remove(i); } : undefined} />
      )}
      {importing && info && (
        <ImportDialog instance={instance} database={database} table={table} primaryKey={pk}
          onClose={(changed) => { setImporting(false); if (changed) { void reload(); void loadTree(instance); } }} />
      )}
    </section>
  );
}
