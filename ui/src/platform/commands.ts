// Generated from src-tauri/src/commands.rs by its `commands_ts` test. Do not edit:
// run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-app --lib commands_ts` after changing a command.

import type { Channel } from "@tauri-apps/api/core";
import type { ApplyReport, Arrival, CompareUpdate, FactorySetup, InstanceInput, InstanceSpec, InstanceStatus, JsonValue, LinkPlan, LinkRequest, LoadStats, LocalCredentials, LocalState, NewTable, NodePositions, Page, PageRequest, RegistryView, RepairPlan, SqlResult, TailAction, TailExported, TailRecord, TailRequest, TailUpdate, TopologyView, TreeDatabase, TreeTable, VerifyReport, VerifyRequest, WriteMode, WriteReport } from "./ipc";

/** Every command the native side registers. */
export const COMMAND_NAMES = ["registry_view", "instance_save", "instance_remove", "instance_test", "instance_status", "local_create", "local_cluster", "local_start", "local_stop", "local_states", "local_credentials", "tree", "table_info", "page", "write_records", "delete_records", "run_sql", "create_database", "drop_database", "create_table", "drop_table", "tail_stop", "tail_open", "tail_act", "tail_record", "tail_export", "tail_close", "compare_open", "compare_port", "harperdb_export", "factory_setup", "factory_load_start", "factory_load_stats", "factory_load_stop", "factory_check", "factory_remove", "export_file", "topology", "plan_link", "plan_unlink", "apply_plan", "drop_plan", "verify_run", "verify_cancel", "verify_repair_plan", "verify_repair_apply", "verify_repair_drop", "topology_layout", "save_topology_layout"] as const;

/** Each command's arguments and result. */
export interface Commands {
  registry_view: { args: {}; returns: RegistryView };
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
  tree: { args: { id: string }; returns: Array<TreeDatabase> };
  table_info: { args: { id: string; database: string; table: string }; returns: TreeTable };
  page: { args: { id: string; request: PageRequest }; returns: Page };
  write_records: { args: { id: string; database: string; table: string; mode: WriteMode; records: Array<JsonValue> }; returns: WriteReport };
  delete_records: { args: { id: string; database: string; table: string; keys: Array<JsonValue> }; returns: WriteReport };
  run_sql: { args: { id: string; sql: string }; returns: SqlResult };
  create_database: { args: { id: string; database: string }; returns: string };
  drop_database: { args: { id: string; database: string }; returns: string };
  create_table: { args: { id: string; table: NewTable }; returns: string };
  drop_table: { args: { id: string; database: string; table: string }; returns: string };
  tail_stop: { args: { tail: string }; returns: boolean };
  tail_open: { args: { id: string; request: TailRequest; updates: Channel<TailUpdate> }; returns: string };
  tail_act: { args: { tail: string; action: TailAction }; returns: TailUpdate };
  tail_record: { args: { tail: string; seq: number }; returns: TailRecord };
  tail_export: { args: { tail: string; name: string; progress: Channel<number> }; returns: TailExported };
  tail_close: { args: { tail: string }; returns: boolean };
  compare_open: { args: { instances: Array<string>; channel: string; updates: Channel<CompareUpdate> }; returns: string };
  compare_port: { args: { compare: string; first: number; count: number }; returns: CompareUpdate };
  harperdb_export: { args: { id: string; channels: Array<string> }; returns: string };
  factory_setup: { args: { rawExpirationS: number }; returns: FactorySetup };
  factory_load_start: { args: { rate: number }; returns: LoadStats };
  factory_load_stats: { args: {}; returns: LoadStats };
  factory_load_stop: { args: {}; returns: LoadStats };
  factory_check: { args: {}; returns: Arrival };
  factory_remove: { args: {}; returns: Array<string> };
  export_file: { args: { name: string; contents: string }; returns: string };
  topology: { args: {}; returns: TopologyView };
  plan_link: { args: { request: LinkRequest }; returns: LinkPlan };
  plan_unlink: { args: { dialer: string; linkName: string }; returns: LinkPlan };
  apply_plan: { args: { plan: string }; returns: ApplyReport };
  drop_plan: { args: { plan: string }; returns: boolean };
  verify_run: { args: { request: VerifyRequest; progress: Channel<number> }; returns: VerifyReport };
  verify_cancel: { args: { run: string }; returns: boolean };
  verify_repair_plan: { args: { verify: string }; returns: RepairPlan };
  verify_repair_apply: { args: { plan: string }; returns: ApplyReport };
  verify_repair_drop: { args: { plan: string }; returns: boolean };
  topology_layout: { args: {}; returns: NodePositions };
  save_topology_layout: { args: { layout: NodePositions }; returns: void };
}
