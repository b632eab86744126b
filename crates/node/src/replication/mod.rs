//! Replication between nodes: the links this node dials (configured by the cluster operations
//! in `ops/cluster.rs`), their live state, and applying batches received from a peer.

pub mod acks;
mod link;
pub mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchyard_protocol::sc::{Ack, Txns};
use switchyard_protocol::tls::Trust;
use switchyard_protocol::ops::{LinkState as LinkStatusState, NodeSubscription};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::store::value::now_ms;
use crate::store::{OnDisk, RemoteEntry, Store, StoredPeer};
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
    /// Some: connect with TLS, trusting the peer's certificate so.
    pub tls: Option<Trust>,
    /// Configured, not dialled (update_node `paused`).
    pub paused: bool,
}

impl PeerConfig {
    /// A stored peer; a corrupt row is an error, never defaults.
    pub fn from_stored(p: StoredPeer) -> Result<PeerConfig> {
        Ok(PeerConfig {
            subscriptions: serde_json::from_str(&p.subscriptions).map_err(|e| Error::Internal(format!("stored subscriptions of '{}' are corrupt: {e}", p.name)))?,
            tls: match &p.tls {
                Some(t) => Some(serde_json::from_str(t).map_err(|e| Error::Internal(format!("stored TLS settings of '{}' are corrupt: {e}", p.name)))?),
                None => None,
            },
            paused: p.paused,
            name: p.name,
            host: p.host,
            port: p.port,
            username: p.username,
            password: p.password,
        })
    }

    pub fn to_stored(&self) -> Result<StoredPeer> {
        let json = |v: serde_json::Result<String>| v.map_err(|e| Error::Internal(format!("peer settings could not be written: {e}")));
        Ok(StoredPeer {
            name: self.name.clone(),
            host: self.host.clone(),
            port: self.port,
            username: self.username.clone(),
            password: self.password.clone(),
            subscriptions: json(serde_json::to_string(&self.subscriptions))?,
            tls: match &self.tls {
                Some(t) => Some(json(serde_json::to_string(t))?),
                None => None,
            },
            paused: self.paused,
        })
    }

    /// Where the peer's SocketCluster endpoint is, and how its certificate is trusted.
    pub fn endpoint(&self) -> switchyard_sc::Endpoint {
        switchyard_sc::Endpoint { host: self.host.clone(), port: self.port, trust: self.tls.clone() }
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
    pub sent: Option<Arc<stream::Progress>>,
    /// Entries applied from the peer on this channel since the link started.
    pub received_entries: u64,
    pub error: Option<String>,
    /// Batches found not to continue from where the receiver stood (and so sent again).
    pub gaps: u64,
}

#[derive(Debug)]
struct LinkInner {
    state: LinkStatusState,
    since: f64,
    last_error: Option<String>,
    refused_by: Option<String>,
    latency_ms: Option<f64>,
    channels: HashMap<String, ChannelStatus>,
}

impl LinkInner {
    fn set(&mut self, state: LinkStatusState, error: Option<String>) {
        if self.state != state {
            self.state = state;
            self.since = now_ms();
        }
        if error.is_some() || state == LinkStatusState::Open {
            self.last_error = error;
        }
        if state == LinkStatusState::Open {
            self.refused_by = None;
        }
    }
}

impl Default for LinkInner {
    fn default() -> Self {
        LinkInner { state: LinkStatusState::Connecting, since: now_ms(), last_error: None, refused_by: None, latency_ms: None, channels: HashMap::new() }
    }
}

/// The live state of one link, shared between its task and cluster_status.
#[derive(Debug, Default)]
pub struct LinkState(Mutex<LinkInner>);

/// What a link's state says at one moment.
#[derive(Debug, Clone)]
pub struct LinkSnapshot {
    pub state: LinkStatusState,
    pub since: f64,
    pub last_error: Option<String>,
    /// The procedure the peer refused when the link last failed to open (`login`, `#hello`).
    pub refused_by: Option<String>,
    pub latency_ms: Option<f64>,
    pub channels: HashMap<String, ChannelStatus>,
}

impl LinkState {
    pub fn snapshot(&self) -> LinkSnapshot {
        self.with(|s| LinkSnapshot {
            state: s.state,
            since: s.since,
            last_error: s.last_error.clone(),
            refused_by: s.refused_by.clone(),
            latency_ms: s.latency_ms,
            channels: s.channels.clone(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut LinkInner) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    pub fn set(&self, state: LinkStatusState, error: Option<String>) {
        self.with(|s| s.set(state, error))
    }

    /// The link could not be opened: closed with the error, and the procedure the peer refused
    /// if it refused one.
    pub fn failed_to_open(&self, e: &switchyard_sc::Error) {
        let refused_by = match e {
            switchyard_sc::Error::Refused { procedure, .. } => Some(procedure.clone()),
            _ => None,
        };
        self.with(|s| {
            s.set(LinkStatusState::Closed, Some(e.to_string()));
            s.refused_by = refused_by;
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
    /// None while the link is paused.
    task: Option<JoinHandle<()>>,
}

impl Link {
    fn abort(&self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }

    /// Aborts the link's task and waits until it has ended: an aborted task may still be inside
    /// a poll on another worker (recording an ack), and what the caller forgets next must stay
    /// forgotten.
    async fn stopped(self) {
        self.abort();
        if let Some(t) = self.task {
            let _ = t.await;
        }
    }
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

    /// Dials a peer (again), or holds it paused: a link already running under its name is
    /// replaced, and has stopped when this answers.
    pub(crate) async fn spawn(&self, node: &Arc<Node>, config: PeerConfig) {
        let state = Arc::new(LinkState::default());
        let task = if config.paused {
            state.set(LinkStatusState::Paused, None);
            None
        } else {
            Some(node.tasks.spawn(link::run(node.clone(), config.clone(), state.clone())))
        };
        let old = self.lock().insert(config.name.clone(), Link { config, state, task });
        if let Some(old) = old {
            old.stopped().await;
        }
    }

    /// Tears a link down, stopped when this answers; false when none ran under the name.
    pub(crate) async fn stop(&self, name: &str) -> bool {
        let link = self.lock().remove(name);
        match link {
            Some(link) => {
                link.stopped().await;
                true
            }
            None => false,
        }
    }

    /// Dials every stored peer; called once when the node starts serving.
    pub async fn start_all(&self, node: &Arc<Node>) -> Result<()> {
        for config in load_peers(&node.store).await? {
            self.spawn(node, config).await;
        }
        Ok(())
    }

    /// Every link with its live state, for cluster_status.
    pub fn links(&self) -> Vec<(PeerConfig, Arc<LinkState>)> {
        self.lock().values().map(|l| (l.config.clone(), l.state.clone())).collect()
    }

    /// The configurations of the links this node dials.
    pub fn configs(&self) -> Vec<PeerConfig> {
        self.lock().values().map(|l| l.config.clone()).collect()
    }

    pub fn stop_all(&self) {
        for (_, link) in self.lock().drain() {
            link.abort();
        }
    }
}

/// The stored peers, read back.
async fn load_peers(store: &Store) -> Result<Vec<PeerConfig>> {
    store.peers().await?.into_iter().map(PeerConfig::from_stored).collect()
}

/// Applies one `sy:txns` batch from `peer` (`relay`: the limited user it pushed as, if any; see
/// `Store::apply_remote`). A batch that does not continue from where this node stands is refused
/// (`Error::Gap`): the sender is asked to resend from there.
pub async fn apply_batch(store: &Store, peer: &str, batch: Txns<RemoteEntry>, relay: Option<&str>) -> Result<Ack> {
    let (ack, on_disk) = apply_batch_unsynced(store, peer, batch, relay).await?;
    on_disk.await?;
    Ok(ack)
}

/// `apply_batch`, answering once committed: the ack may be sent once `OnDisk` resolves.
pub async fn apply_batch_unsynced(store: &Store, peer: &str, batch: Txns<RemoteEntry>, relay: Option<&str>) -> Result<(Ack, OnDisk)> {
    let (_, on_disk) = store.apply_remote_unsynced(peer, &batch.channel, batch.entries, batch.from, batch.upto, relay).await?;
    Ok((Ack { channel: batch.channel, upto: batch.upto }, on_disk))
}


