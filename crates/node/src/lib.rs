//! switchyard-node: the Switchyard instance server. SQLite storage, the HarperDB-style
//! Operations API, users, roles and tokens. Embeddable: `start` runs a node in process (the
//! studio and the tests do), `router` and `run` serve it on a listener of your choosing.

pub mod auth;
pub mod channels;
pub mod config;
pub mod connection;
pub mod error;
pub mod expiry;
pub mod http;
pub mod log;
pub mod outbound;
pub mod ops;
pub mod replication;
pub mod store;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::NodeConfig;
pub use error::{Error, Result};
pub use http::{router, run};

/// The software version reported by registration_info and system_information.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// How long stopping waits for the node's tasks.
pub const SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// What registration_info calls this kind of server, so clients can tell it from HarperDB.
pub const KIND: &str = "switchyard-node";

/// Turns transparent huge pages off for the whole process (Linux; elsewhere nothing). Called
/// by the processes that run a node: the binary and the test kit (the studio turns them off
/// itself, first thing, for its memory: `footprint.rs`). Where THP is
/// `madvise` (Debian's and Ubuntu's setting) mimalloc asks for them, and each arena it touches
/// anew, or again after giving it back, faults in a 2 MiB page the kernel zeroes first: on the
/// apply path that was a quarter of the CPU time, and replication's throughput ran at 51–65k
/// records/s against 90–111k without (BENCHMARKS.md, eleventh session). Idempotent.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with these arguments reads and writes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// One node's state, shared by every request.
pub struct Node {
    pub config: NodeConfig,
    pub store: Arc<store::Store>,
    pub auth: auth::Auth,
    pub log: log::NodeLog,
    pub started: Instant,
    /// Cancelled when the node stops: the one signal every long-lived task (server, sockets,
    /// peer links, expiry) watches.
    pub shutdown: CancellationToken,
    /// Every task the node spawns, so that stopping can wait for all of them (bounded).
    pub tasks: TaskTracker,
    /// The peers this node dials.
    pub peers: replication::Peers,
    /// How far each peer has applied this node's log, per channel.
    pub acks: replication::acks::Acks,
    /// Set when the node serves https:// and wss://.
    pub tls: Option<tls::ServerTls>,
}

impl Node {
    /// Opens (or creates) the data folder. Returns the admin password when one was generated.
    pub async fn open(config: NodeConfig) -> Result<(Arc<Node>, Option<String>)> {
        store::validate_name("node", &config.node_name)?;
        let log = log::NodeLog::open(&config.data_dir.join("log"))?;
        let tasks = TaskTracker::new();
        let store = Arc::new(store::Store::open(&config.data_dir, &config.node_name, config.max_storage_bytes, tasks.clone()).await?);
        let (auth, generated) = auth::Auth::open(store.clone(), &config.admin_user, config.admin_password.as_deref(), config.operation_token_ttl, config.cluster_user.as_ref()).await?;
        log.info(&["startup"], format!("node '{}' opened {}", config.node_name, config.data_dir.display()));
        if generated.is_some() {
            log.info(&["startup", "auth"], format!("created super user '{}' with a generated password", config.admin_user));
        }
        let tls = if config.tls {
            let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), config.node_name.clone()];
            let t = tls::load(config.tls_cert.as_deref(), config.tls_key.as_deref(), &config.data_dir.join("tls"), &names)?;
            log.info(&["startup", "tls"], format!("serving TLS; certificate SHA-256 {}", t.fingerprint));
            Some(t)
        } else {
            None
        };
        let node = Arc::new(Node {
            config,
            store,
            auth,
            log,
            started: Instant::now(),
            shutdown: CancellationToken::new(),
            tasks,
            peers: Default::default(),
            acks: Default::default(),
            tls,
        });
        node.acks.load(&node).await?;
        Ok((node, generated))
    }

    /// Starts what runs beside the requests: the links to stored peers and table expiry. Both
    /// end when `shutdown` is cancelled.
    pub async fn start_background(self: &Arc<Self>) -> Result<()> {
        self.peers.start_all(self).await?;
        self.tasks.spawn(expiry::run(self.clone()));
        Ok(())
    }

    /// Ends the node's tasks: cancels `shutdown` (the server stops accepting and finishes
    /// in-flight requests, sockets close, links and expiry end), then waits for every tracked
    /// task for at most SHUTDOWN_TIMEOUT and closes storage. Answers how many tasks were still
    /// running when the wait gave up (0 when all ended).
    pub async fn stop(&self) -> usize {
        self.shutdown.cancel();
        self.peers.stop_all();
        self.tasks.close();
        let left = match tokio::time::timeout(SHUTDOWN_TIMEOUT, self.tasks.wait()).await {
            Ok(()) => 0,
            Err(_) => {
                let left = self.tasks.len();
                self.log.error(&["shutdown"], format!("{left} tasks did not end within {} s", SHUTDOWN_TIMEOUT.as_secs()));
                left
            }
        };
        self.store.close().await;
        left
    }
}

/// A node serving on a listener in this process.
pub struct RunningNode {
    pub addr: SocketAddr,
    pub node: Arc<Node>,
    /// The admin password generated on first start, if none was configured.
    pub generated_password: Option<String>,
}

impl RunningNode {
    pub fn url(&self) -> String {
        let scheme = if self.node.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, ends every task (see `Node::stop`),
    /// then checkpoints and closes storage. Answers how many tasks outlived the timeout.
    pub async fn stop(self) -> usize {
        self.node.stop().await
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        // Dropped without stop(): ask every task to end; storage closes with the last Arc.
        self.node.shutdown.cancel();
    }
}

/// Opens the node and serves it on `listener` until `RunningNode::stop`.
pub async fn start(config: NodeConfig, listener: TcpListener) -> Result<RunningNode> {
    let addr = listener.local_addr()?;
    let (node, generated_password) = Node::open(config).await?;
    node.tasks.spawn(run(listener, node.clone(), node.shutdown.clone().cancelled_owned()));
    node.start_background().await?;
    node.log.info(&["startup"], format!("listening on http://{addr}"));
    Ok(RunningNode { addr, node, generated_password })
}
