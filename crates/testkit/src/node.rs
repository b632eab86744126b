//! A real switchyard-node in this process on 127.0.0.1:0, on a folder of its own, with an admin
//! client and the few calls every test makes of it.

use std::path::Path;

use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::{start, NodeConfig, RunningNode};
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "test-password";

/// A node named `name` on `dir` at 127.0.0.1:`port` (0 picks one) with the admin `ADMIN` /
/// `PASSWORD`, its config tweaked first (which may set another admin), and a client for its admin.
pub async fn launch_in(dir: &Path, name: &str, port: u16, tweak: impl FnOnce(&mut NodeConfig)) -> (RunningNode, OpsClient) {
    // As the binary runs: the tests and benches measure the node the studio and the binary run.
    switchyard_node::without_huge_pages();
    let mut config = NodeConfig::new(dir, name).with_admin(ADMIN, PASSWORD);
    tweak(&mut config);
    let admin = Credentials::basic(&config.admin_user, config.admin_password.as_deref().unwrap_or_default());
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
    let node = start(config, listener).await.unwrap_or_else(|e| panic!("node {name} starts: {e}"));
    let client = OpsClient::new(node.url(), admin).expect("client");
    (node, client)
}

/// A node on a temporary folder of its own, kept as long as the `TestNode`.
pub struct TestNode {
    pub dir: TempDir,
    pub name: String,
    pub running: Option<RunningNode>,
    pub client: OpsClient,
}

impl TestNode {
    /// A node named `test-node`.
    pub async fn start() -> TestNode {
        Self::launch("test-node").await
    }

    /// A node named `name` with the admin `ADMIN` / `PASSWORD`.
    pub async fn launch(name: &str) -> TestNode {
        Self::launch_with(name, |_| {}).await
    }

    /// A node named `name`, its config tweaked first.
    pub async fn launch_with(name: &str, tweak: impl FnOnce(&mut NodeConfig)) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let (running, client) = launch_in(dir.path(), name, 0, tweak).await;
        TestNode { dir, name: name.to_string(), running: Some(running), client }
    }

    /// Stops the node cleanly and starts it again on the same data folder (a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.resume().await;
    }

    /// Stops the node cleanly; its folder stays (`resume` starts it again).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Starts a stopped node again on its folder (a new port).
    pub async fn resume(&mut self) {
        assert!(self.running.is_none(), "{} is running", self.name);
        let (running, client) = launch_in(self.dir.path(), &self.name, 0, |_| {}).await;
        self.running = Some(running);
        self.client = client;
    }

    pub fn running(&self) -> &RunningNode {
        self.running.as_ref().expect("running")
    }

    pub fn url(&self) -> String {
        self.running().url()
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
