//! The app shell: sidebar of instances, the open view, dialogs, notifications.
import { AboutDialog } from "./about/AboutDialog";
import { startScenario } from "./factory/FactoryPanel";
import { useEffect, useState } from "react";
import { deferred } from "./views/deferred";
import { onRegistryChanged, type InstanceSpec } from "./platform";
import { Sidebar } from "./views/Sidebar";
import { TableView } from "./browse/TableView";
import { InstanceDialog } from "./views/InstanceDialog";
import { NewDatabaseDialog, NewTableDialog } from "./browse/TableDialogs";
import { Toasts } from "./components/Toasts";
import { ConfirmDialog } from "./components/ConfirmDialog";
import { startStatusPolling, useInstances } from "./stores/instances";
import { refreshInstance, startRecounting, startTreeRetry, useBrowse } from "./browse/store";
import { useZone, zoneLabel } from "./text/time";
import { describeError, toastError, useUi } from "./stores/ui";

// The views a first screen does not show are loaded when first opened: their code (CodeMirror,
// xyflow, the tail) would otherwise sit parsed in an idle studio's memory.
const Query = deferred(() => import("./query/QueryTab").then((m) => m.QueryTab));
const Tail = deferred(() => import("./tail/TailView").then((m) => m.TailView));
const Topology = deferred(() => import("./topology/TopologyView").then((m) => m.TopologyView));
/** The Cluster view's code is fetched and evaluated a second after start, not drawn: its first
 *  open then pays the drawing only. */
const PRELOAD_CLUSTER_AFTER_MS = 1000;

type Dialog =
  | { kind: "instance"; existing: InstanceSpec | null; preset?: { name: string; url: string } }
  | { kind: "database"; instance: string }
  | { kind: "table"; instance: string; database?: string }
  | { kind: "about" }
  | null;

export function App() {
  const { theme, setTheme } = useUi();
  const { view: registry, loadError, refresh, probeAll } = useInstances();
  const { view, loadTree } = useBrowse();
  const [dialog, setDialog] = useState<Dialog>(null);
  const zone = useZone((s) => s.zone);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const registerDraft = useUi((s) => s.registerDraft);
  useEffect(() => {
    if (!registerDraft) return;
    setDialog({ kind: "instance", existing: null, preset: registerDraft });
    useUi.getState().askRegister(null);
  }, [registerDraft]);

  useEffect(() => {
    const t = setTimeout(() => void Topology.preload().catch(() => undefined), PRELOAD_CLUSTER_AFTER_MS);
    return () => clearTimeout(t);
  }, []);

  useEffect(() => {
    const stop = startStatusPolling();
    const stopRetry = startTreeRetry();
    const stopRecounting = startRecounting();
    // F5 or Ctrl+R refreshes the instance in view (or every open one) instead of reloading
    // the window, which would lose every open view.
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "F5" && !((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "r")) return;
      e.preventDefault();
      const v = useBrowse.getState().view;
      const ids = "instance" in v ? [v.instance] : Object.keys(useBrowse.getState().expanded).filter((id) => useBrowse.getState().expanded[id]);
      for (const id of ids) void refreshInstance(id);
    };
    window.addEventListener("keydown", onKey);
    const un = onRegistryChanged(async () => {
      await refresh();
      await probeAll();
      for (const i of useInstances.getState().view?.instances ?? []) if (useBrowse.getState().expanded[i.id]) void loadTree(i.id);
    });
    return () => {
      stop();
      stopRetry();
      stopRecounting();
      window.removeEventListener("keydown", onKey);
      void un.then((f) => f());
    };
  }, [refresh, probeAll, loadTree]);

  const name = (id: string) => registry?.instances.find((i) => i.id === id)?.name ?? id;

  return (
    <div className="app">
      <header className="titlebar">
        <strong>Switchyard</strong>
        <span className="muted">studio</span>
        <div className="spacer" />
        {registry && !registry.keychainAvailable && (
          <span className="warn-chip" title={registry.keychainError ?? ""} data-testid="keychain-warning">
            No keychain: passwords of remote instances cannot be saved
          </span>
        )}
        <button onClick={() => useZone.getState().setZone(zone === "utc" ? "local" : "utc")} data-testid="zone-toggle"
          title="Show date-times in local time or in UTC (grid, forms, tail)">
          {zone === "utc" ? "UTC" : `Local time (${zoneLabel(Date.now(), "local")})`}
        </button>
        <button onClick={() => setTheme(theme === "dark" ? "light" : "dark")} data-testid="theme-toggle" title="Switch theme">
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
        <button onClick={() => setDialog({ kind: "about" })} data-testid="about-open" title="Version, and where data and logs are kept">About</button>
      </header>
      <div className="body">
        <Sidebar onAddRemote={() => setDialog({ kind: "instance", existing: null })} onEdit={(s) => setDialog({ kind: "instance", existing: s })}
          onNewDatabase={(instance) => setDialog({ kind: "database", instance })} onNewTable={(instance, database) => setDialog({ kind: "table", instance, database })} />
        <main className="main">
          {loadError && <div className="error-panel" role="alert">{describeError(loadError)}</div>}
          {view.kind === "table" && <TableView key={`${view.instance}/${view.database}/${view.table}`} instance={view.instance} database={view.database} table={view.table} />}
          {view.kind === "query" && <Query.View key={view.instance} instance={view.instance} name={name(view.instance)} />}
          {view.kind === "cluster" && <Topology.View />}
          {view.kind === "tail" && <Tail.View key={`tail/${view.instance}/${view.compare ? "compare" : "one"}`} instance={view.instance} channels={view.channels} compare={view.compare} />}
          {view.kind === "home" && (
            <section className="home" data-testid="home">
              <h1>Switchyard</h1>
              <p>Pick a table in the sidebar, or:</p>
              <ul>
                <li>register a remote switchyard-node or HarperDB instance with <b>+ Remote</b>,</li>
                <li>start a local instance with <b>+ Local</b>, or three with <b>Local cluster</b>,</li>
                <li>open an instance and use <b>SQL</b> for queries, or <b>Tail</b> to watch transactions arrive live,</li>
                <li>open <b>Cluster</b> to see every instance and link, and drag from one node to another to make data flow.</li>
              </ul>
              <p>
                New here? <button className="primary" onClick={() => { useBrowse.getState().open({ kind: "cluster" }); void startScenario((useInstances.getState().view?.instances ?? []).map((i) => i.name)).catch(toastError); }} data-testid="home-factory">Factory scenario</button>{" "}
                starts two edge nodes and a headquarters, links them and lets you run sensor load through them, in a minute.
              </p>
              <p className="muted">Keyboard: ↑↓ in the sidebar, → opens, Enter selects · in a table Ctrl+N new record, Enter edits, Del deletes, Ctrl+Home / Ctrl+End first / last page.</p>
            </section>
          )}
        </main>
      </div>
      {dialog?.kind === "instance" && <InstanceDialog existing={dialog.existing} preset={dialog.preset} keychainAvailable={registry?.keychainAvailable ?? false} onClose={() => setDialog(null)} />}
      {dialog?.kind === "database" && <NewDatabaseDialog instance={dialog.instance} onClose={() => setDialog(null)} />}
      {dialog?.kind === "about" && <AboutDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === "table" && <NewTableDialog instance={dialog.instance} database={dialog.database} onClose={() => setDialog(null)} />}
      <ConfirmDialog />
      <Toasts />
    </div>
  );
}
