//! The one gateway to the native side: typed wrappers over Tauri's invoke and events.
//! Nothing else in the UI imports @tauri-apps/*.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  InstanceInput,
  InstanceSpec,
  InstanceStatus,
  LocalCredentials,
  LocalState,
  NewTable,
  Page,
  PageRequest,
  RegistryView,
  SqlResult,
  TreeDatabase,
  TreeTable,
  UiError,
  WriteMode,
  WriteReport,
} from "./ipc";

export type * from "./ipc";

/** Every failure from the native side arrives as `{code, message}`. */
export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return { code: String((e as UiError).code), message: String((e as UiError).message) };
  }
  return { code: "internal", message: e instanceof Error ? e.message : String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asUiError(e);
  }
}

export const native = {
  registryView: () => call<RegistryView>("registry_view"),
  saveInstance: (input: InstanceInput) => call<InstanceSpec>("instance_save", { input }),
  removeInstance: (id: string) => call<void>("instance_remove", { id }),
  testInstance: (input: InstanceInput) => call<InstanceStatus>("instance_test", { input }),
  instanceStatus: (id: string) => call<InstanceStatus>("instance_status", { id }),
  createLocal: (name: string) => call<InstanceSpec>("local_create", { name }),
  createLocalCluster: () => call<InstanceSpec[]>("local_cluster"),
  startLocal: (id: string) => call<LocalState>("local_start", { id }),
  stopLocal: (id: string) => call<LocalState>("local_stop", { id }),
  localStates: () => call<LocalState[]>("local_states"),
  localCredentials: (id: string) => call<LocalCredentials>("local_credentials", { id }),
  tree: (id: string) => call<TreeDatabase[]>("tree", { id }),
  tableInfo: (id: string, database: string, table: string) => call<TreeTable>("table_info", { id, database, table }),
  page: (id: string, request: PageRequest) => call<Page>("page", { id, request }),
  writeRecords: (id: string, database: string, table: string, mode: WriteMode, records: unknown[]) =>
    call<WriteReport>("write_records", { id, database, table, mode, records }),
  deleteRecords: (id: string, database: string, table: string, keys: unknown[]) =>
    call<WriteReport>("delete_records", { id, database, table, keys }),
  runSql: (id: string, sql: string) => call<SqlResult>("run_sql", { id, sql }),
  createDatabase: (id: string, database: string) => call<string>("create_database", { id, database }),
  dropDatabase: (id: string, database: string) => call<string>("drop_database", { id, database }),
  createTable: (id: string, table: NewTable) => call<string>("create_table", { id, table }),
  dropTable: (id: string, database: string, table: string) => call<string>("drop_table", { id, database, table }),
  exportFile: (name: string, contents: string) => call<string>("export_file", { name, contents }),
};

/** The native side says instances changed (local ones started on launch, for example). */
export function onRegistryChanged(f: () => void): Promise<UnlistenFn> {
  return listen("registry-changed", () => f());
}
