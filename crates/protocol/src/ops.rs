//! Operations API requests and replies in HarperDB 4.7's shapes. Legacy names are accepted as
//! aliases (`schema` for `database`, `hash_attribute` for `primary_key`, `hash_values` for `ids`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::DEFAULT_DATABASE;

fn default_database() -> String {
    DEFAULT_DATABASE.to_string()
}

fn default_primary_key() -> String {
    "id".to_string()
}

/// create_database, drop_database, describe_database (and their `schema` aliases).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseRef {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
}

/// drop_table, describe_table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRef {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
}

/// table_digest: a table's digest, every bucket with its count and hash, and the watermark it
/// reflects (Switchyard only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDigestRequest {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
}

/// table_digest_records: the records of some buckets of a table's digest (read in one pass), in
/// key order, from after `after`, at most `limit` (Switchyard only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestRecordsRequest {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub buckets: Vec<u16>,
    /// The last key of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// record_states: how a node holds some keys of a table, deleted ones included (Switchyard
/// only): what Verify shows side by side and decides the winner from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordStatesRequest {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub keys: Vec<Value>,
}

/// repair_records: sets keys of a table to the state that won elsewhere, each only if the node
/// still holds what the repair was planned against (Switchyard only, super users).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepairRecordsRequest {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub repairs: Vec<RecordRepair>,
}

/// One key's repair: from `expected` (as the plan saw it) to `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRepair {
    pub key: Value,
    pub expected: RecordMark,
    pub set: RecordState,
}

/// A declared attribute of a schema-defined table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeDef {
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed: Option<bool>,
}

/// create_table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTable {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_attribute", default = "default_primary_key")]
    pub primary_key: String,
    /// Seconds after its last update that a record expires (edge raw data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<AttributeDef>>,
}

/// create_attribute, drop_attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeRef {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub attribute: String,
}

/// insert, update, upsert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteRecords {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub records: Vec<Value>,
}

/// delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRecords {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_values")]
    pub ids: Vec<Value>,
}

/// search_by_id (alias search_by_hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchById {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_values")]
    pub ids: Vec<Value>,
    pub get_attributes: Vec<String>,
}

/// A sort key; `next` chains a secondary key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sort {
    pub attribute: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub descending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Box<Sort>>,
}

/// search_by_value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchByValue {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    pub search_attribute: String,
    pub search_value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}

impl SearchByValue {
    /// Every record of `database.table` (`attribute` matched against `*`), with `get_attributes`.
    pub fn every(database: &str, table: &str, attribute: &str, get_attributes: &[&str]) -> SearchByValue {
        SearchByValue {
            database: database.into(),
            table: table.into(),
            search_attribute: attribute.into(),
            search_value: Value::from("*"),
            get_attributes: Some(get_attributes.iter().map(|a| a.to_string()).collect()),
            limit: None,
            offset: None,
            sort: None,
        }
    }
}

/// How the conditions of a group combine.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    #[default]
    And,
    Or,
}

/// One condition of search_by_conditions: a comparison or a nested group.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Condition {
    Group {
        #[serde(default)]
        operator: Operator,
        conditions: Vec<Condition>,
    },
    Compare {
        search_attribute: String,
        search_type: String,
        search_value: Value,
    },
}

impl Condition {
    pub fn compare(attribute: &str, search_type: &str, value: Value) -> Condition {
        Condition::Compare { search_attribute: attribute.into(), search_type: search_type.into(), search_value: value }
    }
}

/// What a condition must hold, in the words a caller is told when it does not.
pub const CONDITION_FORMS: &str =
    "each condition needs 'search_attribute', 'search_type' and 'search_value', or 'operator' and 'conditions'";

/// Read by which fields it has (a group has `conditions`), so that a malformed condition is
/// refused in words that name what is missing rather than as "no variant matched".
impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        struct Group {
            #[serde(default)]
            operator: Operator,
            conditions: Vec<Condition>,
        }
        #[derive(Deserialize)]
        struct Compare {
            search_attribute: String,
            search_type: String,
            search_value: Value,
        }
        let v = Value::deserialize(d)?;
        let bad = |e: serde_json::Error| D::Error::custom(format!("{CONDITION_FORMS} ({e})"));
        if v.get("conditions").is_some() {
            let g: Group = serde_json::from_value(v).map_err(bad)?;
            Ok(Condition::Group { operator: g.operator, conditions: g.conditions })
        } else if v.get("search_attribute").is_some() {
            let c: Compare = serde_json::from_value(v).map_err(bad)?;
            Ok(Condition::Compare { search_attribute: c.search_attribute, search_type: c.search_type, search_value: c.search_value })
        } else {
            Err(D::Error::custom(CONDITION_FORMS))
        }
    }
}

/// search_by_conditions. Keyset paging: a `greater_than` condition on the primary key with a sort
/// on the primary key reads only the page, however deep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchByConditions {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    #[serde(default)]
    pub operator: Operator,
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}

/// sql.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sql {
    pub sql: String,
}

/// csv_data_load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CsvDataLoad {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    /// insert (default), update or upsert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub data: String,
}

/// add_role, alter_role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub permission: Value,
}

/// drop_role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleRef {
    pub id: String,
}

/// add_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddUser {
    pub username: String,
    pub password: String,
    pub role: String,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

/// alter_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlterUser {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// drop_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRef {
    pub username: String,
}

/// create_authentication_tokens, login: credentials in the body, or none to use the header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// read_log.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// system_information: restrict the reply to these sections.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SystemInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
}

/// get_job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRef {
    pub id: String,
}

/// One attribute in a table description.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttributeDescription {
    pub attribute: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_primary_key: Option<bool>,
}

/// describe_table's answer (and each entry of describe_database / describe_all).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDescription {
    pub schema: String,
    pub name: String,
    #[serde(alias = "primary_key")]
    pub hash_attribute: String,
    #[serde(default)]
    pub audit: bool,
    #[serde(default)]
    pub schema_defined: bool,
    #[serde(default)]
    pub attributes: Vec<AttributeDescription>,
    #[serde(default)]
    pub db_size: u64,
    #[serde(default)]
    pub sources: Vec<Value>,
    pub record_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_record: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<u64>,
    /// HarperDB: the range its estimated `record_count` lies in (difference
    /// `record-count-estimate`); switchyard-node counts exactly and sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_record_range: Option<Value>,
}

/// A plain `{"message": …}` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

/// insert's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InsertReply {
    pub message: String,
    pub inserted_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}

/// update's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateReply {
    pub message: String,
    pub update_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}

/// upsert's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertReply {
    pub message: String,
    pub upserted_hashes: Vec<Value>,
}

/// delete's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteReply {
    pub message: String,
    pub deleted_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}

/// create_authentication_tokens / refresh_operation_token answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub operation_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// registration_info's answer; `kind` tells a switchyard-node from a HarperDB instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationInfo {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// SHA-256 of the certificate when the instance serves TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_fingerprint: Option<String>,
}

/// One channel of a peer link, from the point of view of the node running add_node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeSubscription {
    pub channel: crate::Channel,
    /// Receive the peer's changes on this channel.
    #[serde(default)]
    pub subscribe: bool,
    /// Push this node's changes on this channel to the peer.
    #[serde(default)]
    pub publish: bool,
}

/// The peer's cluster credentials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeAuthorization {
    pub username: String,
    pub password: String,
}

/// add_node, update_node: one outbound link to the node `name` at `host:port`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AddNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub subscriptions: Vec<NodeSubscription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<NodeAuthorization>,
    /// Connect with TLS (wss://), trusting the peer as described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls::Trust>,
}

/// remove_node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoveNode {
    pub name: String,
}

/// read_transaction_log: a table's transaction log. By id (default): the entries after `from`
/// up to `to` (both transaction ids); with `search_type: "timestamp"`, `from` and `to` are
/// epoch milliseconds. At most `limit` entries (default 1000, at most 10,000), oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadTransactionLog {
    #[serde(alias = "schema", default = "default_database")]
    pub database: String,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `asc` (the default) or `desc`: with `desc` and a limit, the last entries of the range
    /// (still answered in log order). A Switchyard extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// The state of a link this node dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Connecting,
    Open,
    Closed,
}

/// One channel of a link, with the positions (this node's or the peer's log ids) it has reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStatus {
    pub channel: String,
    /// Data flows from the peer to this node.
    pub subscribe: bool,
    /// Data flows from this node to the peer.
    pub publish: bool,
    /// Subscribe: the peer's log id applied up to.
    pub last_received: Option<i64>,
    /// Publish: our log id sent up to.
    pub last_sent: Option<i64>,
    /// Publish: our log id the peer said it applied up to.
    #[serde(default)]
    pub last_acknowledged: Option<i64>,
    /// Our log's last id on the channel.
    pub local_head: i64,
    /// Publish: entries of ours on the channel not yet sent.
    pub backlog: i64,
    /// Batches found not to continue from where the receiver stood, and sent again.
    #[serde(default)]
    pub gaps: u64,
    pub error: Option<String>,
    /// Subscribe: entries applied from the peer since this node started the link.
    #[serde(default)]
    pub entries_received: u64,
    /// Publish: entries sent to the peer since this node started the link.
    #[serde(default)]
    pub entries_sent: u64,
}

/// One link this node dials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkStatus {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub state: LinkState,
    /// Since when (ms since the epoch) the link is in its state.
    pub since: f64,
    pub latency_ms: Option<f64>,
    pub last_error: Option<String>,
    /// When the link last failed to open because the peer refused it: the procedure refused
    /// (`login`: the peer holds no account for this link, or another password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<String>,
    pub subscriptions: Vec<NodeSubscription>,
    pub channels: Vec<ChannelStatus>,
}

/// A peer that receives this node's log on a channel (it pulls it, or a link of ours pushes
/// it), as far as it acknowledged: what it has not got yet is its backlog here, which grows while
/// the peer is away and drains as it catches up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiverStatus {
    pub peer: String,
    pub channel: String,
    pub acknowledged: i64,
    /// Entries of this node's log on the channel after `acknowledged` (not from the peer).
    pub backlog: i64,
}

/// cluster_status's answer: what the topology canvas reads of each node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// Always `cluster-status`, as HarperDB answers.
    #[serde(rename = "type")]
    pub kind: String,
    pub node_name: String,
    pub is_enabled: bool,
    /// Why the node refuses writes (a failed fsync) until it is restarted; none while it writes.
    #[serde(default)]
    pub read_only: Option<String>,
    pub connections: Vec<LinkStatus>,
    /// Every peer that acknowledged this node's log on a channel (since the node started or as
    /// last stored), the dialled side's view of links it does not run itself.
    #[serde(default)]
    pub receivers: Vec<ReceiverStatus>,
    /// The last transaction committed to this node's log, on any channel: two answers a second
    /// apart give its write rate.
    #[serde(default)]
    pub log_head: i64,
}

/// One node's answer to a cluster_read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReadAnswer {
    pub node: String,
    pub ok: bool,
    /// The read's answer on that node, when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why that node could not answer, when not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// cluster_read's answer: this node first, then every peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReadReply {
    pub nodes: Vec<ClusterReadAnswer>,
}

/// A role as add_role, alter_role, list_roles and user_info answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleReply {
    pub role: String,
    pub id: String,
    pub permission: Value,
    pub __createdtime__: f64,
    pub __updatedtime__: f64,
}

/// A user as list_users answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserReply {
    pub username: String,
    pub active: bool,
    pub __createdtime__: f64,
    pub __updatedtime__: f64,
    pub role: RoleReply,
}

/// user_info's answer: the caller and its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub active: bool,
    pub username: String,
    pub role: RoleReply,
}

/// What a csv_data_load job did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub written: u64,
    pub skipped: u64,
    pub total: u64,
}

/// get_job's answer (one entry per job asked for); times in RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReply {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub message: String,
    pub result: Option<LoadResult>,
    pub start_datetime: String,
    pub end_datetime: Option<String>,
}

/// csv_data_load's answer: the job that loaded the data, and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStarted {
    pub message: String,
    pub job_id: String,
    pub result: LoadResult,
}

/// An Operations API error answer: `{"error"}` (HarperDB's), the `code` a client branches on
/// (switchyard-node; HarperDB sends none), plus on a 403 what was missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthorized_access: Option<Vec<Denied>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_schema_items: Option<Vec<String>>,
}

/// What a 403 refused: a table permission the role lacks, or an operation only super users run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Denied {
    Table(MissingPermission),
    Restricted(String),
}

/// A table permission a role lacks (in a 403's `unauthorized_access`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingPermission {
    pub schema: String,
    pub table: String,
    pub required_table_permissions: Vec<String>,
    pub required_attribute_permissions: Vec<String>,
}

/// One entry of the node's log, as read_log answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub timestamp: String,
    pub thread: String,
    pub level: String,
    pub tags: Vec<String>,
    pub message: String,
}

/// system_information's answer; a request naming `attributes` gets only those sections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemInformationReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuSection>,
    /// `total`, `free`, `available` in bytes, as the system reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskSection>,
    /// Why the node refuses writes until restarted (null while it writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harperdb_processes: Option<Processes>,
    /// Per database, per table: record count and last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<std::collections::BTreeMap<String, DatabaseMetrics>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemSection {
    pub platform: String,
    pub arch: String,
    pub hostname: String,
    pub node_name: String,
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSection {
    pub current: u64,
    pub uptime: f64,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuSection {
    pub cores: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskSection {
    pub data_dir: String,
    pub db_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessEntry {
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Processes {
    pub core: Vec<ProcessEntry>,
    pub clustering: Vec<ProcessEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMetrics {
    pub record_count: u64,
    pub last_updated_record: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseMetrics {
    pub tables: std::collections::BTreeMap<String, TableMetrics>,
}

/// What `GET /` answers: which server this is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct About {
    pub name: String,
    pub version: String,
    pub node_name: String,
    pub usage: String,
}

/// What a role grants on one table (HarperDB's permission shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TablePermission {
    pub read: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    #[serde(default)]
    pub attribute_permissions: Vec<Value>,
}

/// What a role grants in one database: its tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabasePermission {
    pub tables: std::collections::BTreeMap<String, TablePermission>,
}

/// One bucket of a table digest: how many records it holds and the sum of their hashes
/// (32 hex digits; equal buckets hold equal records, whatever order they were written in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketDigest {
    pub count: u64,
    pub digest: String,
}

/// How far a node has applied one origin's writes on the table's channel: every write of
/// `origin` up to log id `id` and version `version` is here. For the node itself, `version` is
/// its clock when the digest was read (every write it made is here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginMark {
    pub origin: String,
    pub id: i64,
    pub version: i64,
}

/// table_digest's answer, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDigest {
    pub node: String,
    pub database: String,
    pub table: String,
    /// Records in the table (the sum of the buckets' counts).
    pub count: u64,
    /// The whole table's digest: the sum of the buckets' (32 hex digits).
    pub digest: String,
    /// Every bucket, by number (`TableDigest::BUCKETS` of them).
    pub buckets: Vec<BucketDigest>,
    pub watermark: Vec<OriginMark>,
}

impl TableDigest {
    /// Buckets per table digest.
    pub const BUCKETS: usize = 256;
}

/// One record as a digest bucket lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecord {
    pub bucket: u16,
    pub key: Value,
    pub version: i64,
    pub origin: String,
    /// Its hash in the bucket's digest (32 hex digits).
    pub hash: String,
}

/// How a node holds one key: a record (its document as stored), a tombstone, or nothing.
/// `version` and `origin` are what last-writer-wins orders by; `updated` is the write's time
/// (milliseconds since the epoch), for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    Live { version: i64, origin: String, updated: f64, record: serde_json::Map<String, Value> },
    Deleted { version: i64, origin: String, updated: f64 },
    Absent,
}

impl RecordState {
    /// What orders it (absent is below every write).
    pub fn mark(&self) -> RecordMark {
        match self {
            RecordState::Live { version, origin, .. } => RecordMark::Live { version: *version, origin: origin.clone() },
            RecordState::Deleted { version, origin, .. } => RecordMark::Deleted { version: *version, origin: origin.clone() },
            RecordState::Absent => RecordMark::Absent,
        }
    }
}

/// A key's state without its document: what a repair expects to find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordMark {
    Live { version: i64, origin: String },
    Deleted { version: i64, origin: String },
    Absent,
}

impl RecordMark {
    /// The (version, origin) last-writer-wins compares; `None` for absent.
    pub fn order(&self) -> Option<(i64, &str)> {
        match self {
            RecordMark::Live { version, origin } | RecordMark::Deleted { version, origin } => Some((*version, origin.as_str())),
            RecordMark::Absent => None,
        }
    }
}

/// One key as record_states answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyState {
    pub key: Value,
    #[serde(flatten)]
    pub state: RecordState,
}

/// record_states' answer, in the order the keys were asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordStates {
    pub node: String,
    pub keys: Vec<KeyState>,
}

/// repair_records' answer: how many keys were set, and the keys left alone because the node no
/// longer held what the repair expected (verify again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    pub node: String,
    pub repaired: u64,
    pub changed: Vec<Value>,
}

/// table_digest_records' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecords {
    pub node: String,
    pub buckets: Vec<u16>,
    pub records: Vec<DigestRecord>,
    /// Whether the buckets hold more after the last record listed (ask again with `after`).
    pub more: bool,
}
