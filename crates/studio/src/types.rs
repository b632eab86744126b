//! The types that cross the IPC boundary. TypeScript declarations are generated from these
//! (`ui/src/platform/ipc.ts`, checked by the `ipc_types` test).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use switchyard_client::ServerKind;
use switchyard_protocol::tls::Trust;
use switchyard_protocol::ErrorBody;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum InstanceKind {
    /// A switchyard-node the studio runs in process.
    Local,
    /// Anything reachable by URL: switchyard-node or HarperDB.
    Remote,
}

/// A registered instance as stored (never with its password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSpec {
    pub id: String,
    pub name: String,
    pub url: String,
    pub username: String,
    pub kind: InstanceKind,
    #[serde(default)]
    pub tls: Trust,
    /// Local instances: the port last used, tried first on the next start.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// What the add/edit form sends. `password: None` on edit keeps the stored one.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInput {
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub url: String,
    pub username: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub tls: Trust,
}

/// One probe of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    pub id: String,
    pub online: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[ts(optional, type = "ServerKind")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_kind: Option<ServerKind>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// The certificate an https:// instance presented when it was not trusted.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_fingerprint: Option<String>,
}

impl InstanceStatus {
    /// An instance that could not even be asked (no password, a bad URL, …).
    pub fn unreachable(id: &str, error: ErrorBody) -> InstanceStatus {
        InstanceStatus {
            id: id.to_string(),
            online: false,
            latency_ms: None,
            version: None,
            server_kind: None,
            node_name: None,
            error: Some(error),
            certificate_fingerprint: None,
        }
    }
}

/// What the About dialog says: the version and where the studio keeps things.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct About {
    pub version: String,
    /// The instance list, local instances' data, the canvas layout and health history.
    pub data_dir: String,
    /// The studio's log files (rotated daily, the last 7 kept).
    pub log_dir: String,
    /// Where exports are written.
    pub exports_dir: String,
}

/// The registry as the sidebar shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistryView {
    pub instances: Vec<InstanceSpec>,
    /// Whether passwords can be stored (an OS keychain answered).
    pub keychain_available: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keychain_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TreeTable {
    pub name: String,
    pub primary_key: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_count: Option<f64>,
    /// The count is the server's estimate (HarperDB stops counting after 500 ms).
    #[serde(default)]
    pub record_count_estimated: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<f64>,
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TreeDatabase {
    pub name: String,
    pub tables: Vec<TreeTable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Equals,
    NotEqual,
    Contains,
    StartsWith,
    GreaterThan,
    LessThan,
}

impl FilterOp {
    pub fn comparator(self) -> &'static str {
        match self {
            FilterOp::Equals => "equals",
            FilterOp::NotEqual => "not_equal",
            FilterOp::Contains => "contains",
            FilterOp::StartsWith => "starts_with",
            FilterOp::GreaterThan => "greater_than",
            FilterOp::LessThan => "less_than",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ColumnFilter {
    pub attribute: String,
    pub op: FilterOp,
    #[ts(type = "unknown")]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SortSpec {
    pub attribute: String,
    pub descending: bool,
}

/// Where a page starts. Key anchors page by primary key (cheap at any depth); offsets are for
/// jumps and for sorts on other attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PageAnchor {
    First,
    Last,
    After {
        #[ts(type = "unknown")]
        key: Value,
    },
    Before {
        #[ts(type = "unknown")]
        key: Value,
    },
    Offset { offset: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    pub database: String,
    pub table: String,
    pub primary_key: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortSpec>,
    #[serde(default)]
    pub filters: Vec<ColumnFilter>,
    pub anchor: PageAnchor,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    #[ts(type = "Record<string, unknown>[]")]
    pub rows: Vec<Value>,
    /// Attribute names seen in these rows, primary key first, server timestamps last.
    pub columns: Vec<String>,
    /// Records in the table (no filters), from describe_table.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// Index of the first row in the whole ordered result, when known.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<f64>,
    /// Whether the page ends the result in its direction (fewer rows than asked).
    pub at_end: bool,
    /// Something about this page the user should know (rows the server returned and the
    /// studio left out, and why).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SqlResult {
    #[ts(type = "Record<string, unknown>[]")]
    pub rows: Vec<Value>,
    pub columns: Vec<String>,
    /// For statements that change data: the server's message.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum WriteMode {
    Insert,
    Update,
    Upsert,
}

/// The server's answer to a write, reduced to what the UI reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WriteReport {
    pub message: String,
    pub written: f64,
    #[ts(type = "unknown[]")]
    pub written_keys: Vec<Value>,
    /// Keys the server skipped (an insert of an existing key, an update of a missing one).
    #[ts(type = "unknown[]")]
    pub skipped_keys: Vec<Value>,
    /// Something about this write the user should know (keys the server did not report).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewTable {
    pub database: String,
    pub table: String,
    pub primary_key: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<f64>,
}

/// A local instance as the supervisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalState {
    pub id: String,
    pub running: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub data_dir: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How to reach a running local instance from other tools, for this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalCredentials {
    pub url: String,
    pub username: String,
    /// Made at this start; held in memory only, replaced at the next launch.
    pub password: String,
}

/// Where one node sits on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// The canvas's placed nodes, by node name (kept across restarts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct NodePositions {
    pub positions: std::collections::BTreeMap<String, Position>,
}
