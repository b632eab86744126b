//! The node binary started as a process, and what the node's tests share beyond the workspace's
//! test kit (`switchyard_testkit`: the in-process `TestNode`, bounded waits).
#![allow(dead_code)]

pub mod cluster;
pub mod ws;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
pub use switchyard_testkit::{eventually, eventually_some, eventually_some_within, launch_in, TestNode, ADMIN, PASSWORD};

/// A node named `name` on 127.0.0.1:0 with its config tweaked first, and an admin client for it.
pub async fn node_with(name: &str, dir: &std::path::Path, tweak: impl FnOnce(&mut switchyard_node::NodeConfig)) -> (switchyard_node::RunningNode, switchyard_client::OpsClient) {
    launch_in(dir, name, 0, tweak).await
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
    for k in ["SWITCHYARD_CONFIG", "SWITCHYARD_DATA", "SWITCHYARD_HOST", "SWITCHYARD_PORT", "SWITCHYARD_NODE_NAME", "SWITCHYARD_ADMIN_USER", "SWITCHYARD_ADMIN_PASSWORD", "SWITCHYARD_ADMIN_PASSWORD_FILE"] {
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
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
        let url = line.split("listening on ").nth(1).map(str::to_string);
        lines.push(line);
        if let Some(url) = url {
            return (Proc(child), url, lines);
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
