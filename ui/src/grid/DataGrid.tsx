//! A virtualized grid: only the rows in view are in the DOM, whatever the row count.
import { memo, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ColumnFilter, SortSpec } from "../platform";
import type { Row } from "./paging";

export const ROW_HEIGHT = 28;
const COL_WIDTH = 180;

const TIMESTAMPS = ["__createdtime__", "__updatedtime__"];

/** Server timestamps (epoch ms) read as local date-times. */
export function cellText(v: unknown, column?: string): string {
  if (v === null || v === undefined) return "";
  if (column && TIMESTAMPS.includes(column) && typeof v === "number") {
    const d = new Date(v);
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }
  if (typeof v === "object") {
    const s = JSON.stringify(v);
    return s.length > 200 ? s.slice(0, 200) + "…" : s;
  }
  return String(v);
}

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
}

interface RowProps {
  index: number;
  start: number;
  row: Row;
  columns: string[];
  width: number;
  selected: boolean;
  onSelect: (i: number) => void;
  onActivate?: (i: number) => void;
}

/** One row; memoized so that scrolling re-renders only the rows that come into view. */
const GridRow = memo(function GridRow({ index, start, row, columns, width, selected, onSelect, onActivate }: RowProps) {
  return (
    <div className={"grid-row" + (selected ? " selected" : "")} role="row" data-index={index}
      style={{ position: "absolute", top: 0, transform: `translateY(${start}px)`, height: ROW_HEIGHT, width }}
      onClick={() => onSelect(index)} onDoubleClick={() => onActivate?.(index)}>
      {columns.map((c) => (
        <div key={c} className="grid-cell" role="gridcell" style={{ width: COL_WIDTH }}>
          {cellText(row[c], c)}
        </div>
      ))}
    </div>
  );
});

/** Memoized: a parent re-render with the same rows and callbacks does not re-render the rows. */
export const DataGrid = memo(function DataGrid(p: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLDivElement>(null);
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
  useEffect(() => {
    onRange?.(first, last);
  }, [first, last, onRange]);
  useEffect(() => {
    const c = p.scroll;
    if (!c || !scroller.current) return;
    if (c.to !== undefined) reveal(c.to);
    else if (c.by) scroller.current.scrollTop += c.by * ROW_HEIGHT;
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

  const width = Math.max(1, p.columns.length) * COL_WIDTH;
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
            {p.columns.map((c) => {
              const sorted = p.sort?.attribute === c ? (p.sort.descending ? " ▼" : " ▲") : "";
              return (
                <div key={c} className="grid-cell head" role="columnheader" style={{ width: COL_WIDTH }} title={p.onSort ? `Sort by ${c}` : c}
                  onClick={() => p.onSort?.(c)} data-testid={`col-${c}`}>
                  {c}
                  {sorted}
                </div>
              );
            })}
          </div>
          {p.onFilter && (
            <div className="grid-row filters" role="row">
              {p.columns.map((c) => (
                <div key={c} className="grid-cell" style={{ width: COL_WIDTH }}>
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
            <GridRow key={it.key} index={it.index} start={it.start - headHeight} row={p.rows[it.index]} columns={p.columns} width={width}
              selected={it.index === p.selected} onSelect={p.onSelect} onActivate={p.onActivate} />
          ))}
        </div>
      </div>
    </div>
  );
});
