//! Add or edit one record: typed inputs inferred from the table's values, or raw JSON.
import { useMemo, useState } from "react";
import { native, type TreeTable } from "../platform";
import { buildRecord, inferFields, parseRawRecord, toInput, type Field } from "../forms/infer";
import { dateTime, zoneLabel, useZone } from "../text/time";
import type { Row } from "../grid/paging";
import { toastError, useUi } from "../stores/ui";
import { Modal } from "../components/Modal";

interface Props {
  instance: string;
  database: string;
  table: string;
  info: TreeTable;
  record: Row | null;
  sample: Row[];
  /** The grid's columns, in the order the user sees them. */
  columns?: string[];
  onClose: () => void;
  /** Saved: the record's key (the one the server gave a new record). */
  onSaved: (key: unknown) => void;
  onDelete?: () => void;
}

export function RecordForm({ instance, database, table, info, record, sample, columns, onClose, onSaved, onDelete }: Props) {
  const editing = record !== null;
  const zone = useZone((s) => s.zone);
  const pk = info.primaryKey;
  const fields = useMemo(() => inferFields(info.attributes, pk, record ? [record, ...sample] : sample, editing, columns), [info, pk, record, sample, editing, columns]);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.attribute, record ? toInput(f.kind, record[f.attribute]) : ""])),
  );
  const [extra, setExtra] = useState<{ name: string; kind: Field["kind"] }[]>([]);
  const [raw, setRaw] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const { toast } = useUi();

  const allFields: Field[] = [...fields, ...extra.filter((x) => x.name.trim()).map((x) => ({ attribute: x.name.trim(), kind: x.kind, readOnly: false }))];

  const toRaw = () => {
    const { record: r } = buildRecord(allFields, texts, pk, editing, record ?? undefined);
    setRaw(JSON.stringify(r, null, 2));
  };

  const save = async () => {
    let out: Record<string, unknown>;
    if (raw !== null) {
      const p = parseRawRecord(raw);
      if (!p.ok) return setErrors({ __raw: p.error });
      out = p.record;
      if (editing) out[pk] = record![pk];
    } else {
      const b = buildRecord(allFields, texts, pk, editing, record ?? undefined);
      setErrors(b.errors);
      if (Object.keys(b.errors).length) return;
      out = b.record;
    }
    setSaving(true);
    try {
      const r = await native.browse_write(instance, database, table, editing ? "update" : "insert", [out]);
      if (r.skippedKeys.length) {
        setErrors({ __raw: editing ? "the record no longer exists (deleted meanwhile?)" : `a record with ${pk} = ${JSON.stringify(r.skippedKeys[0])} already exists` });
        return;
      }
      if (r.notice) toast(r.notice);
      else toast(editing ? `Saved ${pk} = ${JSON.stringify(out[pk])}` : `Added ${pk} = ${JSON.stringify(r.writtenKeys[0])}`);
      onSaved(editing ? out[pk] : r.writtenKeys[0]);
    } catch (e) {
      toastError(e);
    } finally {
      setSaving(false);
    }
  };

  const input = (f: Field) => {
    const common = {
      id: `field-${f.attribute}`,
      "data-testid": `field-${f.attribute}`,
      "aria-label": f.attribute,
      disabled: f.readOnly,
      value: texts[f.attribute] ?? "",
      onChange: (e: { target: { value: string } }) => setTexts({ ...texts, [f.attribute]: e.target.value }),
    };
    switch (f.kind) {
      case "boolean":
        return (
          <select {...common}>
            <option value="">—</option>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        );
      case "number":
        return <input {...common} inputMode="decimal" />;
      case "datetime":
        // Read-only dates read as the grid shows them, with the zone they are in.
        if (f.readOnly) {
          const v = record?.[f.attribute];
          const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
          return <input {...common} value={Number.isNaN(ms) ? "" : `${dateTime(ms, zone)} ${zoneLabel(ms, zone)}`} readOnly />;
        }
        // The browser's date-time input has no zone: it is local time, and says so.
        return (
          <span className="datetime-field">
            <input {...common} type="datetime-local" step="1" className={common.value === "" ? "empty" : ""} />
            <span className="muted small">local time, {zoneLabel(Date.now(), "local")}</span>
          </span>
        );
      case "json":
        return <textarea {...common} rows={3} spellCheck={false} />;
      default:
        return <input {...common} placeholder={f.attribute === pk && !editing ? "left empty, the server makes a key" : ""} />;
    }
  };

  return (
    <Modal title={editing ? `Edit ${database}.${table}` : `New record in ${database}.${table}`} onClose={onClose} testId="record-form" onSubmit={save}>
      <div className="tabs">
        <button type="button" className={raw === null ? "active" : ""} onClick={() => setRaw(null)}>Form</button>
        <button type="button" className={raw !== null ? "active" : ""} onClick={toRaw} data-testid="raw-mode">Raw JSON</button>
      </div>
      {raw === null ? (
        <div className="form-grid">
          {fields.map((f) => (
            <label key={f.attribute} className="form-row">
              <span>
                {f.attribute} <small className="muted">{f.guessed && f.kind === "text" ? "auto" : f.kind}</small>
              </span>
              {input(f)}
              {errors[f.attribute] && <em className="field-error" role="alert">{errors[f.attribute]}</em>}
            </label>
          ))}
          {extra.map((x, i) => {
            const attr = x.name.trim();
            return (
              <div key={i} className="form-row">
                <span className="new-attr">
                  <input placeholder="new attribute" value={x.name} data-testid={`new-attr-${i}`} aria-label="New attribute name"
                    onChange={(e) => setExtra(extra.map((y, j) => (j === i ? { ...y, name: e.target.value } : y)))} />
                  <select value={x.kind} aria-label="Type" onChange={(e) => setExtra(extra.map((y, j) => (j === i ? { ...y, kind: e.target.value as Field["kind"] } : y)))}>
                    {["text", "number", "boolean", "datetime", "json"].map((k) => <option key={k}>{k}</option>)}
                  </select>
                </span>
                {attr ? input({ attribute: attr, kind: x.kind, readOnly: false }) : <span className="muted small">name it first</span>}
                {attr && errors[attr] && <em className="field-error" role="alert">{errors[attr]}</em>}
              </div>
            );
          })}
          <button type="button" className="link" onClick={() => setExtra([...extra, { name: "", kind: "text" }])} data-testid="add-attribute">+ attribute</button>
        </div>
      ) : (
        <textarea className="raw" rows={16} spellCheck={false} value={raw} onChange={(e) => setRaw(e.target.value)} data-testid="raw-json" />
      )}
      {errors.__raw && <p className="field-error" role="alert" data-testid="form-error">{errors.__raw}</p>}
      <footer className="modal-actions">
        {onDelete && <button type="button" className="danger" onClick={onDelete} data-testid="delete-record">Delete…</button>}
        <div className="spacer" />
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" className="primary" disabled={saving} data-testid="save-record">{saving ? "Saving…" : "Save"}</button>
      </footer>
    </Modal>
  );
}
