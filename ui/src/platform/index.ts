//! The one gateway to the native side: typed wrappers over Tauri's invoke and events.
//! Nothing else in the UI imports @tauri-apps/*.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Commands } from "./commands";
import { ERROR_CODES } from "./ipc";
import type { ErrorCode, InstanceInput, JsonValue, LinkRequest, NewTable, NodePositions, PageRequest, TailAction, TailRequest, TailUpdate, ErrorBody, CompareUpdate, VerifyRequest, WriteMode } from "./ipc";

export type * from "./ipc";

/** A code from the native side, or `internal` for anything that is not one of ours. */
function asErrorCode(code: unknown): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(String(code)) ? (code as ErrorCode) : "internal";
}

/** Every failure from the native side arrives as `{code, message}`. */
export function asErrorBody(e: unknown): ErrorBody {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return { code: asErrorCode((e as ErrorBody).code), message: String((e as ErrorBody).message) };
  }
  return { code: "internal", message: e instanceof Error ? e.message : String(e) };
}

/** Invokes a command with the arguments and result generated from Rust (commands.ts). */
async function call<K extends keyof Commands>(cmd: K, args: Commands[K]["args"]): Promise<Commands[K]["returns"]> {
  try {
    return await invoke<Commands[K]["returns"]>(cmd, args);
  } catch (e) {
    throw asErrorBody(e);
  }
}

export const native = {
  registryView: () => call("registry_view", {}),
  saveInstance: (input: InstanceInput) => call("instance_save", { input }),
  removeInstance: (id: string) => call("instance_remove", { id }),
  testInstance: (input: InstanceInput) => call("instance_test", { input }),
  instanceStatus: (id: string) => call("instance_status", { id }),
  createLocal: (name: string) => call("local_create", { name }),
  createLocalCluster: () => call("local_cluster", {}),
  startLocal: (id: string) => call("local_start", { id }),
  stopLocal: (id: string) => call("local_stop", { id }),
  localStates: () => call("local_states", {}),
  localCredentials: (id: string) => call("local_credentials", { id }),
  tree: (id: string) => call("tree", { id }),
  tableInfo: (id: string, database: string, table: string) => call("table_info", { id, database, table }),
  page: (id: string, request: PageRequest) => call("page", { id, request }),
  // Records and keys come from forms, grids and parsed files: JSON by construction.
  writeRecords: (id: string, database: string, table: string, mode: WriteMode, records: unknown[]) =>
    call("write_records", { id, database, table, mode, records: records as JsonValue[] }),
  deleteRecords: (id: string, database: string, table: string, keys: unknown[]) =>
    call("delete_records", { id, database, table, keys: keys as JsonValue[] }),
  runSql: (id: string, sql: string) => call("run_sql", { id, sql }),
  createDatabase: (id: string, database: string) => call("create_database", { id, database }),
  dropDatabase: (id: string, database: string) => call("drop_database", { id, database }),
  createTable: (id: string, table: NewTable) => call("create_table", { id, table }),
  dropTable: (id: string, database: string, table: string) => call("drop_table", { id, database, table }),
  exportFile: (name: string, contents: string) => call("export_file", { name, contents }),
  tailStop: (tail: string) => call("tail_stop", { tail }),
  /** Opens a tail kept in the studio; what the window shows of it (the counts and the rows of
   * its port) arrives a few times a second, never per record. */
  tailOpen: (id: string, request: TailRequest, onUpdate: (update: TailUpdate) => void) => {
    const updates = new Channel<TailUpdate>();
    updates.onmessage = onUpdate;
    return call("tail_open", { id, request, updates });
  },
  /** Pauses, resumes, clears, filters an open tail or moves its port; answers what it shows. */
  tailAct: (tail: string, action: TailAction) => call("tail_act", { tail, action }),
  /** A transaction of an open tail, whole, while the tail holds it. */
  tailRecord: (tail: string, seq: number) => call("tail_record", { tail, seq }),
  /** Writes what an open tail shows (its filter applied) as NDJSON into the exports folder;
   * `onProgress` hears the share written. */
  tailExport: (tail: string, name: string, onProgress: (done: number) => void) => {
    const progress = new Channel<number>();
    progress.onmessage = onProgress;
    return call("tail_export", { tail, name, progress });
  },
  /** Tails one channel on several instances, lined up (origin, origin id) in the studio; what
   * the window shows of it arrives a few times a second. */
  compareOpen: (instances: string[], channel: string, onUpdate: (update: CompareUpdate) => void) => {
    const updates = new Channel<CompareUpdate>();
    updates.onmessage = onUpdate;
    return call("compare_open", { instances, channel, updates });
  },
  /** The rows (newest first) a comparison's window shows; answers what it shows then. */
  comparePort: (compare: string, first: number, count: number) => call("compare_port", { compare, first, count }),
  /** Stops an open tail or comparison and forgets what it held. */
  tailClose: (tail: string) => call("tail_close", { tail }),
  /** Has a HarperDB instance publish these tables (a component, then a restart of its HTTP workers). */
  harperdbExport: (id: string, channels: string[]) => call("harperdb_export", { id, channels }),
  factorySetup: (rawExpirationS: number) => call("factory_setup", { rawExpirationS }),
  factoryLoadStart: (rate: number) => call("factory_load_start", { rate }),
  factoryLoadStats: () => call("factory_load_stats", {}),
  factoryLoadStop: () => call("factory_load_stop", {}),
  factoryCheck: () => call("factory_check", {}),
  factoryRemove: () => call("factory_remove", {}),
  topology: () => call("topology", {}),
  planLink: (request: LinkRequest) => call("plan_link", { request }),
  planUnlink: (dialer: string, linkName: string) => call("plan_unlink", { dialer, linkName }),
  applyPlan: (plan: string) => call("apply_plan", { plan }),
  dropPlan: (plan: string) => call("drop_plan", { plan }),
  /** Verifies channels across instances (digests, then the differing records with their winner). */
  verifyRun: (request: VerifyRequest, onProgress: (done: number) => void = () => undefined) => {
    const progress = new Channel<number>();
    progress.onmessage = onProgress;
    return call("verify_run", { request, progress });
  },
  /** Stops a verification under way (by the `run` its request named). */
  verifyCancel: (run: string) => call("verify_cancel", { run }),
  /** The repair of what a verification found, to show before it is applied. */
  verifyRepairPlan: (verify: string) => call("verify_repair_plan", { verify }),
  verifyRepairApply: (plan: string) => call("verify_repair_apply", { plan }),
  verifyRepairDrop: (plan: string) => call("verify_repair_drop", { plan }),
  topologyLayout: () => call("topology_layout", {}),
  saveTopologyLayout: (layout: NodePositions) => call("save_topology_layout", { layout }),
} satisfies Record<string, (...args: never[]) => Promise<unknown>>;

/** The native side says instances changed (local ones started on launch, for example). */
export function onRegistryChanged(f: () => void): Promise<UnlistenFn> {
  return listen("registry-changed", () => f());
}
