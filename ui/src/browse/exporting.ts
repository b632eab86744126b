//! Serialising the rows in view for export.
import Papa from "papaparse";
import type { Row } from "../grid/paging";

export function toCsv(columns: string[], rows: Row[]): string {
  const data = rows.map((r) => columns.map((c) => {
    const v = r[c];
    return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
  }));
  return Papa.unparse({ fields: columns, data });
}
