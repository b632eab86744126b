//! Links between nodes: add_node, update_node, remove_node, cluster_status, cluster_read and the
//! transaction log.

use serde::{Deserialize, Serialize};
use serde_json::Value;


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
    /// Keep the link configured but carry nothing (an outage on purpose: both sides hold their
    /// positions, what is written meanwhile waits and is sent when it resumes). update_node
    /// without it keeps the link as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
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
    #[serde(alias = "schema", default = "super::default_database")]
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
    /// Configured but paused by its operator (update_node `paused`): carries nothing.
    Paused,
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
    /// How far behind the peer is, in milliseconds: the age, by this node's clock, of the oldest
    /// entry in `backlog` (its commit time at its origin); 0 when the peer has everything.
    #[serde(default)]
    pub lag_ms: f64,
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
