//! A real node on 127.0.0.1:0 with a temporary data folder, and a client for it.
#![allow(dead_code)]

pub mod ws;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::{start, NodeConfig, RunningNode};
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "test-password";

pub struct TestNode {
    pub dir: TempDir,
    pub running: Option<RunningNode>,
    pub client: OpsClient,
}

/// A node named `name` on 127.0.0.1:0 with its config tweaked first, and an admin client for it.
pub async fn node_with(name: &str, dir: &std::path::Path, tweak: impl FnOnce(&mut NodeConfig)) -> (RunningNode, OpsClient) {
    let mut config = NodeConfig::new(dir, name).with_admin(ADMIN, PASSWORD);
    tweak(&mut config);
    let node = start(config, TcpListener::bind("127.0.0.1:0").await.unwrap()).await.expect("node starts");
    let client = OpsClient::new(node.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    (node, client)
}

pub async fn boot(dir: &std::path::Path) -> RunningNode {
    boot_as(dir, "test-node", 0).await
}

/// A node named `name` on `port` (0 picks one).
pub async fn boot_as(dir: &std::path::Path, name: &str, port: u16) -> RunningNode {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
    let config = NodeConfig::new(dir, name).with_admin(ADMIN, PASSWORD);
    start(config, listener).await.expect("node starts")
}

impl TestNode {
    pub async fn start() -> TestNode {
        Self::start_named("test-node").await
    }

    pub async fn start_named(name: &str) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let running = boot_as(dir.path(), name, 0).await;
        let client = OpsClient::new(running.url(), Credentials::basic(ADMIN, PASSWORD)).expect("client");
        TestNode { dir, running: Some(running), client }
    }

    /// Stops the node cleanly and starts it again on the same data folder (a new port).
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let running = boot(self.dir.path()).await;
        self.client = OpsClient::new(running.url(), Credentials::basic(ADMIN, PASSWORD)).expect("client");
        self.running = Some(running);
    }

    pub fn url(&self) -> String {
        self.running.as_ref().expect("running").url()
    }

    pub fn as_user(&self, user: &str, password: &str) -> OpsClient {
        self.client.with_credentials(Credentials::basic(user, password))
    }

    pub fn anonymous(&self) -> OpsClient {
        self.client.with_credentials(Credentials::None)
    }

    /// Sends an operation that must succeed and returns its answer.
    pub async fn ok(&self, op: Value) -> Value {
        match self.client.call(&op).await {
            Ok(v) => v,
            Err(e) => panic!("operation {op} failed: {e}"),
        }
    }

    /// Sends an operation that must fail with `status`; returns the error text.
    pub async fn fails(&self, op: Value, status: u16) -> String {
        let r = self.client.send(&op).await.expect("transport");
        assert_eq!(r.status, status, "status of {op}: body {}", r.text);
        r.body["error"].as_str().unwrap_or_else(|| panic!("no 'error' in {}", r.text)).to_string()
    }

    /// A table `dev.<name>` keyed by `id`.
    pub async fn table(&self, name: &str) {
        self.ok(json!({"operation": "create_table", "database": "dev", "table": name, "primary_key": "id"})).await;
    }

    pub async fn count(&self, table: &str) -> u64 {
        self.client.describe_table("dev", table).await.expect("describe").record_count
    }

    /// Every record of a table, sorted by key, as the server stores them.
    pub async fn all(&self, table: &str) -> Vec<Value> {
        let v = self.ok(json!({"operation": "search_by_value", "database": "dev", "table": table,
            "search_attribute": "id", "search_value": "*"})).await;
        v.as_array().expect("array").clone()
    }
}

/// A switchyard-node process, killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and reads stdout until it says where it listens (bounded: 30 s).
pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Proc, String, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard-node"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::null());
    for k in ["SWITCHYARD_CONFIG", "SWITCHYARD_DATA", "SWITCHYARD_HOST", "SWITCHYARD_PORT", "SWITCHYARD_NODE_NAME", "SWITCHYARD_ADMIN_USER", "SWITCHYARD_ADMIN_PASSWORD"] {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn switchyard-node");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let url = line.split("listening on ").nth(1).map(str::to_string);
                lines.push(line);
                if let Some(url) = url {
                    return (Proc(child), url, lines);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("switchyard-node did not report its address; it printed {lines:?}");
}

/// A sql operation.
pub fn sql(q: &str) -> Value {
    json!({"operation": "sql", "sql": q})
}
