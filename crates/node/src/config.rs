//! Node configuration: command line, then environment, then a TOML file, then defaults.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

/// What a node needs to start; the library takes this directly (the studio, tests).
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    pub node_name: String,
    pub admin_user: String,
    /// Used when the data folder is new; None generates one (printed once by the binary).
    pub admin_password: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A storage quota: past it writes fail like on a full disk (507) and nothing is written.
    pub max_storage_bytes: Option<u64>,
    /// Serve https:// and wss:// (a self-signed certificate in `<data>/tls` unless files are given).
    pub tls: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Connections served at once (at most the open-files limit less some room); past it a
    /// new connection is answered 503 at once.
    pub max_connections: usize,
    /// A request's headers must arrive within this; a kept-alive connection idle this long closes.
    pub header_read_timeout: std::time::Duration,
    /// A request body that stops arriving for this long fails the request.
    pub body_read_timeout: std::time::Duration,
    /// A WebSocket that has handshaken but is not logged in (or lost its login) for this long is
    /// closed (4101): an open socket holds one of `max_connections`.
    pub socket_login_timeout: std::time::Duration,
    /// A socket that answers none of the server's pings for this long is closed (4001); the
    /// handshake tells clients (`pingTimeout`), and pings go out every 2/5 of it.
    pub socket_ping_timeout: std::time::Duration,
    /// How long the tombstone of a delete is kept: a replicated write older than the delete
    /// that arrives within this time cannot bring the record back.
    pub tombstone_retention: std::time::Duration,
    /// A tombstone that every receiving peer has acknowledged is still kept this long, for
    /// older writes still on their way from elsewhere.
    pub tombstone_grace: std::time::Duration,
    /// How long an operation token (and a socket's login token) is valid.
    pub operation_token_ttl: std::time::Duration,
    /// The cluster user every node of a cluster shares (the seed's `CLUSTERING_USER` /
    /// `CLUSTERING_PASSWORD`): an `add_node` without `authorization` dials with it.
    pub cluster_user: Option<ClusterUser>,
}

/// User name and password of the shared cluster user.
#[derive(Clone)]
pub struct ClusterUser {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for ClusterUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterUser").field("username", &self.username).field("password", &"***").finish()
    }
}

/// The default request body limit. Bodies are read only after authentication.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

impl NodeConfig {
    pub fn new(data_dir: impl Into<PathBuf>, node_name: impl Into<String>) -> Self {
        NodeConfig {
            data_dir: data_dir.into(),
            node_name: node_name.into(),
            admin_user: "admin".into(),
            admin_password: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_storage_bytes: None,
            tls: false,
            tls_cert: None,
            tls_key: None,
            operation_token_ttl: std::time::Duration::from_secs(24 * 3600),
            tombstone_retention: std::time::Duration::from_secs(7 * 24 * 3600),
            tombstone_grace: std::time::Duration::from_secs(600),
            max_connections: 1000,
            header_read_timeout: std::time::Duration::from_secs(10),
            body_read_timeout: std::time::Duration::from_secs(30),
            socket_login_timeout: std::time::Duration::from_secs(30),
            // SocketCluster's default.
            socket_ping_timeout: std::time::Duration::from_secs(20),
            cluster_user: None,
        }
    }

    pub fn with_admin(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.admin_user = user.into();
        self.admin_password = Some(password.into());
        self
    }
}

/// `switchyard-node` command line; each flag also reads an environment variable.
#[derive(Debug, Parser)]
#[command(name = "switchyard-node", version, about = "The Switchyard instance server")]
pub struct Cli {
    /// A TOML file with any of: data, host, port, node_name, admin_user, admin_password,
    /// admin_password_file, max_storage_mb, max_body_mb, max_connections, tls, tls_cert, tls_key, cluster_user,
    /// cluster_password.
    #[arg(long, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data folder (created when missing).
    #[arg(long, env = "SWITCHYARD_DATA")]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "SWITCHYARD_HOST")]
    pub host: Option<String>,
    /// Port for the Operations API (0 picks a free one).
    #[arg(long, env = "SWITCHYARD_PORT")]
    pub port: Option<u16>,
    /// This node's name in a cluster; unique per cluster.
    #[arg(long, env = "SWITCHYARD_NODE_NAME")]
    pub node_name: Option<String>,
    /// The first super user, created when the data folder is new.
    #[arg(long, env = "SWITCHYARD_ADMIN_USER")]
    pub admin_user: Option<String>,
    /// Its password; when absent on first start one is generated and printed once.
    #[arg(long, env = "SWITCHYARD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// A file holding its password (the first line), as the packaged service is given it.
    #[arg(long, env = "SWITCHYARD_ADMIN_PASSWORD_FILE", conflicts_with = "admin_password")]
    pub admin_password_file: Option<PathBuf>,
    /// Storage quota in MiB; writes past it are refused with 507 and nothing is written.
    #[arg(long, env = "SWITCHYARD_MAX_STORAGE_MB")]
    pub max_storage_mb: Option<u64>,
    /// Serve https:// and wss://; without --tls-cert/--tls-key a self-signed certificate is made.
    #[arg(long, env = "SWITCHYARD_TLS")]
    pub tls: bool,
    /// PEM certificate chain (implies --tls).
    #[arg(long, env = "SWITCHYARD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (implies --tls).
    #[arg(long, env = "SWITCHYARD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Connections served at once (default 1000, at most the open-files limit less 128).
    #[arg(long, env = "SWITCHYARD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// The largest request body in MiB (default 32), read only after authentication.
    #[arg(long, env = "SWITCHYARD_MAX_BODY_MB")]
    pub max_body_mb: Option<usize>,
    /// The cluster user shared by every node (also read from CLUSTERING_USER): `add_node`
    /// without `authorization` dials with it.
    #[arg(long, env = "SWITCHYARD_CLUSTER_USER")]
    pub cluster_user: Option<String>,
    /// Its password (also read from CLUSTERING_PASSWORD).
    #[arg(long, env = "SWITCHYARD_CLUSTER_PASSWORD", hide_env_values = true)]
    pub cluster_password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
    node_name: Option<String>,
    admin_user: Option<String>,
    admin_password: Option<String>,
    admin_password_file: Option<PathBuf>,
    max_storage_mb: Option<u64>,
    tls: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_body_mb: Option<usize>,
    max_connections: Option<usize>,
    cluster_user: Option<String>,
    cluster_password: Option<String>,
}

/// The resolved settings of the binary.
#[derive(Debug, Clone)]
pub struct Settings {
    pub node: NodeConfig,
    pub host: String,
    pub port: u16,
}

/// The first line of a password file; an empty one is refused.
fn read_password(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("the admin password file {}: {e}", path.display()))?;
    let password = text.lines().next().unwrap_or("").trim_end_matches('\r').to_string();
    if password.is_empty() {
        anyhow::bail!("the admin password file {} is empty", path.display());
    }
    Ok(password)
}

impl Cli {
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let data = self.data.or(file.data).unwrap_or_else(|| PathBuf::from("switchyard-data"));
        let node_name = self.node_name.or(file.node_name).unwrap_or_else(default_node_name);
        let mut node = NodeConfig::new(data, node_name);
        node.admin_user = self.admin_user.or(file.admin_user).unwrap_or_else(|| "admin".into());
        node.admin_password = match (self.admin_password, self.admin_password_file.or(file.admin_password_file), file.admin_password) {
            (Some(p), _, _) => Some(p),
            (None, Some(path), _) => Some(read_password(&path)?),
            (None, None, p) => p,
        };
        node.max_storage_bytes = self.max_storage_mb.or(file.max_storage_mb).map(|mb| mb * 1024 * 1024);
        node.tls_cert = self.tls_cert.or(file.tls_cert);
        node.tls_key = self.tls_key.or(file.tls_key);
        node.tls = self.tls || file.tls.unwrap_or(false) || node.tls_cert.is_some();
        if let Some(n) = self.max_connections.or(file.max_connections) {
            node.max_connections = n.max(1);
        }
        if let Some(mb) = self.max_body_mb.or(file.max_body_mb) {
            node.max_body_bytes = mb.max(1) * 1024 * 1024;
        }
        // The seed's variable names are aliases, read after ours.
        let seed = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let user = self.cluster_user.or_else(|| seed("CLUSTERING_USER")).or(file.cluster_user);
        let password = self.cluster_password.or_else(|| seed("CLUSTERING_PASSWORD")).or(file.cluster_password);
        node.cluster_user = match (user, password) {
            (Some(username), Some(password)) => Some(ClusterUser { username, password }),
            (None, None) => None,
            (Some(_), None) => anyhow::bail!("a cluster user is set but its password is not (--cluster-password, SWITCHYARD_CLUSTER_PASSWORD or CLUSTERING_PASSWORD)"),
            (None, Some(_)) => anyhow::bail!("a cluster password is set but no cluster user (--cluster-user, SWITCHYARD_CLUSTER_USER or CLUSTERING_USER)"),
        };
        Ok(Settings {
            node,
            host: self.host.or(file.host).unwrap_or_else(|| "127.0.0.1".into()),
            port: self.port.or(file.port).unwrap_or(9925),
        })
    }
}

fn read_file(p: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {} is not valid: {e}", p.display()))
}

fn default_node_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "switchyard".into())
}
