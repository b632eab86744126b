//! IPC commands: one-line adapters over switchyard-studio, each declared once in `commands!`,
//! which also registers them (`handler`) and describes them for the UI (`typescript`, checked
//! against the committed `ui/src/platform/commands.ts`). Every command is async: the network,
//! the keychain and the disk are never touched on the main thread.

use std::sync::Arc;

use serde_json::Value;
use switchyard_studio::{
    About, Browse, InstanceInput, InstanceSpec, InstanceStatus, LocalCredentials, LocalState, NewTable, Page, PageRequest, RegistryView, SqlResult, Studio, CompareUpdate, TailAction, TailExported, TailRecord, TailRequest, TailUpdate,
    TreeDatabase, TreeTable, WriteMode, WriteReport, NodePositions,
};
use switchyard_studio::links::{ApplyReport, LinkPlan, LinkRequest};
use switchyard_studio::factory::{Arrival, FactorySetup, LoadStats};
use switchyard_studio::topology::TopologyView;
use switchyard_studio::verify::{RepairPlan, VerifyReport, VerifyRequest};
use switchyard_studio::health::{EdgeHistory, HealthRules, HealthState};
use switchyard_studio::wiring::{Drift, WiringExport, WiringPreview};
use tauri::ipc::{Channel, CommandArg, CommandItem, InvokeError};
use tauri::{Runtime, State};

use switchyard_studio::ErrorBody;

/// A command's answer: its result, or the one `{code, message}` (a studio error converts).
type Result<T> = std::result::Result<T, ErrorBody>;

type S<'a> = State<'a, Arc<Studio>>;

/// A channel of `tauri::ipc::Channel` typed for the generated TypeScript as `$ts`.
macro_rules! channel_arg {
    ($(#[$doc:meta])* $name:ident, $payload:ty, $ts:literal) => {
        $(#[$doc])*
        pub struct $name(Channel<$payload>);

        impl<'de, R: Runtime> CommandArg<'de, R> for $name {
            fn from_command(command: CommandItem<'de, R>) -> std::result::Result<Self, InvokeError> {
                Channel::from_command(command).map($name)
            }
        }

        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                $ts.into()
            }
            fn inline(cfg: &ts_rs::Config) -> String {
                Self::name(cfg)
            }
        }
    };
}

channel_arg!(
    /// Where an open comparison's updates reach the window.
    CompareUpdates, CompareUpdate, "Channel<CompareUpdate>"
);
channel_arg!(
    /// Where an open tail's updates reach the window.
    TailUpdates, TailUpdate, "Channel<TailUpdate>"
);
channel_arg!(
    /// Where a long job's progress (the share done, 0 to 1) reaches the window.
    Progress, f64, "Channel<number>"
);

/// `link_name` → `linkName`, as Tauri names command arguments on the JavaScript side.
#[cfg(test)]
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
const HEADER: &str = "// Generated from src-tauri/src/commands.rs by its `commands_ts` test. Do not edit:\n// run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-app --lib commands_ts` after changing a command.\n\n";

macro_rules! commands {
    ($( fn $name:ident($s:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty $body:block )*) => {
        $(
            #[tauri::command]
            pub async fn $name($s: S<'_>, $($arg: $ty),*) -> Result<$ret> $body
        )*

        /// The handler that dispatches every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Every command's name, arguments and result, as TypeScript.
        #[cfg(test)]
        pub fn typescript() -> String {
            let cfg = ts_rs::Config::default();
            let mut names = Vec::new();
            let mut entries = Vec::new();
            let mut functions = Vec::new();
            $(
                // Tauri reads a command's arguments under their camelCase names.
                let args: Vec<String> = vec![$(format!("{}: {}", camel(stringify!($arg)), <$ty as ts_rs::TS>::name(&cfg))),*];
                let returns = match <$ret as ts_rs::TS>::name(&cfg) {
                    n if n == "null" => "void".to_string(),
                    n => n,
                };
                names.push(format!("\"{}\"", stringify!($name)));
                // The gateway's function: the arguments in Rust's order, a channel taken as the
                // callback it feeds, records from forms and files as plain values.
                let params: Vec<(String, String)> = vec![$((camel(stringify!($arg)), <$ty as ts_rs::TS>::name(&cfg))),*];
                let signature: Vec<String> = params
                    .iter()
                    .map(|(n, t)| match (t.strip_prefix("Channel<").and_then(|x| x.strip_suffix('>')), t.as_str()) {
                        (Some(item), _) => format!("{n}: (item: {item}) => void"),
                        (None, "Array<JsonValue>") => format!("{n}: unknown[]"),
                        _ => format!("{n}: {t}"),
                    })
                    .collect();
                let passed: Vec<String> = params
                    .iter()
                    .map(|(n, t)| if t.starts_with("Channel<") { format!("{n}: listen({n})") } else if t == "Array<JsonValue>" { format!("{n}: {n} as JsonValue[]") } else { n.clone() })
                    .collect();
                let passed = if passed.is_empty() { "{}".to_string() } else { format!("{{ {} }}", passed.join(", ")) };
                functions.push(format!("    {}: ({}) => call(\"{}\", {passed}),\n", stringify!($name), signature.join(", "), stringify!($name)));
                let args = if args.is_empty() { "{}".to_string() } else { format!("{{ {} }}", args.join("; ")) };
                entries.push(format!("  {}: {{ args: {}; returns: {} }};\n", stringify!($name), args, returns));
            )*
            // The IPC types the signatures name (capitalised words other than TypeScript's own).
            let mut used: Vec<String> = entries
                .iter()
                .flat_map(|e| e.split(|c: char| !c.is_ascii_alphanumeric()).map(str::to_string).collect::<Vec<_>>())
                .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()) && !["Array", "Record", "Partial", "Channel"].contains(&w.as_str()))
                .collect();
            used.sort();
            used.dedup();
            let mut out = String::from(HEADER);
            out.push_str("import type { Channel } from \"@tauri-apps/api/core\";\n");
            out.push_str(&format!("import type {{ {} }} from \"./ipc\";\n\n", used.join(", ")));
            out.push_str(&format!("/** Every command the native side registers. */\nexport const COMMAND_NAMES = [{}] as const;\n\n", names.join(", ")));
            out.push_str("/** Each command's arguments and result. */\nexport interface Commands {\n");
            for e in entries {
                out.push_str(&e);
            }
            out.push_str("}\n\n");
            out.push_str("/** Sends one command (the gateway's `invoke`). */\nexport type Call = <K extends keyof Commands>(cmd: K, args: Commands[K][\"args\"]) => Promise<Commands[K][\"returns\"]>;\n\n");
            out.push_str("/** A channel that hands what arrives to `on` (the gateway makes it). */\nexport type Listen = <T>(on: (item: T) => void) => Channel<T>;\n\n");
            out.push_str("/** One function per command, named as the command and its Rust method, arguments in their order. */\nexport function nativeOf(call: Call, listen: Listen) {\n  return {\n");
            for f in functions {
                out.push_str(&f);
            }
            out.push_str("  };\n}\n");
            out
        }
    };
}

commands! {
    fn app_about(s) -> About {
        Ok(s.about())
    }

    fn instance_list(s) -> RegistryView {
        Ok(s.registry.view()?)
    }

    fn instance_save(s, input: InstanceInput) -> InstanceSpec {
        Ok(s.registry.save_remote(input)?)
    }

    fn instance_remove(s, id: String) -> () {
        Ok(s.remove(&id).await?)
    }

    fn instance_test(s, input: InstanceInput) -> InstanceStatus {
        Ok(s.registry.test(input).await?)
    }

    fn instance_status(s, id: String) -> InstanceStatus {
        Ok(s.registry.status(&id).await?)
    }

    fn local_create(s, name: String) -> InstanceSpec {
        Ok(s.local.create(&s.registry, &name).await?)
    }

    fn local_cluster(s) -> Vec<InstanceSpec> {
        Ok(s.local.create_cluster(&s.registry).await?)
    }

    fn local_start(s, id: String) -> LocalState {
        Ok(s.local.start(&s.registry, &id).await?)
    }

    fn local_stop(s, id: String) -> LocalState {
        Ok(s.local.stop(&id).await?)
    }

    fn local_states(s) -> Vec<LocalState> {
        Ok(s.local.states(&s.registry).await?)
    }

    fn local_credentials(s, id: String) -> LocalCredentials {
        Ok(s.registry.local_credentials(&id)?)
    }

    fn browse_tree(s, id: String) -> Vec<TreeDatabase> {
        Ok(s.registry.client(&id)?.tree().await?)
    }

    fn browse_table(s, id: String, database: String, table: String) -> TreeTable {
        Ok(s.registry.client(&id)?.table_info(&database, &table).await?)
    }

    fn browse_page(s, id: String, request: PageRequest) -> Page {
        Ok(s.registry.client(&id)?.page(&request).await?)
    }

    fn browse_write(s, id: String, database: String, table: String, mode: WriteMode, records: Vec<Value>) -> WriteReport {
        Ok(s.registry.client(&id)?.write_records(&database, &table, mode, records).await?)
    }

    fn browse_delete(s, id: String, database: String, table: String, keys: Vec<Value>) -> WriteReport {
        Ok(s.registry.client(&id)?.delete_records(&database, &table, keys).await?)
    }

    fn sql_run(s, id: String, sql: String) -> SqlResult {
        Ok(s.registry.client(&id)?.run_sql(&sql).await?)
    }

    fn browse_create_database(s, id: String, database: String) -> String {
        Ok(s.registry.client(&id)?.new_database(&database).await?)
    }

    fn browse_drop_database(s, id: String, database: String) -> String {
        Ok(s.registry.client(&id)?.drop_database(&database).await?)
    }

    fn browse_create_table(s, id: String, table: NewTable) -> String {
        Ok(s.registry.client(&id)?.new_table(&table).await?)
    }

    fn browse_drop_table(s, id: String, database: String, table: String) -> String {
        Ok(s.registry.client(&id)?.drop_table(&database, &table).await?)
    }

    fn tail_stop(s, tail: String) -> bool {
        Ok(s.tail_stop(&tail))
    }

    fn tail_open(s, id: String, request: TailRequest, updates: TailUpdates) -> String {
        let TailUpdates(channel) = updates;
        Ok(s.tail_open(&id, request, move |u| channel.send(u).is_ok()).await?)
    }

    fn tail_act(s, tail: String, action: TailAction) -> TailUpdate {
        Ok(s.tail_act(&tail, action)?)
    }

    fn tail_record(s, tail: String, seq: f64) -> TailRecord {
        Ok(s.tail_record(&tail, seq)?)
    }

    fn tail_export(s, tail: String, name: String, progress: Progress) -> TailExported {
        let Progress(channel) = progress;
        Ok(s.tail_export(&tail, &name, move |done| drop(channel.send(done))).await?)
    }

    fn tail_close(s, tail: String) -> bool {
        Ok(s.tail_close(&tail))
    }

    fn compare_open(s, instances: Vec<String>, channel: String, updates: CompareUpdates) -> String {
        let CompareUpdates(sink) = updates;
        Ok(s.compare_open(&instances, &channel, move |u| sink.send(u).is_ok()).await?)
    }

    fn compare_port(s, compare: String, first: u32, count: u32) -> CompareUpdate {
        Ok(s.compare_port(&compare, first, count)?)
    }

    fn tail_harperdb_export(s, id: String, channels: Vec<String>) -> String {
        Ok(s.tail_harperdb_export(&id, &channels).await?)
    }

    fn factory_setup(s, raw_expiration_s: f64) -> FactorySetup {
        Ok(s.factory_setup(raw_expiration_s).await?)
    }

    fn factory_apply(s) -> Vec<ApplyReport> {
        Ok(s.factory_apply().await?)
    }

    fn factory_drop(s) -> bool {
        Ok(s.factory_drop())
    }

    fn factory_load_start(s, rate: f64) -> LoadStats {
        Ok(s.factory_load_start(rate).await?)
    }

    fn factory_load_stats(s) -> LoadStats {
        Ok(s.factory_load_stats().await)
    }

    fn factory_load_stop(s) -> LoadStats {
        Ok(s.factory_load_stop().await)
    }

    fn factory_check(s) -> Arrival {
        Ok(s.factory_check().await?)
    }

    fn factory_remove(s) -> Vec<String> {
        Ok(s.factory_remove().await?)
    }

    fn exports_write(s, name: String, contents: String) -> String {
        Ok(s.exports_write(&name, contents).await?)
    }

    fn topology_view(s) -> TopologyView {
        Ok(s.topology_view().await?)
    }

    fn link_plan(s, request: LinkRequest) -> LinkPlan {
        Ok(s.link_plan(request).await?)
    }

    fn link_plan_removal(s, dialer: String, link_name: String) -> LinkPlan {
        Ok(s.link_plan_removal(&dialer, &link_name).await?)
    }

    fn link_apply(s, plan: String) -> ApplyReport {
        Ok(s.link_apply(&plan).await?)
    }

    fn link_drop(s, plan: String) -> bool {
        Ok(s.link_drop(&plan))
    }

    fn verify_run(s, request: VerifyRequest, progress: Progress) -> VerifyReport {
        Ok(s.verify_run(request, move |f| drop(progress.0.send(f))).await?)
    }

    fn verify_cancel(s, run: String) -> bool {
        Ok(s.verify_cancel(&run))
    }

    fn verify_repair_plan(s, verify: String, copy_missing: bool) -> RepairPlan {
        Ok(s.verify_repair_plan(&verify, copy_missing)?)
    }

    fn verify_repair_apply(s, plan: String) -> ApplyReport {
        Ok(s.verify_repair_apply(&plan).await?)
    }

    fn verify_repair_drop(s, plan: String) -> bool {
        Ok(s.verify_repair_drop(&plan))
    }

    fn link_pause(s, dialer: String, link_name: String, paused: bool) -> () {
        Ok(s.link_pause(&dialer, &link_name, paused).await?)
    }

    fn factory_cut_link(s, edge: String, cut: bool) -> () {
        Ok(s.factory_cut_link(&edge, cut).await?)
    }

    fn wiring_export(s) -> WiringExport {
        Ok(s.wiring_export().await?)
    }

    fn wiring_plan(s, text: String) -> WiringPreview {
        Ok(s.wiring_plan(text).await?)
    }

    fn wiring_apply(s, plan: String) -> Vec<ApplyReport> {
        Ok(s.wiring_apply(&plan).await?)
    }

    fn wiring_drop(s, plan: String) -> bool {
        Ok(s.wiring_drop(&plan))
    }

    fn wiring_attach(s, text: Option<String>) -> () {
        Ok(s.wiring_attach(text)?)
    }

    fn wiring_drift(s) -> Option<Vec<Drift>> {
        Ok(s.wiring_drift().await?)
    }

    fn health_state(s) -> HealthState {
        Ok(s.health_state())
    }

    fn health_set_rules(s, rules: HealthRules) -> HealthState {
        Ok(s.health_set_rules(rules)?)
    }

    fn health_history(s, edge: String) -> EdgeHistory {
        Ok(s.health_history(&edge))
    }

    fn layout_load(s) -> NodePositions {
        Ok(s.layout_load().await?)
    }

    fn layout_save(s, layout: NodePositions) -> () {
        Ok(s.layout_save(layout).await?)
    }
}

#[cfg(test)]
mod tests {
    /// The committed TypeScript command list matches the commands registered here.
    #[test]
    fn commands_ts() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/platform/commands.ts");
        let want = super::typescript();
        if std::env::var_os("UPDATE_IPC_TYPES").is_some() {
            std::fs::write(&path, &want).expect("write commands.ts");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} is missing ({e}); run with UPDATE_IPC_TYPES=1", path.display()));
        assert!(have == want, "{} is out of date; run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-app --lib commands_ts` and commit it", path.display());
    }
}
