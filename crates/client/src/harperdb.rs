//! HarperDB 4.7's cluster shapes where they differ from switchyard-node's: its add_node,
//! update_node and remove_node requests (a peer by `hostname` and `url`, per-table subscriptions
//! by `database` and `table`), and its cluster_status and `system.hdb_nodes`, read into the
//! studio's `ClusterStatus` (reference: shared/reference/harperdb-4.7.md §1.6, §2).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use switchyard_protocol::ops::{ChannelStatus, ClusterStatus, LinkState, LinkStatus, NodeAuthorization, NodeSubscription};
use switchyard_protocol::Channel;
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::ops::SearchByValue;
use switchyard_protocol::Operation;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::OpsClient;

/// A cluster operation in HarperDB's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Request {
    AddNode(Node),
    UpdateNode(Node),
    RemoveNode(NodeRef),
    /// The instance's whole configuration (its replication endpoint is in it).
    GetConfiguration,
    /// Writes one file of a component (a project under the instance's components folder).
    SetComponentFile(ComponentFile),
    /// Reads one file of a component.
    GetComponentFile(ComponentFileRef),
    /// Restarts a service: `http_workers` loads components anew.
    RestartService(Service),
}

impl Request {
    pub fn name(&self) -> &'static str {
        match self {
            Request::AddNode(_) => "add_node",
            Request::UpdateNode(_) => "update_node",
            Request::RemoveNode(_) => "remove_node",
            Request::GetConfiguration => "get_configuration",
            Request::SetComponentFile(_) => "set_component_file",
            Request::GetComponentFile(_) => "get_component_file",
            Request::RestartService(_) => "restart_service",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentFile {
    pub project: String,
    pub file: String,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentFileRef {
    pub project: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub service: String,
}

/// get_component_file's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileContents {
    pub message: String,
}

/// What the studio reads of get_configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Configuration {
    pub replication: Replication,
    pub http: Http,
}

/// The `http` section: where REST, WebSocket and MQTT-over-WebSocket are served.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Http {
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default, rename = "securePort")]
    pub secure_port: Option<u16>,
}

/// The project the studio writes its table exports into.
pub const EXPORT_PROJECT: &str = "switchyard_export";

/// The name a table is exported under by the studio's component: its MQTT topic root and REST
/// path. `database_table`, with anything but letters, digits and `_` made `_` (a JavaScript
/// identifier).
pub fn export_name(database: &str, table: &str) -> String {
    let name: String = format!("{database}_{table}").chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// The line of the component's `resources.js` that exports one table (optional chaining: a
/// dropped table must not break the other exports).
pub fn export_line(database: &str, table: &str) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    format!("export const {} = databases[\"{}\"]?.[\"{}\"];", export_name(database, table), quote(database), quote(table))
}

/// `resources.js` exporting what `existing` exported and the `tables` (`(database, table)`),
/// each once, in a stable order.
pub fn export_resources(existing: &str, tables: &[(String, String)]) -> String {
    let mut lines: BTreeSet<String> = existing.lines().map(str::trim).filter(|l| l.starts_with("export const ")).map(str::to_string).collect();
    for (d, t) in tables {
        lines.insert(export_line(d, t));
    }
    lines.into_iter().map(|l| l + "\n").collect()
}

/// The component's other two files (a module, serving REST and its resources).
pub const EXPORT_PACKAGE_JSON: &str = r#"{"name":"switchyard_export","version":"1.0.0","type":"module"}"#;
pub const EXPORT_CONFIG_YAML: &str = "rest: true\njsResource:\n  files: resources.js\n";

/// The `replication` section: where peers reach this node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Replication {
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// The insecure (ws://) port, when one is set.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default, rename = "securePort")]
    pub secure_port: Option<u16>,
}

impl Replication {
    /// The URL peers dial: `replication.url` when set, else `ws://hostname:port` when an
    /// insecure port is set, else `wss://hostname:securePort` (reference §0).
    pub fn peer_url(&self) -> Result<String, String> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let host = self.hostname.as_deref().ok_or("its configuration names no replication.hostname")?;
        match (self.port, self.secure_port) {
            (Some(port), _) => Ok(format!("ws://{host}:{port}")),
            (None, Some(port)) => Ok(format!("wss://{host}:{port}")),
            (None, None) => Err("its configuration names no replication port".into()),
        }
    }
}

/// add_node and update_node: the peer `hostname` (its `replication.hostname`) at `url`
/// (`wss://host:replication-port`; without it HarperDB builds one with its *own* port).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether the peer's certificate must chain to a known CA (false for the self-signed CA
    /// of a fresh instance: first contact then exchanges certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// Credentials on the peer, used once to have it sign this node's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<NodeAuthorization>,
    /// Per-table subscriptions (HarperDB calls them discouraged); none means its default, every
    /// database both ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRef {
    pub hostname: String,
}

/// One table of a link, from the point of view of the node that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub database: String,
    pub table: String,
    /// This node's writes go to the peer.
    pub publish: bool,
    /// The peer's writes come to this node.
    pub subscribe: bool,
}

impl Subscription {
    pub fn from_node(s: &NodeSubscription) -> Subscription {
        Subscription { database: s.channel.database.clone(), table: s.channel.table.clone(), publish: s.publish, subscribe: s.subscribe }
    }

    fn to_node(&self) -> Result<NodeSubscription, String> {
        let channel: Channel = format!("{}:{}", self.database, self.table).parse().map_err(|e: String| format!("a subscription names no table: {e}"))?;
        Ok(NodeSubscription { channel, publish: self.publish, subscribe: self.subscribe })
    }
}

/// cluster_status as HarperDB 4.7 answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Status {
    pub node_name: String,
    /// This node's replication URL (`wss://host:port`): what a peer's add_node names.
    #[serde(default)]
    pub url: Option<String>,
    pub is_enabled: bool,
    pub connections: Vec<Connection>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Connection {
    pub name: String,
    pub url: String,
    /// Per-table subscriptions; none (with `replicates`) for the default full mesh.
    #[serde(default)]
    pub subscriptions: Option<Vec<Subscription>>,
    #[serde(default)]
    pub replicates: Option<bool>,
    /// One socket per replicated database.
    #[serde(default)]
    pub database_sockets: Vec<DatabaseSocket>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DatabaseSocket {
    pub database: String,
    pub connected: bool,
    #[serde(default)]
    pub latency: Option<f64>,
}

/// A row of `system.hdb_nodes`: the links this node is configured with (replicated to every
/// node of a mesh).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HdbNode {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub subscriptions: Option<Vec<Subscription>>,
    #[serde(default)]
    pub replicates: Option<bool>,
}

/// What HarperDB says of its links: cluster_status (the live connections) and hdb_nodes (the
/// configured ones).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub status: Status,
    pub nodes: Vec<HdbNode>,
}

/// A HarperDB node's links as the studio draws them, with what only HarperDB has.
#[derive(Debug, Clone, PartialEq)]
pub struct Links {
    pub status: ClusterStatus,
    /// Links that replicate whole databases both ways (HarperDB's default full mesh).
    pub mesh: Vec<String>,
    /// Links still connected although no longer in hdb_nodes: remove_node left them running
    /// until the HTTP workers restart (reference §2.4).
    pub stale: Vec<String>,
    /// Links this node only publishes on: the peer opens their sockets, so this side cannot
    /// tell their state (the peer's own view can).
    pub passive: Vec<String>,
}

/// The database HarperDB replicates users, roles and hdb_nodes in: not table data.
const SYSTEM: &str = "system";

impl Cluster {
    /// The links in the studio's shape. `tables` (`database:table`) are this node's: a full mesh
    /// carries every one of them (of the databases it has sockets for) to the peer, and the
    /// peer's own view carries the way back, so each side contributes its outgoing half.
    /// `now_ms` is when this was read (HarperDB does not say since when a link is in its state).
    pub fn links(&self, tables: &[String], now_ms: f64) -> Result<Links, String> {
        let configured: BTreeSet<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        let (mut mesh, mut stale, mut passive, mut connections) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for c in &self.status.connections {
            let (host, port, tls) = address(&c.url)?;
            let sockets: Vec<&DatabaseSocket> = c.database_sockets.iter().collect();
            let state = match (sockets.is_empty(), sockets.iter().all(|s| s.connected)) {
                (true, _) => LinkState::Connecting,
                (false, true) => LinkState::Open,
                (false, false) => LinkState::Closed,
            };
            let down: Vec<&str> = sockets.iter().filter(|s| !s.connected).map(|s| s.database.as_str()).collect();
            let latencies: Vec<f64> = sockets.iter().filter_map(|s| s.latency).collect();
            let subscriptions = match c.subscriptions.as_ref().filter(|s| !s.is_empty()) {
                Some(list) => list.iter().map(Subscription::to_node).collect::<Result<Vec<_>, _>>()?,
                None => {
                    mesh.push(c.name.clone());
                    let databases: BTreeSet<&str> = sockets.iter().map(|s| s.database.as_str()).filter(|d| *d != SYSTEM).collect();
                    tables
                        .iter()
                        .filter_map(|t| t.parse::<Channel>().ok())
                        .filter(|ch| databases.contains(ch.database.as_str()))
                        .map(|channel| NodeSubscription { channel, publish: true, subscribe: false })
                        .collect()
                }
            };
            if !configured.contains(c.name.as_str()) {
                stale.push(c.name.clone());
            }
            if sockets.is_empty() && c.subscriptions.as_ref().is_some_and(|l| !l.is_empty()) && subscriptions.iter().all(|s| !s.subscribe) {
                passive.push(c.name.clone());
            }
            connections.push(LinkStatus {
                name: c.name.clone(),
                host,
                port,
                tls,
                state,
                since: now_ms,
                latency_ms: (!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
                last_error: (!down.is_empty()).then(|| format!("not connected: {} (HarperDB does not say why)", down.join(", "))),
                refused_by: None,
                channels: subscriptions.iter().map(channel_status).collect(),
                subscriptions,
            });
        }
        // Configured but not connected at all: shown as links still connecting.
        for n in self.nodes.iter().filter(|n| n.name != self.status.node_name && !self.status.connections.iter().any(|c| c.name == n.name)) {
            let Some(url) = &n.url else { continue };
            let (host, port, tls) = address(url)?;
            let subscriptions = n.subscriptions.iter().flatten().map(Subscription::to_node).collect::<Result<Vec<_>, _>>()?;
            connections.push(LinkStatus {
                name: n.name.clone(),
                host,
                port,
                tls,
                state: LinkState::Connecting,
                since: now_ms,
                latency_ms: None,
                last_error: Some("configured in hdb_nodes, not connected yet".into()),
                refused_by: None,
                channels: subscriptions.iter().map(channel_status).collect(),
                subscriptions,
            });
        }
        let status = ClusterStatus {
            kind: "cluster-status".into(),
            node_name: self.status.node_name.clone(),
            is_enabled: self.status.is_enabled,
            read_only: None,
            connections,
            receivers: Vec::new(),
            log_head: 0,
        };
        Ok(Links { status, mesh, stale, passive })
    }
}

/// HarperDB reports no positions: a channel's status says only which way it flows.
fn channel_status(s: &NodeSubscription) -> ChannelStatus {
    ChannelStatus {
        channel: s.channel.to_string(),
        subscribe: s.subscribe,
        publish: s.publish,
        last_received: None,
        last_sent: None,
        last_acknowledged: None,
        local_head: 0,
        backlog: 0,
        gaps: 0,
        error: None,
        entries_received: 0,
        entries_sent: 0,
    }
}

/// Host, port and TLS of a replication URL (`wss://host:port` or `ws://…`).
pub fn address(url: &str) -> Result<(String, u16, bool), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("'{url}' is not a replication URL: {e}"))?;
    let tls = match u.scheme() {
        "wss" => true,
        "ws" => false,
        other => return Err(format!("'{url}' is not a replication URL (scheme {other})")),
    };
    let host = u.host_str().ok_or_else(|| format!("'{url}' names no host"))?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = u.port().ok_or_else(|| format!("'{url}' names no port"))?;
    Ok((host, port, tls))
}

/// The HarperDB-only requests of the Operations API client.
impl OpsClient {
    /// A HarperDB instance's links: cluster_status and its `system.hdb_nodes`.
    pub async fn harperdb_cluster(&self) -> Result<Cluster> {
        let status = self.run_as(&Operation::ClusterStatus(NoFields {})).await?;
        let nodes = self
            .run_as(&Operation::SearchByValue(SearchByValue::every("system", "hdb_nodes", "name", &["*"])))
            .await?;
        Ok(Cluster { status, nodes })
    }

    /// Where HarperDB peers reach this instance (its replication URL, from get_configuration).
    pub async fn harperdb_peer_url(&self) -> Result<String> {
        let config: Configuration = self.parse(self.run_harperdb(&Request::GetConfiguration).await?)?;
        config.replication.peer_url().map_err(|reason| self.malformed(reason))
    }

    /// Where this HarperDB instance serves MQTT over WebSocket: `ws://host:http-port/mqtt`, on the
    /// host the client reaches it at.
    pub async fn harperdb_mqtt_url(&self) -> Result<String> {
        let config: Configuration = self.parse(self.run_harperdb(&Request::GetConfiguration).await?)?;
        let host = reqwest::Url::parse(self.url()).ok().and_then(|u| u.host_str().map(str::to_string)).ok_or_else(|| Error::Config(format!("'{}' names no host", self.url())))?;
        match (config.http.port, config.http.secure_port) {
            (Some(port), _) => Ok(format!("ws://{host}:{port}/mqtt")),
            (None, Some(_)) => Err(Error::Config("this HarperDB serves HTTP over TLS only; the studio tails it over plain ws:// (loopback or a trusted network) for now".into())),
            (None, None) => Err(self.malformed("its configuration names no HTTP port")),
        }
    }

    /// Sends one cluster operation in HarperDB's form.
    pub async fn run_harperdb(&self, request: &Request) -> Result<Value> {
        let body = serde_json::to_vec(request).map_err(|e| Error::Config(format!("the request could not be written: {e}")))?;
        let r = self.send_bytes(body, "application/json").await?;
        self.answer(r)
    }
}

#[cfg(test)]
#[path = "harperdb_tests.rs"]
mod tests;
