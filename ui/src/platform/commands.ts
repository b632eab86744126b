// Generated from src-tauri/src/commands.rs by its `commands_ts` test. Do not edit:
// run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-app --lib commands_ts` after changing a command.

import type { Channel } from "@tauri-apps/api/core";
import type { About, ApplyReport, Arrival, CompareUpdate, Drift, EdgeHistory, FactorySetup, HealthRules, HealthState, InstanceInput, InstanceSpec, InstanceStatus, JsonValue, LinkPlan, LinkRequest, LoadStats, LocalCredentials, LocalState, NewTable, NodePositions, Page, PageRequest, RegistryView, RepairPlan, SqlResult, TailAction, TailExported, TailRecord, TailRequest, TailUpdate, TopologyView, TreeDatabase, TreeTable, VerifyReport, VerifyRequest, WiringExport, WiringPreview, WriteMode, WriteReport } from "./ipc";

/** Every command the native side registers. */
export const COMMAND_NAMES = ["app_about", "instance_list", "instance_save", "instance_remove", "instance_test", "instance_status", "local_create", "local_cluster", "local_start", "local_stop", "local_states", "local_credentials", "browse_tree", "browse_table", "browse_page", "browse_write", "browse_delete", "sql_run", "browse_create_database", "browse_drop_database", "browse_create_table", "browse_drop_table", "tail_stop", "tail_open", "tail_act", "tail_record", "tail_export", "tail_close", "compare_open", "compare_port", "tail_harperdb_export", "factory_setup", "factory_apply", "factory_drop", "factory_load_start", "factory_load_stats", "factory_load_stop", "factory_check", "factory_remove", "exports_write", "topology_view", "link_plan", "link_plan_removal", "link_apply", "link_drop", "verify_run", "verify_cancel", "verify_repair_plan", "verify_repair_apply", "verify_repair_drop", "link_pause", "factory_cut_link", "wiring_export", "wiring_plan", "wiring_apply", "wiring_drop", "wiring_attach", "wiring_drift", "health_state", "health_set_rules", "health_history", "layout_load", "layout_save"] as const;

/** Each command's arguments and result. */
export interface Commands {
  app_about: { args: {}; returns: About };
  instance_list: { args: {}; returns: RegistryView };
  instance_save: { args: { input: InstanceInput }; returns: InstanceSpec };
  instance_remove: { args: { id: string }; returns: void };
  instance_test: { args: { input: InstanceInput }; returns: InstanceStatus };
  instance_status: { args: { id: string }; returns: InstanceStatus };
  local_create: { args: { name: string }; returns: InstanceSpec };
  local_cluster: { args: {}; returns: Array<InstanceSpec> };
  local_start: { args: { id: string }; returns: LocalState };
  local_stop: { args: { id: string }; returns: LocalState };
  local_states: { args: {}; returns: Array<LocalState> };
  local_credentials: { args: { id: string }; returns: LocalCredentials };
  browse_tree: { args: { id: string }; returns: Array<TreeDatabase> };
  browse_table: { args: { id: string; database: string; table: string }; returns: TreeTable };
  browse_page: { args: { id: string; request: PageRequest }; returns: Page };
  browse_write: { args: { id: string; database: string; table: string; mode: WriteMode; records: Array<JsonValue> }; returns: WriteReport };
  browse_delete: { args: { id: string; database: string; table: string; keys: Array<JsonValue> }; returns: WriteReport };
  sql_run: { args: { id: string; sql: string }; returns: SqlResult };
  browse_create_database: { args: { id: string; database: string }; returns: string };
  browse_drop_database: { args: { id: string; database: string }; returns: string };
  browse_create_table: { args: { id: string; table: NewTable }; returns: string };
  browse_drop_table: { args: { id: string; database: string; table: string }; returns: string };
  tail_stop: { args: { tail: string }; returns: boolean };
  tail_open: { args: { id: string; request: TailRequest; updates: Channel<TailUpdate> }; returns: string };
  tail_act: { args: { tail: string; action: TailAction }; returns: TailUpdate };
  tail_record: { args: { tail: string; seq: number }; returns: TailRecord };
  tail_export: { args: { tail: string; name: string; progress: Channel<number> }; returns: TailExported };
  tail_close: { args: { tail: string }; returns: boolean };
  compare_open: { args: { instances: Array<string>; channel: string; updates: Channel<CompareUpdate> }; returns: string };
  compare_port: { args: { compare: string; first: number; count: number }; returns: CompareUpdate };
  tail_harperdb_export: { args: { id: string; channels: Array<string> }; returns: string };
  factory_setup: { args: { rawExpirationS: number }; returns: FactorySetup };
  factory_apply: { args: {}; returns: Array<ApplyReport> };
  factory_drop: { args: {}; returns: boolean };
  factory_load_start: { args: { rate: number }; returns: LoadStats };
  factory_load_stats: { args: {}; returns: LoadStats };
  factory_load_stop: { args: {}; returns: LoadStats };
  factory_check: { args: {}; returns: Arrival };
  factory_remove: { args: {}; returns: Array<string> };
  exports_write: { args: { name: string; contents: string }; returns: string };
  topology_view: { args: {}; returns: TopologyView };
  link_plan: { args: { request: LinkRequest }; returns: LinkPlan };
  link_plan_removal: { args: { dialer: string; linkName: string }; returns: LinkPlan };
  link_apply: { args: { plan: string }; returns: ApplyReport };
  link_drop: { args: { plan: string }; returns: boolean };
  verify_run: { args: { request: VerifyRequest; progress: Channel<number> }; returns: VerifyReport };
  verify_cancel: { args: { run: string }; returns: boolean };
  verify_repair_plan: { args: { verify: string; copyMissing: boolean }; returns: RepairPlan };
  verify_repair_apply: { args: { plan: string }; returns: ApplyReport };
  verify_repair_drop: { args: { plan: string }; returns: boolean };
  link_pause: { args: { dialer: string; linkName: string; paused: boolean }; returns: void };
  factory_cut_link: { args: { edge: string; cut: boolean }; returns: void };
  wiring_export: { args: {}; returns: WiringExport };
  wiring_plan: { args: { text: string }; returns: WiringPreview };
  wiring_apply: { args: { plan: string }; returns: Array<ApplyReport> };
  wiring_drop: { args: { plan: string }; returns: boolean };
  wiring_attach: { args: { text: string | null }; returns: void };
  wiring_drift: { args: {}; returns: Array<Drift> | null };
  health_state: { args: {}; returns: HealthState };
  health_set_rules: { args: { rules: HealthRules }; returns: HealthState };
  health_history: { args: { edge: string }; returns: EdgeHistory };
  layout_load: { args: {}; returns: NodePositions };
  layout_save: { args: { layout: NodePositions }; returns: void };
}

/** Sends one command (the gateway's `invoke`). */
export type Call = <K extends keyof Commands>(cmd: K, args: Commands[K]["args"]) => Promise<Commands[K]["returns"]>;

/** A channel that hands what arrives to `on` (the gateway makes it). */
export type Listen = <T>(on: (item: T) => void) => Channel<T>;

/** One function per command, named as the command and its Rust method, arguments in their order. */
export function nativeOf(call: Call, listen: Listen) {
  return {
    app_about: () => call("app_about", {}),
    instance_list: () => call("instance_list", {}),
    instance_save: (input: InstanceInput) => call("instance_save", { input }),
    instance_remove: (id: string) => call("instance_remove", { id }),
    instance_test: (input: InstanceInput) => call("instance_test", { input }),
    instance_status: (id: string) => call("instance_status", { id }),
    local_create: (name: string) => call("local_create", { name }),
    local_cluster: () => call("local_cluster", {}),
    local_start: (id: string) => call("local_start", { id }),
    local_stop: (id: string) => call("local_stop", { id }),
    local_states: () => call("local_states", {}),
    local_credentials: (id: string) => call("local_credentials", { id }),
    browse_tree: (id: string) => call("browse_tree", { id }),
    browse_table: (id: string, database: string, table: string) => call("browse_table", { id, database, table }),
    browse_page: (id: string, request: PageRequest) => call("browse_page", { id, request }),
    browse_write: (id: string, database: string, table: string, mode: WriteMode, records: unknown[]) => call("browse_write", { id, database, table, mode, records: records as JsonValue[] }),
    browse_delete: (id: string, database: string, table: string, keys: unknown[]) => call("browse_delete", { id, database, table, keys: keys as JsonValue[] }),
    sql_run: (id: string, sql: string) => call("sql_run", { id, sql }),
    browse_create_database: (id: string, database: string) => call("browse_create_database", { id, database }),
    browse_drop_database: (id: string, database: string) => call("browse_drop_database", { id, database }),
    browse_create_table: (id: string, table: NewTable) => call("browse_create_table", { id, table }),
    browse_drop_table: (id: string, database: string, table: string) => call("browse_drop_table", { id, database, table }),
    tail_stop: (tail: string) => call("tail_stop", { tail }),
    tail_open: (id: string, request: TailRequest, updates: (item: TailUpdate) => void) => call("tail_open", { id, request, updates: listen(updates) }),
    tail_act: (tail: string, action: TailAction) => call("tail_act", { tail, action }),
    tail_record: (tail: string, seq: number) => call("tail_record", { tail, seq }),
    tail_export: (tail: string, name: string, progress: (item: number) => void) => call("tail_export", { tail, name, progress: listen(progress) }),
    tail_close: (tail: string) => call("tail_close", { tail }),
    compare_open: (instances: Array<string>, channel: string, updates: (item: CompareUpdate) => void) => call("compare_open", { instances, channel, updates: listen(updates) }),
    compare_port: (compare: string, first: number, count: number) => call("compare_port", { compare, first, count }),
    tail_harperdb_export: (id: string, channels: Array<string>) => call("tail_harperdb_export", { id, channels }),
    factory_setup: (rawExpirationS: number) => call("factory_setup", { rawExpirationS }),
    factory_apply: () => call("factory_apply", {}),
    factory_drop: () => call("factory_drop", {}),
    factory_load_start: (rate: number) => call("factory_load_start", { rate }),
    factory_load_stats: () => call("factory_load_stats", {}),
    factory_load_stop: () => call("factory_load_stop", {}),
    factory_check: () => call("factory_check", {}),
    factory_remove: () => call("factory_remove", {}),
    exports_write: (name: string, contents: string) => call("exports_write", { name, contents }),
    topology_view: () => call("topology_view", {}),
    link_plan: (request: LinkRequest) => call("link_plan", { request }),
    link_plan_removal: (dialer: string, linkName: string) => call("link_plan_removal", { dialer, linkName }),
    link_apply: (plan: string) => call("link_apply", { plan }),
    link_drop: (plan: string) => call("link_drop", { plan }),
    verify_run: (request: VerifyRequest, progress: (item: number) => void) => call("verify_run", { request, progress: listen(progress) }),
    verify_cancel: (run: string) => call("verify_cancel", { run }),
    verify_repair_plan: (verify: string, copyMissing: boolean) => call("verify_repair_plan", { verify, copyMissing }),
    verify_repair_apply: (plan: string) => call("verify_repair_apply", { plan }),
    verify_repair_drop: (plan: string) => call("verify_repair_drop", { plan }),
    link_pause: (dialer: string, linkName: string, paused: boolean) => call("link_pause", { dialer, linkName, paused }),
    factory_cut_link: (edge: string, cut: boolean) => call("factory_cut_link", { edge, cut }),
    wiring_export: () => call("wiring_export", {}),
    wiring_plan: (text: string) => call("wiring_plan", { text }),
    wiring_apply: (plan: string) => call("wiring_apply", { plan }),
    wiring_drop: (plan: string) => call("wiring_drop", { plan }),
    wiring_attach: (text: string | null) => call("wiring_attach", { text }),
    wiring_drift: () => call("wiring_drift", {}),
    health_state: () => call("health_state", {}),
    health_set_rules: (rules: HealthRules) => call("health_set_rules", { rules }),
    health_history: (edge: string) => call("health_history", { edge }),
    layout_load: () => call("layout_load", {}),
    layout_save: (layout: NodePositions) => call("layout_save", { layout }),
  };
}
