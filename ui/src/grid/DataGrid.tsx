//! A virtualized grid: only the rows in view are in the DOM, whatever the row count.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ColumnFilter, SortSpec } from "../platform";
import type { Row } from "./paging";
import { COL_WIDTH, MAX_COL_WIDTH, MIN_COL_WIDTH, cellText, cellView, fitWidth, loadWidths, saveWidths } from "./cells";
import { moveColumn, stepColumn } from "./columns";
import { useZone, type Zone } from "../text/time";


export const ROW_HEIGHT = 28;
interface Props {
  columns: string[];
  rows: Row[];
  selected: number | null;
  onSelect: (i: number) => void;
  onActivate?: (i: number) => void;
  sort?: SortSpec | null;
  onSort?: (attribute: string) => void;
  filters?: ColumnFilter[];
  onFilter?: (attribute: string, text: string) => void;
  onRange?: (first: number, last: number) => void;
  onKey?: (e: React.KeyboardEvent) => void;
  /** Scroll commands: `by` rows (keeps a row in view when rows are added or dropped above it), or `to` a row. */
  scroll?: { by?: number; to?: number; seq: number };
  testId?: string;
  /** Where column widths the user sets are kept (one table: `instance/database/table`). */
  widthKey?: string;
  /** Columns can be moved (dragging a header, or Alt+←/→ on it): the new order of `columns`. */
  onArrange?: (order: string[]) => void;
}

interface RowProps {
  index: number;
  start: number;
  row: Row;
  columns: string[];
  widths: number[];
  width: number;
  zone: Zone;
  selected: boolean;
  onSelect: (i: number) => void;
  onActivate?: (i: number) => void;
}

/** One row; memoized so that scrolling re-renders only the rows that come into view. */
const GridRow = memo(function GridRow({ index, start, row, columns, widths, width, zone, selected, onSelect, onActivate }: RowProps) {
  return (
    <div className={"grid-row" + (selected ? " selected" : "")} role="row" data-index={index}
      style={{ position: "absolute", top: 0, transform: `translateY(${start}px)`, height: ROW_HEIGHT, width }}
      onClick={() => onSelect(index)} onDoubleClick={() => onActivate?.(index)}>
      {columns.map((c, i) => {
        const cell = cellView(row[c], c, zone);
        return (
          <div key={c} className={`grid-cell k-${cell.kind}`} role="gridcell" style={{ width: widths[i] }} title={cell.title}>
            {cell.text}
          </div>
        );
      })}
    </div>
  );
});

/** Memoized: a parent re-render with the same rows and callbacks does not re-render the rows. */
export const DataGrid = memo(function DataGrid(p: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLDivElement>(null);
  const zone = useZone((s) => s.zone);
  // The sticky header sits above the rows inside the scroller: the rows start below it.
  const [headHeight, setHeadHeight] = useState(0);
  useLayoutEffect(() => setHeadHeight(head.current?.offsetHeight ?? 0), [p.onFilter, p.columns.length]);
  const v = useVirtualizer({
    count: p.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    scrollMargin: headHeight,
  });
  const items = v.getVirtualItems();
  // The rows actually in view, below the sticky header (the rendered ones include the overscan).
  const n = p.rows.length;
  const offset = v.scrollOffset ?? 0;
  const height = v.scrollRect?.height ?? 0;
  const first = n ? Math.min(n - 1, Math.floor(offset / ROW_HEIGHT)) : 0;
  const last = n ? Math.max(first, Math.min(n - 1, Math.ceil((offset + height - headHeight) / ROW_HEIGHT) - 1)) : 0;
  const onRange = p.onRange;
  // Reported on scroll only: after rows change, the owner shifts its range itself (see `scroll`).
  // A jump (`to`, after the rows were replaced) is the exception: the owner cannot know how many
  // rows show, so the grid tells it, even when the indices in view are the ones it told before.
  const jumped = useRef(false);
  useEffect(() => {
    jumped.current = false;
    onRange?.(first, last);
  }, [first, last, onRange]);
  useEffect(() => {
    const el = scroller.current;
    if (jumped.current && el && el.scrollTop === offset) {
      jumped.current = false;
      onRange?.(first, last);
    }
  });
  useEffect(() => {
    const c = p.scroll;
    const el = scroller.current;
    if (!c || !el) return;
    if (c.to !== undefined) {
      const before = el.scrollTop;
      reveal(c.to);
      // Unmoved, this render's range is what shows; moved, the scroll's render reports it.
      if (el.scrollTop === before) onRange?.(first, last);
      else jumped.current = true;
    } else if (c.by) el.scrollTop += c.by * ROW_HEIGHT;
  }, [p.scroll?.seq]); // eslint-disable-line react-hooks/exhaustive-deps

  /** Scrolls just enough that row `i` shows below the sticky header. */
  const reveal = (i: number) => {
    const el = scroller.current;
    if (!el) return;
    const top = i * ROW_HEIGHT;
    const bottom = top + ROW_HEIGHT + headHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (bottom > el.scrollTop + el.clientHeight) el.scrollTop = bottom - el.clientHeight;
  };

  // Column widths: what the user set for this table (dragged, or fitted on double-click).
  const [set, setSet] = useState<Record<string, number>>(() => (p.widthKey ? loadWidths(p.widthKey) : {}));
  useEffect(() => setSet(p.widthKey ? loadWidths(p.widthKey) : {}), [p.widthKey]);
  const widths = useMemo(() => p.columns.map((c) => set[c] ?? COL_WIDTH), [p.columns, set]);
  const width = Math.max(COL_WIDTH, widths.reduce((a, b) => a + b, 0));
  const keep = (next: Record<string, number>) => {
    if (p.widthKey) saveWidths(p.widthKey, next);
  };
  const startResize = (c: string, e: React.MouseEvent) => {
    e.preventDefault();
    e.stopPropagation();
    const [x0, w0] = [e.clientX, set[c] ?? COL_WIDTH];
    let latest = set;
    const move = (m: MouseEvent) => {
      latest = { ...latest, [c]: Math.round(Math.min(MAX_COL_WIDTH, Math.max(MIN_COL_WIDTH, w0 + m.clientX - x0))) };
      setSet(latest);
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      keep(latest);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };
  /** Fits a column to its header and the loaded rows' text (the first 2,000). */
  const fit = (c: string, e: React.MouseEvent) => {
    e.stopPropagation();
    const root = scroller.current;
    const headCell = root?.querySelector(".grid-cell.head");
    const rowCell = root?.querySelector(".grid-row:not(.head):not(.filters) .grid-cell") ?? headCell;
    const ctx = document.createElement("canvas").getContext("2d");
    if (!ctx || !headCell || !rowCell) return;
    // The header (bold, with room for the sort arrow) and the rows each in their own font.
    ctx.font = getComputedStyle(headCell).font;
    const head = ctx.measureText(`${c} ▼`).width;
    ctx.font = getComputedStyle(rowCell).font;
    const texts = p.rows.slice(0, 2000).map((r) => cellView(r[c], c, zone).text);
    const next = { ...set, [c]: Math.max(fitWidth(texts, (t) => ctx.measureText(t).width), Math.round(head + 26)) };
    setSet(next);
    keep(next);
  };
  // Moving columns: a header dragged past a few pixels lands where it is dropped; the click that
  // ends the drag does not sort.
  const [moving, setMoving] = useState<{ column: string; over: string | null } | null>(null);
  const dragged = useRef(false);
  const startMove = (c: string, e: React.MouseEvent) => {
    const arrange = p.onArrange;
    if (!arrange || e.button !== 0) return;
    const x0 = e.clientX;
    let over: string | null = null;
    let moved = false;
    const move = (m: MouseEvent) => {
      if (!moved && Math.abs(m.clientX - x0) < 6) return;
      moved = true;
      const el = document.elementFromPoint(m.clientX, m.clientY)?.closest<HTMLElement>("[data-column]");
      over = el?.dataset.column ?? null;
      setMoving({ column: c, over });
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      setMoving(null);
      if (!moved) return;
      dragged.current = true;
      setTimeout(() => (dragged.current = false), 0);
      if (over && over !== c) arrange(moveColumn(p.columns, c, over));
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };
  const headerCell = (c: string) => head.current?.querySelector<HTMLElement>(`[data-column="${CSS.escape(c)}"]`);
  const headerKey = (c: string, e: React.KeyboardEvent) => {
    const i = p.columns.indexOf(c);
    if (e.key === "Enter" || e.key === " ") {
      p.onSort?.(c);
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && e.altKey && p.onArrange) {
      p.onArrange(stepColumn(p.columns, c, e.key === "ArrowLeft" ? -1 : 1));
      requestAnimationFrame(() => headerCell(c)?.focus());
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      const next = p.columns[i + (e.key === "ArrowLeft" ? -1 : 1)];
      if (next) headerCell(next)?.focus();
    } else if (e.key === "ArrowDown") {
      scroller.current?.closest<HTMLElement>(".grid")?.focus();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };
  const dropSide = (c: string) => {
    if (!moving || moving.over !== c || moving.column === c) return "";
    return p.columns.indexOf(moving.column) < p.columns.indexOf(c) ? " drop-after" : " drop-before";
  };
  const filterText = (a: string) => cellText(p.filters?.find((f) => f.attribute === a)?.value ?? "");

  const keyDown = (e: React.KeyboardEvent) => {
    const n = p.rows.length;
    if (n === 0) return p.onKey?.(e);
    const cur = p.selected ?? -1;
    const pageRows = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    let next: number | null = null;
    if (e.key === "ArrowDown") next = Math.min(n - 1, cur + 1);
    else if (e.key === "ArrowUp") next = Math.max(0, cur - 1);
    else if (e.key === "PageDown") next = Math.min(n - 1, cur + pageRows);
    else if (e.key === "PageUp") next = Math.max(0, cur - pageRows);
    else if (e.key === "Enter" && cur >= 0) {
      e.preventDefault();
      return p.onActivate?.(cur);
    }
    if (next !== null) {
      e.preventDefault();
      p.onSelect(next);
      reveal(next);
      return;
    }
    p.onKey?.(e);
  };

  return (
    <div className="grid" data-testid={p.testId ?? "grid"} role="grid" aria-rowcount={p.rows.length} tabIndex={0} onKeyDown={keyDown}>
      <div className="grid-scroll" ref={scroller}>
        <div className="grid-head" style={{ width }} ref={head}>
          <div className="grid-row head" role="row">
            {p.columns.map((c, i) => {
              const sorted = p.sort?.attribute === c ? (p.sort.descending ? " ▼" : " ▲") : "";
              return (
                <div key={c} className={"grid-cell head" + (moving?.column === c ? " moving" : "") + dropSide(c)} role="columnheader" style={{ width: widths[i] }}
                  title={[p.onSort ? `Sort by ${c}` : c, p.onArrange ? "drag (or Alt+←/→) to move" : ""].filter(Boolean).join(" · ")}
                  aria-sort={p.sort?.attribute === c ? (p.sort.descending ? "descending" : "ascending") : undefined}
                  tabIndex={i === 0 ? 0 : -1} data-column={c} onKeyDown={(e) => headerKey(c, e)} onMouseDown={(e) => startMove(c, e)}
                  onClick={() => !dragged.current && p.onSort?.(c)} data-testid={`col-${c}`}>
                  {c}
                  {sorted}
                  <span className="col-resize" role="separator" aria-orientation="vertical" aria-label={`Resize ${c}; double-click fits it`} data-testid={`resize-${c}`}
                    onMouseDown={(e) => startResize(c, e)} onDoubleClick={(e) => fit(c, e)} onClick={(e) => e.stopPropagation()} />
                </div>
              );
            })}
          </div>
          {p.onFilter && (
            <div className="grid-row filters" role="row">
              {p.columns.map((c, i) => (
                <div key={c} className="grid-cell" role="gridcell" style={{ width: widths[i] }}>
                  <input className="filter" placeholder="filter…" defaultValue={filterText(c)} aria-label={`Filter ${c}`} data-testid={`filter-${c}`}
                    onKeyDown={(e) => {
                      e.stopPropagation();
                      if (e.key === "Enter") p.onFilter?.(c, (e.target as HTMLInputElement).value);
                    }}
                    onBlur={(e) => {
                      if (e.target.value !== filterText(c)) p.onFilter?.(c, e.target.value);
                    }} />
                </div>
              ))}
            </div>
          )}
        </div>
        <div style={{ height: v.getTotalSize(), width, position: "relative" }}>
          {items.map((it) => (
            <GridRow key={it.key} index={it.index} start={it.start - headHeight} row={p.rows[it.index]} columns={p.columns} widths={widths} width={width} zone={zone}
              selected={it.index === p.selected} onSelect={p.onSelect} onActivate={p.onActivate} />
          ))}
        </div>
      </div>
    </div>
  );
});
