//! Replication between nodes: the peers this node dials (add_node/update_node/remove_node),
//! their live state for cluster_status, and applying batches received from a peer.

pub mod acks;
mod link;
mod read;
pub mod stream;

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sqlx::Row;
use switchyard_protocol::sc::{Ack, Txns};
use switchyard_protocol::tls::Trust;
use switchyard_protocol::ops::{AddNode, ClusterStatus, LinkState as LinkStatusState, LinkStatus, NodeSubscription, NodeTls};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::store::value::now_ms;
use crate::store::{RemoteEntry, Store};
use crate::Node;

/// A peer this node dials, as stored.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub subscriptions: Vec<NodeSubscription>,
    /// Some: connect with TLS.
    pub tls: Option<NodeTls>,
}

impl PeerConfig {
    /// How the peer's certificate is trusted, when the link uses TLS.
    pub fn trust(&self) -> Option<Trust> {
        self.tls.as_ref().map(|t| match (&t.fingerprint, &t.ca) {
            (Some(fp), _) => Trust::Fingerprint(fp.clone()),
            (None, Some(ca)) => Trust::Ca(ca.clone()),
            (None, None) => Trust::WebRoots,
        })
    }

    /// Where the peer's SocketCluster endpoint is, and how its certificate is trusted.
    pub fn endpoint(&self) -> switchyard_sc::Endpoint {
        switchyard_sc::Endpoint { host: self.host.clone(), port: self.port, trust: self.trust() }
    }

    fn scheme(&self, secure: &str, plain: &str) -> String {
        let s = if self.tls.is_some() { secure } else { plain };
        format!("{s}://{}:{}", self.host, self.port)
    }

    pub fn http_url(&self) -> String {
        self.scheme("https", "http")
    }

    pub fn ws_url(&self) -> String {
        format!("{}/socketcluster/", self.scheme("wss", "ws"))
    }
}

/// Per channel of a link: positions for cluster_status.
#[derive(Debug, Default, Clone)]
pub struct ChannelStatus {
    /// The peer's log id we have applied up to (subscribe direction).
    pub last_received: i64,
    /// Our log id sent up to (publish direction), updated by the stream task.
    pub sent: Option<Arc<AtomicI64>>,
    pub error: Option<String>,
    /// Batches found not to continue from where the receiver stood (and so sent again).
    pub gaps: u64,
}

#[derive(Debug)]
struct LinkInner {
    state: LinkStatusState,
    since: f64,
    last_error: Option<String>,
    latency_ms: Option<f64>,
    channels: HashMap<String, ChannelStatus>,
}

impl Default for LinkInner {
    fn default() -> Self {
        LinkInner { state: LinkStatusState::Connecting, since: now_ms(), last_error: None, latency_ms: None, channels: HashMap::new() }
    }
}

/// The live state of one link, shared between its task and cluster_status.
#[derive(Debug, Default)]
pub struct LinkState(Mutex<LinkInner>);

impl LinkState {
    fn with<T>(&self, f: impl FnOnce(&mut LinkInner) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    pub fn set(&self, state: LinkStatusState, error: Option<String>) {
        self.with(|s| {
            if s.state != state {
                s.state = state;
                s.since = now_ms();
            }
            if error.is_some() || state == LinkStatusState::Open {
                s.last_error = error;
            }
        })
    }

    pub fn latency(&self, ms: f64) {
        self.with(|s| s.latency_ms = Some((ms * 100.0).round() / 100.0))
    }

    pub fn channel(&self, channel: &str, f: impl FnOnce(&mut ChannelStatus)) {
        self.with(|s| f(s.channels.entry(channel.to_string()).or_default()))
    }
}

struct Link {
    config: PeerConfig,
    state: Arc<LinkState>,
    task: JoinHandle<()>,
}

/// The links this node dials, by peer name.
#[derive(Default)]
pub struct Peers {
    links: Mutex<HashMap<String, Link>>,
}

impl Peers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Link>> {
        match self.links.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn spawn(&self, node: &Arc<Node>, config: PeerConfig) {
        let state = Arc::new(LinkState::default());
        let task = node.tasks.spawn(link::run(node.clone(), config.clone(), state.clone()));
        if let Some(old) = self.lock().insert(config.name.clone(), Link { config, state, task }) {
            old.task.abort();
        }
    }

    fn stop(&self, name: &str) -> bool {
        match self.lock().remove(name) {
            Some(link) => {
                link.task.abort();
                true
            }
            None => false,
        }
    }

    /// Dials every stored peer; called once when the node starts serving.
    pub async fn start_all(&self, node: &Arc<Node>) -> Result<()> {
        for config in load_peers(&node.store).await? {
            self.spawn(node, config);
        }
        Ok(())
    }

    /// The configurations of the links this node dials.
    pub fn configs(&self) -> Vec<PeerConfig> {
        self.lock().values().map(|l| l.config.clone()).collect()
    }

    pub fn stop_all(&self) {
        for (_, link) in self.lock().drain() {
            link.task.abort();
        }
    }
}

async fn load_peers(store: &Store) -> Result<Vec<PeerConfig>> {
    let rows = sqlx::query("SELECT name, host, port, username, password, subscriptions, tls FROM peers ORDER BY name")
        .fetch_all(store.read_pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PeerConfig {
                name: r.try_get("name")?,
                host: r.try_get("host")?,
                port: r.try_get::<i64, _>("port")? as u16,
                username: r.try_get("username")?,
                password: r.try_get("password")?,
                subscriptions: serde_json::from_str(&r.try_get::<String, _>("subscriptions")?)
                    .map_err(|e| Error::Internal(format!("stored subscriptions are corrupt: {e}")))?,
                tls: match r.try_get::<Option<String>, _>("tls")? {
                    Some(t) => Some(serde_json::from_str(&t).map_err(|e| Error::Internal(format!("stored TLS settings are corrupt: {e}")))?),
                    None => None,
                },
            })
        })
        .collect()
}

async fn save_peer(store: &Store, c: &PeerConfig) -> Result<()> {
    let subs = serde_json::to_string(&c.subscriptions).map_err(|e| Error::Internal(e.to_string()))?;
    let now = now_ms();
    let mut w = store.writer().await?;
    sqlx::query(
        "INSERT INTO peers (name, host, port, username, password, subscriptions, tls, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(name) DO UPDATE SET host = excluded.host, port = excluded.port, username = excluded.username, \
         password = excluded.password, subscriptions = excluded.subscriptions, tls = excluded.tls, updated = excluded.updated",
    )
    .bind(&c.name)
    .bind(&c.host)
    .bind(c.port as i64)
    .bind(&c.username)
    .bind(&c.password)
    .bind(subs)
    .bind(c.tls.as_ref().map(|t| serde_json::to_string(t).unwrap_or_default()))
    .bind(now)
    .bind(now)
    .execute(&mut *w)
    .await?;
    Ok(())
}

/// Applies one `sy:txns` batch from `peer`. A batch that does not continue from where this node
/// stands is refused (`Error::Gap`): the sender is asked to resend from there.
pub async fn apply_batch(store: &Store, peer: &str, batch: Txns<RemoteEntry>) -> Result<Ack> {
    store.apply_remote(peer, &batch.channel, batch.entries, batch.from, batch.upto).await?;
    Ok(Ack { channel: batch.channel, upto: batch.upto })
}

fn validate(req: &AddNode, existing: Option<&PeerConfig>, cluster: Option<&crate::config::ClusterUser>) -> Result<PeerConfig> {
    crate::store::validate_name("node", &req.name)?;
    let host = req.host.clone().or_else(|| existing.map(|e| e.host.clone())).ok_or_else(|| Error::bad("'host' is required"))?;
    let port = req.port.or(existing.map(|e| e.port)).ok_or_else(|| Error::bad("'port' is required"))?;
    let (username, password) = match (&req.authorization, existing) {
        (Some(a), _) => (a.username.clone(), a.password.clone()),
        (None, Some(e)) => (e.username.clone(), e.password.clone()),
        // The seed's form: every node shares one configured cluster user.
        (None, None) => match cluster {
            Some(c) => (c.username.clone(), c.password.clone()),
            None => {
                return Err(Error::bad(
                    "'authorization' {\"username\", \"password\"} of the peer's cluster user is required, or configure this \
                     node's cluster user (--cluster-user/--cluster-password, SWITCHYARD_CLUSTER_USER or CLUSTERING_USER, \
                     cluster_user in the TOML file)",
                ))
            }
        },
    };
    for s in &req.subscriptions {
        if !s.subscribe && !s.publish {
            return Err(Error::bad(format!("subscription to '{}' neither subscribes nor publishes", s.channel)));
        }
    }
    let tls = req.tls.clone().or_else(|| existing.and_then(|e| e.tls.clone()));
    let config = PeerConfig { name: req.name.clone(), host, port, username, password, subscriptions: req.subscriptions.clone(), tls };
    if let Some(trust) = config.trust() {
        switchyard_protocol::tls::client_config(&trust).map_err(|e| Error::bad(e.to_string()))?;
    }
    Ok(config)
}

pub async fn add_node(node: &Arc<Node>, req: AddNode) -> Result<Value> {
    if req.name == node.config.node_name {
        return Err(Error::bad(format!("'{}' is this node's own name", req.name)));
    }
    if load_peers(&node.store).await?.iter().any(|p| p.name == req.name) {
        return Err(Error::Conflict(format!("node '{}' is already in the cluster; use update_node", req.name)));
    }
    let config = validate(&req, None, node.config.cluster_user.as_ref())?;
    save_peer(&node.store, &config).await?;
    node.peers.spawn(node, config);
    Ok(json!({ "message": format!("Successfully added '{}' to cluster", req.name) }))
}

pub async fn update_node(node: &Arc<Node>, req: AddNode) -> Result<Value> {
    let existing = load_peers(&node.store).await?.into_iter().find(|p| p.name == req.name);
    let Some(existing) = existing else {
        return Err(Error::NotFound(format!("node '{}' is not in the cluster", req.name)));
    };
    let config = validate(&req, Some(&existing), node.config.cluster_user.as_ref())?;
    save_peer(&node.store, &config).await?;
    node.peers.spawn(node, config);
    Ok(json!({ "message": format!("Successfully updated '{}'", req.name) }))
}

/// Tears the link down at once and forgets the peer (its positions stay for a re-add).
pub async fn remove_node(node: &Arc<Node>, name: &str) -> Result<Value> {
    let stopped = node.peers.stop(name);
    let mut w = node.store.writer().await?;
    let done = sqlx::query("DELETE FROM peers WHERE name = ?").bind(name).execute(&mut *w).await?;
    if done.rows_affected() == 0 && !stopped {
        return Err(Error::NotFound(format!("node '{name}' is not in the cluster")));
    }
    Ok(json!({ "message": format!("Successfully removed '{name}' from cluster") }))
}

pub use read::cluster_read;

pub async fn cluster_status(node: &Arc<Node>) -> Result<ClusterStatus> {
    let links: Vec<(PeerConfig, Arc<LinkState>)> = node.peers.lock().values().map(|l| (l.config.clone(), l.state.clone())).collect();
    let mut connections = Vec::new();
    for (config, state) in links {
        let (st, since, last_error, latency, channels) = state.with(|s| (s.state, s.since, s.last_error.clone(), s.latency_ms, s.channels.clone()));
        let mut per_channel = Vec::new();
        for sub in &config.subscriptions {
            let channel = sub.channel.to_string();
            let status = channels.get(&channel).cloned().unwrap_or_default();
            let head = node.store.log_head(&channel).await?;
            let sent = status.sent_position();
            let backlog = match sent {
                Some(p) if sub.publish => node.store.backlog(&channel, p, &config.name).await?,
                _ => 0,
            };
            per_channel.push(switchyard_protocol::ops::ChannelStatus {
                last_received: sub.subscribe.then_some(status.last_received),
                last_sent: sent,
                last_acknowledged: if sub.publish { node.acks.get(&config.name, &channel) } else { None },
                local_head: head,
                backlog,
                gaps: status.gaps,
                error: status.error,
                subscribe: sub.subscribe,
                publish: sub.publish,
                channel,
            });
        }
        connections.push(LinkStatus {
            name: config.name.clone(),
            host: config.host.clone(),
            port: config.port,
            tls: config.tls.is_some(),
            state: st,
            since,
            latency_ms: latency,
            last_error,
            subscriptions: config.subscriptions.clone(),
            channels: per_channel,
        });
    }
    Ok(ClusterStatus {
        kind: "cluster-status".into(),
        node_name: node.config.node_name.clone(),
        is_enabled: true,
        read_only: node.store.read_only(),
        connections,
    })
}
