//! The sidebar: instances with live status, their databases and tables, keyboard-navigable.
import { useCallback, useEffect, useState } from "react";
import { native, type InstanceSpec, type LocalCredentials } from "../platform";
import { Modal } from "../components/Modal";
import { ContextMenu, type MenuAt, type MenuItem } from "../components/ContextMenu";
import { switchLocal, useInstances } from "../stores/instances";
import { refreshInstance, useBrowse } from "../browse/store";
import { describeError, toastError, useUi } from "../stores/ui";
import { grouped } from "../text/count";

interface Props {
  onAddRemote: () => void;
  onEdit: (spec: InstanceSpec) => void;
  onNewDatabase: (instance: string) => void;
  onNewTable: (instance: string, database?: string) => void;
}

/** Arrow keys move between the rows (one Tab stop for the whole tree: a roving tabindex); Right
 * and Left open and close; Enter opens. */
function navKey(e: React.KeyboardEvent<HTMLElement>) {
  const items = Array.from(e.currentTarget.querySelectorAll<HTMLElement>("[data-nav]"));
  const i = items.indexOf(document.activeElement as HTMLElement);
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
    next?.focus();
  } else if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && i >= 0) {
    const el = items[i];
    const open = el.getAttribute("aria-expanded");
    if ((e.key === "ArrowRight" && open === "false") || (e.key === "ArrowLeft" && open === "true")) {
      e.preventDefault();
      el.click();
    }
  }
}

export function Sidebar({ onAddRemote, onEdit, onNewDatabase, onNewTable }: Props) {
  const { view: registry, statuses, locals, refresh } = useInstances();
  const { trees, expanded, toggle, loadTree, open, view } = useBrowse();
  const { ask, toast } = useUi();
  const [creds, setCreds] = useState<(LocalCredentials & { name: string }) | null>(null);
  // The row that holds the tree's one Tab stop (the last one focused); its actions are in the
  // Tab order too, every other row's are reached by arrows, then Tab.
  const [current, setCurrent] = useState<string | null>(null);
  // A removed instance takes the Tab stop with it: the first instance has it again.
  useEffect(() => {
    if (current === null || !registry) return;
    const id = current.startsWith("i:") ? current.slice(2) : current.split("/")[0];
    if (!registry.instances.some((i) => i.id === id)) setCurrent(null);
  }, [current, registry]);
  // Destructive actions (Remove, Drop) live in a menu: right-click a row, or its "⋯".
  const [menu, setMenu] = useState<MenuAt | null>(null);
  const closeMenu = useCallback(() => setMenu(null), []);
  const menuAt = (e: React.MouseEvent, items: MenuItem[]) => {
    e.preventDefault();
    e.stopPropagation();
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    // A right-click opens where the pointer is; a button opens below itself.
    setMenu(e.type === "contextmenu" ? { x: e.clientX, y: e.clientY, items } : { x: r.left, y: r.bottom + 2, items });
  };

  // Expanded instances load their tree; a status change (back online) reloads it.
  useEffect(() => {
    for (const i of registry?.instances ?? []) {
      if (expanded[i.id] && !trees[i.id] && statuses[i.id]?.online) void loadTree(i.id);
    }
  }, [registry, expanded, statuses, trees, loadTree]);

  const remove = async (spec: InstanceSpec) => {
    const local = spec.kind === "local";
    const ok = await ask({
      title: `Remove ${spec.name}`,
      body: local ? `Stop the local instance “${spec.name}” and delete its data? This cannot be undone.` : `Forget “${spec.name}” (${spec.url}) and its stored password? The server itself is not changed.`,
      confirmLabel: local ? "Delete instance and data" : "Remove",
      danger: true,
    });
    if (!ok) return;
    try {
      await native.instance_remove(spec.id);
      if ("instance" in view && view.instance === spec.id) open({ kind: "home" });
      toast(`Removed ${spec.name}`);
      await refresh();
    } catch (e) {
      toastError(e);
    }
  };

  const switching = useInstances((s) => s.switching);
  const startStop = async (spec: InstanceSpec) => {
    await switchLocal(spec.id, !locals[spec.id]?.running, toastError);
    if (expanded[spec.id]) void loadTree(spec.id);
  };

  const dropTable = async (instance: string, database: string, table: string) => {
    if (!(await ask({ title: "Drop table", body: `Drop ${database}.${table} and all its records? This cannot be undone.`, confirmLabel: "Drop table", danger: true }))) return;
    try {
      toast(await native.browse_drop_table(instance, database, table));
      if (view.kind === "table" && view.instance === instance && view.database === database && view.table === table) open({ kind: "home" });
      await loadTree(instance);
    } catch (e) {
      toastError(e);
    }
  };

  const dropDatabase = async (instance: string, database: string) => {
    if (!(await ask({ title: "Drop database", body: `Drop the database ${database} with all its tables and records? This cannot be undone.`, confirmLabel: "Drop database", danger: true }))) return;
    try {
      toast(await native.browse_drop_database(instance, database));
      await loadTree(instance);
    } catch (e) {
      toastError(e);
    }
  };

  const instanceItems = (spec: InstanceSpec): MenuItem[] => [
    { label: "Refresh", run: () => void refreshInstance(spec.id) },
    { label: "Edit…", run: () => onEdit(spec) },
    { label: spec.kind === "local" ? "Delete instance and data…" : "Remove…", run: () => void remove(spec), danger: true, testId: "remove-instance" },
  ];
  const dbItems = (instance: string, database: string): MenuItem[] => [
    { label: "New table…", run: () => onNewTable(instance, database) },
    { label: "Drop database…", run: () => void dropDatabase(instance, database), danger: true, testId: "drop-database" },
  ];
  const tableItems = (instance: string, database: string, table: string): MenuItem[] => [
    { label: "Open", run: () => open({ kind: "table", instance, database, table }) },
    { label: "Drop table…", run: () => void dropTable(instance, database, table), danger: true, testId: "drop-table" },
  ];

  return (
    <nav className="sidebar" aria-label="Instances" onKeyDown={navKey}>
      {menu && <ContextMenu menu={menu} onClose={closeMenu} />}
      <div className="sidebar-actions">
        <button onClick={onAddRemote} data-testid="add-remote" title="Register a remote instance">+ Remote</button>
        <button onClick={() => native.local_create(`local-${(registry?.instances.filter((i) => i.kind === "local").length ?? 0) + 1}`).then(refresh, toastError)} data-testid="add-local" title="Start a new local switchyard-node">+ Local</button>
        <button onClick={() => native.local_cluster().then((made) => { toast(made.length ? `Started ${made.map((m) => m.name).join(", ")}` : "The local cluster already exists"); return refresh(); }, toastError)} data-testid="local-cluster" title="edge-1, edge-2 and hq, for topology work">Local cluster</button>
        <button onClick={() => open({ kind: "cluster" })} className={view.kind === "cluster" ? "primary" : ""} data-testid="open-cluster" title="See and wire the cluster's topology">Cluster</button>
      </div>
      {registry && registry.instances.length === 0 && <p className="muted pad">No instances yet. Register a remote one or start a local one.</p>}
      <ul className="tree" aria-label="Instances, databases and tables">
        {registry?.instances.map((spec, index) => {
          const st = statuses[spec.id];
          const local = locals[spec.id];
          const isOpen = !!expanded[spec.id];
          const tree = trees[spec.id];
          const state = !st ? "unknown" : st.online && !st.error ? "online" : st.online ? "warn" : "offline";
          const detail = st?.error ? describeError(st.error) : st ? `${st.serverKind ?? ""} ${st.version ?? ""} · ${st.latencyMs?.toFixed(1)} ms` : "checking…";
          // The Tab stop: the current row, else this instance's row when the current one is
          // inside it and hidden (or gone), else the first instance.
          // A row holds it when it is current, or when the current row is hidden inside it.
          const inside = (prefix: string, shown: boolean) => current !== null && !shown && current.startsWith(prefix);
          const stop = (key: string, prefix?: string, shown = true) =>
            current === key || (prefix !== undefined && inside(prefix, shown)) || (key === `i:${spec.id}` && current === null && index === 0) ? 0 : -1;
          const own = (key: string) => (current === key ? 0 : -1);
          return (
            <li key={spec.id} data-testid={`instance-${spec.name}`}>
              <div className="tree-row instance" role="button" tabIndex={stop(`i:${spec.id}`, `${spec.id}/`, isOpen)} data-nav aria-expanded={isOpen}
                aria-label={`${spec.name}, ${spec.kind} instance, ${state}`}
                onFocus={() => setCurrent(`i:${spec.id}`)}
                onContextMenu={(e) => menuAt(e, instanceItems(spec))}
                onClick={() => { toggle(spec.id); if (!isOpen) void loadTree(spec.id); }}
                onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); (e.currentTarget as HTMLElement).click(); } }}>
                <span className={`dot ${state}`} title={state} data-testid="status-dot" data-state={state} />
                <span className="name">{spec.name}</span>
                <span className="badge">{spec.kind}</span>
              </div>
              <div className="instance-detail muted" title={detail} data-testid="instance-status">{detail}</div>
              {local?.error && <div className="field-error small">{local.error}</div>}
              {isOpen && (
                <div className="instance-actions" role="group" aria-label={`${spec.name} actions`} onKeyDown={(e) => e.stopPropagation()}>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => open({ kind: "query", instance: spec.id })} data-testid="open-sql">SQL</button>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => open({ kind: "tail", instance: spec.id, channels: [] })} data-testid="open-tail" title="Watch transactions arrive live">Tail</button>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => onNewTable(spec.id)} data-testid="new-table-button">+ Table</button>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => onNewDatabase(spec.id)}>+ Database</button>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => onEdit(spec)} data-testid="edit-instance">Edit</button>
                  <button tabIndex={own(`i:${spec.id}`)} onClick={() => void refreshInstance(spec.id)} data-testid="refresh-instance" title="Read its status and tree again (F5, Ctrl+R)">Refresh</button>
                  {spec.kind === "local" && (
                    <button tabIndex={own(`i:${spec.id}`)} onClick={() => void startStop(spec)} data-testid="start-stop" disabled={!!switching[spec.id]} aria-busy={!!switching[spec.id]}>
                      {switching[spec.id] === "stopping" ? "Stopping…" : switching[spec.id] === "starting" ? "Starting…" : local?.running ? "Stop" : "Start"}
                    </button>
                  )}
                  {spec.kind === "local" && local?.running && (
                    <button tabIndex={own(`i:${spec.id}`)} onClick={() => native.local_credentials(spec.id).then((c) => setCreds({ ...c, name: spec.name }), toastError)} data-testid="local-credentials">Credentials</button>
                  )}
                  <button tabIndex={own(`i:${spec.id}`)} onClick={(e) => menuAt(e, instanceItems(spec))} data-testid="instance-menu" aria-haspopup="menu" title="More actions (or right-click the instance)">⋯</button>
                </div>
              )}
              {isOpen && tree?.error && <div className="field-error small pad" role="alert" data-testid="tree-error">{describeError(tree.error)}</div>}
              {isOpen && tree?.loading && !tree.dbs && <div className="muted small pad">loading…</div>}
              {isOpen && tree?.dbs && (
                <ul aria-label={`databases of ${spec.name}`}>
                  {tree.dbs.length === 0 && <li className="muted small pad">no databases</li>}
                  {tree.dbs.map((db) => {
                    const dbKey = `${spec.id}/${db.name}`;
                    const dbOpen = expanded[dbKey] ?? true;
                    return (
                      <li key={db.name}>
                        <div className="tree-line">
                          <div className="tree-row db" role="button" tabIndex={stop(dbKey, `${dbKey}/`, dbOpen)} data-nav aria-expanded={dbOpen} onClick={() => toggle(dbKey, !dbOpen)} data-testid={`db-${db.name}`}
                            aria-label={`database ${db.name}`} onFocus={() => setCurrent(dbKey)}
                            onContextMenu={(e) => menuAt(e, dbItems(spec.id, db.name))}
                            onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); (e.currentTarget as HTMLElement).click(); } }}>
                            <span className="caret" aria-hidden>{dbOpen ? "▾" : "▸"}</span> {db.name}
                          </div>
                          <span className="row-actions">
                            <button tabIndex={own(dbKey)} title="New table" aria-label={`New table in ${db.name}`} onClick={(e) => { e.stopPropagation(); onNewTable(spec.id, db.name); }}>+</button>
                            <button tabIndex={own(dbKey)} title="More actions" aria-label={`More actions on ${db.name}`} aria-haspopup="menu" data-testid={`db-menu-${db.name}`} onClick={(e) => menuAt(e, dbItems(spec.id, db.name))}>⋯</button>
                          </span>
                        </div>
                        {dbOpen && (
                          <ul aria-label={`tables of ${db.name}`}>
                            {db.tables.length === 0 && (
                              <li className="muted small pad" data-testid={`no-tables-${db.name}`}>
                                no tables · <button className="link" tabIndex={own(dbKey)} onClick={() => onNewTable(spec.id, db.name)}>create one</button>
                              </li>
                            )}
                            {db.tables.map((t) => {
                              const active = view.kind === "table" && view.instance === spec.id && view.database === db.name && view.table === t.name;
                              const tableKey = `${dbKey}/${t.name}`;
                              return (
                                <li key={t.name}>
                                  <div className={"tree-line" + (active ? " active" : "")}>
                                    <div className={"tree-row table" + (active ? " active" : "")} role="button" tabIndex={stop(tableKey)} data-nav data-testid={`table-${db.name}-${t.name}`}
                                      aria-current={active ? "page" : undefined} onFocus={() => setCurrent(tableKey)}
                                      onContextMenu={(e) => menuAt(e, tableItems(spec.id, db.name, t.name))}
                                      onClick={() => open({ kind: "table", instance: spec.id, database: db.name, table: t.name })}
                                      onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open({ kind: "table", instance: spec.id, database: db.name, table: t.name }); } }}>
                                      <span className="name">{t.name}</span>
                                      <span className="count" title={t.recordCountEstimated ? "an estimate (HarperDB stops counting after 500 ms)" : undefined}>{t.recordCount != null ? `${t.recordCountEstimated ? "≈" : ""}${grouped(t.recordCount)}` : ""}</span>
                                    </div>
                                    <span className="row-actions">
                                      <button tabIndex={own(tableKey)} title="More actions" aria-label={`More actions on ${t.name}`} aria-haspopup="menu" data-testid={`table-menu-${db.name}-${t.name}`} onClick={(e) => menuAt(e, tableItems(spec.id, db.name, t.name))}>⋯</button>
                                    </span>
                                  </div>
                                </li>
                              );
                            })}
                          </ul>
                        )}
                      </li>
                    );
                  })}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
      {creds && (
        <Modal title={`Connect to ${creds.name}`} onClose={() => setCreds(null)} onSubmit={() => setCreds(null)} testId="credentials">
          <p className="muted">For curl, other tools or another studio. The password is made at each launch and kept only in memory.</p>
          <label className="form-row"><span>URL</span><input readOnly value={creds.url} onFocus={(e) => e.target.select()} /></label>
          <label className="form-row"><span>User</span><input readOnly value={creds.username} onFocus={(e) => e.target.select()} /></label>
          <label className="form-row"><span>Password</span><input readOnly value={creds.password} onFocus={(e) => e.target.select()} data-testid="credentials-password" /></label>
          <footer className="modal-actions"><div className="spacer" /><button type="submit" className="primary">Close</button></footer>
        </Modal>
      )}
    </nav>
  );
}
