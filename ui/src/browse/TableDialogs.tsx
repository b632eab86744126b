//! Create a database or a table.
import { useState } from "react";
import { native } from "../platform";
import { toastError, useUi } from "../stores/ui";
import { useBrowse } from "./store";
import { Modal } from "../components/Modal";

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function NewDatabaseDialog({ instance, onClose }: { instance: string; onClose: () => void }) {
  const [name, setName] = useState("");
  const [err, setErr] = useState("");
  const loadTree = useBrowse((s) => s.loadTree);
  const { toast } = useUi();
  const save = async () => {
    if (!NAME.test(name)) return setErr("letters, digits, _ and -, not starting with a digit");
    try {
      toast(await native.browse_create_database(instance, name));
      await loadTree(instance);
      onClose();
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <Modal title="New database" onClose={onClose} onSubmit={save} testId="new-database">
      <label className="form-row"><span>Name</span><input value={name} onChange={(e) => setName(e.target.value)} data-testid="database-name" /></label>
      {err && <em className="field-error">{err}</em>}
      <footer className="modal-actions"><div className="spacer" /><button type="button" onClick={onClose}>Cancel</button><button type="submit" className="primary" data-testid="create-database">Create</button></footer>
    </Modal>
  );
}

export function NewTableDialog({ instance, database, onClose }: { instance: string; database?: string; onClose: () => void }) {
  const [db, setDb] = useState(database ?? "data");
  const [table, setTable] = useState("");
  const [pk, setPk] = useState("id");
  const [expiration, setExpiration] = useState("");
  const [err, setErr] = useState("");
  const { loadTree, open } = useBrowse();
  const { toast } = useUi();
  const save = async () => {
    if (!NAME.test(db)) return setErr("the database name may use letters, digits, _ and -");
    if (!NAME.test(table)) return setErr("the table name may use letters, digits, _ and -");
    if (!NAME.test(pk)) return setErr("the primary key name may use letters, digits, _ and -");
    const exp = expiration.trim() ? Number(expiration) : undefined;
    if (exp !== undefined && (!Number.isInteger(exp) || exp <= 0)) return setErr("expiration is a whole number of seconds");
    try {
      toast(await native.browse_create_table(instance, { database: db, table, primaryKey: pk, expiration: exp }));
      await loadTree(instance);
      open({ kind: "table", instance, database: db, table });
      onClose();
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <Modal title="New table" onClose={onClose} onSubmit={save} testId="new-table">
      <label className="form-row"><span>Database</span><input value={db} onChange={(e) => setDb(e.target.value)} data-testid="table-database" /></label>
      <label className="form-row"><span>Table</span><input value={table} onChange={(e) => setTable(e.target.value)} data-testid="table-name" /></label>
      <label className="form-row"><span>Primary key</span><input value={pk} onChange={(e) => setPk(e.target.value)} data-testid="table-pk" /></label>
      <label className="form-row"><span>Expiration (s)</span><input value={expiration} onChange={(e) => setExpiration(e.target.value)} placeholder="optional: records expire after" inputMode="numeric" /></label>
      {err && <em className="field-error" role="alert">{err}</em>}
      <footer className="modal-actions"><div className="spacer" /><button type="button" onClick={onClose}>Cancel</button><button type="submit" className="primary" data-testid="create-table">Create</button></footer>
    </Modal>
  );
}
