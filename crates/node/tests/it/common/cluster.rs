//! A cluster of test nodes: links between them and what each holds, for the replication, link
//! and version tests.

use serde_json::{json, Value};

use super::{eventually_some, TestNode, ADMIN, PASSWORD};

pub fn port(n: &TestNode) -> u16 {
    n.running().addr.port()
}

pub fn name(n: &TestNode) -> String {
    n.name.clone()
}

pub async fn add_node(on: &TestNode, peer: &TestNode, subscriptions: Value) {
    on.ok(json!({"operation": "add_node", "name": name(peer), "host": "127.0.0.1", "port": port(peer),
        "authorization": {"username": ADMIN, "password": PASSWORD}, "subscriptions": subscriptions})).await;
}

/// Records of `db.table` on `n`, by key (empty when the table does not exist).
pub async fn rows(n: &TestNode, table: &str) -> Vec<Value> {
    let r = n.client.send(&json!({"operation": "sql", "sql": format!("SELECT * FROM dev.{table} ORDER BY id")})).await.unwrap();
    if r.status == 404 {
        return vec![];
    }
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

pub async fn count(n: &TestNode, table: &str) -> usize {
    let r = n.client.send(&json!({"operation": "describe_table", "database": "dev", "table": table})).await.unwrap();
    if r.status == 404 { 0 } else { r.body["record_count"].as_u64().unwrap() as usize }
}

/// Log entries on a channel in a node's transaction log.
pub async fn log_entries(n: &TestNode, channel: &str) -> i64 {
    n.running().node.store.backlog(channel, 0, "").await.unwrap()
}

/// The receivers `n`'s cluster_status lists, as (peer, channel).
pub async fn receivers(n: &TestNode) -> Vec<(String, String)> {
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    status["receivers"].as_array().unwrap().iter().map(|r| (r["peer"].as_str().unwrap().to_string(), r["channel"].as_str().unwrap().to_string())).collect()
}

/// Both ways over one link (a dials b).
pub async fn heal(a: &TestNode, b: &TestNode, table: &str) {
    add_node(a, b, json!([{"channel": format!("dev:{table}"), "subscribe": true, "publish": true}])).await;
}

/// A table's records as stored: `SELECT *` lists every attribute the node's table knows, as
/// null where a record has none, and nodes may know different attributes (one that only an
/// overwritten record had); those nulls are left out.
pub async fn stored(n: &TestNode, table: &str) -> Vec<Value> {
    let mut all = rows(n, table).await;
    for r in &mut all {
        if let Some(o) = r.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
    }
    all
}

/// Waits until every node holds the same records of `table` (at most 30 s); answers them.
pub async fn converged(nodes: &[&TestNode], table: &str) -> Vec<Value> {
    eventually_some(&format!("the nodes converge on {table}"), async || {
        let all: Vec<Vec<Value>> = futures_util::future::join_all(nodes.iter().map(|n| stored(n, table))).await;
        all.iter().all(|r| *r == all[0]).then(|| all[0].clone())
    })
    .await
}

