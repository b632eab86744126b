//! Replicated writes land as their operation: a published transaction is applied as it was
//! made, an older update does not bring a delete back, and tombstones go once every receiving
//! peer acknowledged them.

use std::time::Duration;

use crate::common::{node_with, sql, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use tokio::net::TcpListener;

#[tokio::test]
async fn a_published_transaction_is_applied_as_its_operation() {
    use crate::common::ws::{logged_in_as, recv, send};
    let n = TestNode::start().await;
    n.table("p").await;
    let mut ws = logged_in_as(&n, ADMIN, PASSWORD).await;
    let publish = |cid: i64, data: Value| json!({"event": "#publish", "data": {"channel": "dev:p", "data": data}, "cid": cid});
    send(&mut ws, publish(1, json!({"operation": "insert", "records": [{"id": 1, "a": 1}, {"id": 2, "a": 2}]}))).await;
    assert_eq!(recv(&mut ws).await["data"]["inserted_hashes"], json!([1, 2]));
    send(&mut ws, publish(2, json!({"operation": "update", "records": [{"id": 1, "b": 9}]}))).await;
    assert_eq!(recv(&mut ws).await["data"]["update_hashes"], json!([1]));
    send(&mut ws, publish(3, json!({"operation": "upsert", "records": [{"id": 3, "a": 3}]}))).await;
    assert_eq!(recv(&mut ws).await["data"]["upserted_hashes"], json!([3]));
    send(&mut ws, publish(4, json!({"operation": "delete", "ids": [2]}))).await;
    assert_eq!(recv(&mut ws).await["data"]["deleted_hashes"], json!([2]));
    // A plain record stays an insert, whatever its attributes are called.
    send(&mut ws, publish(5, json!({"id": 5, "operation": "audit"}))).await;
    assert_eq!(recv(&mut ws).await["data"]["inserted_hashes"], json!([5]));
    // A transaction without its records or ids is refused, not stored as a record.
    send(&mut ws, publish(6, json!({"operation": "delete"}))).await;
    let refused = recv(&mut ws).await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("'ids'"), "{refused}");
    let rows = n.ok(sql("SELECT id, a, b, operation FROM dev.p ORDER BY id")).await;
    assert_eq!(
        rows,
        json!([{"id": 1, "a": 1, "b": 9, "operation": null}, {"id": 3, "a": 3, "b": null, "operation": null}, {"id": 5, "a": null, "b": null, "operation": "audit"}])
    );
    let log = n.running.as_ref().unwrap().node.store.log_after("dev:p", 0, 100, "").await.unwrap();
    let ops: Vec<String> = log.entries.iter().map(|e| serde_json::from_str::<Value>(e).unwrap()["operation"].as_str().unwrap().to_string()).collect();
    assert_eq!(ops, ["insert", "update", "upsert", "delete", "insert"], "logged as the operations they were");

    // Each operation needs its own permission.
    n.ok(json!({"operation": "add_role", "role": "ins", "permission": {"dev": {"tables": {"p": {"read": true, "insert": true, "update": false, "delete": false}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "ins", "username": "i", "password": "pw", "active": true})).await;
    let mut ws = logged_in_as(&n, "i", "pw").await;
    send(&mut ws, publish(7, json!({"operation": "delete", "ids": [1]}))).await;
    let refused = recv(&mut ws).await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("delete permission"), "{refused}");
    send(&mut ws, publish(8, json!({"operation": "update", "records": [{"id": 1, "b": 0}]}))).await;
    let refused = recv(&mut ws).await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("update permission"), "{refused}");
    assert_eq!(n.count("p").await, 3);
}

// ---- 6. a failed fsync makes the node read-only ------------------------------------------------

pub(crate) async fn link_both_ways(a: &TestNode, b: &TestNode) {
    let b_node = b.running.as_ref().unwrap();
    a.ok(json!({"operation": "add_node", "name": b_node.node.config.node_name, "host": "127.0.0.1", "port": b_node.addr.port(),
        "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "dev:t", "subscribe": true, "publish": true}]})).await;
}

/// `SELECT id, v` on a node, polled (bounded: 15 s) until it equals `want`.
async fn converges(n: &TestNode, want: Value) {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = n.ok(sql("SELECT id, v FROM dev.t ORDER BY id")).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {want}, still {last}");
}

#[tokio::test]
async fn an_older_replicated_update_does_not_resurrect_a_delete() {
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    a.table("t").await;
    b.table("t").await;
    a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1, "v": "first"}, {"id": 2, "v": "first"}]})).await;
    link_both_ways(&a, &b).await;
    converges(&b, json!([{"id": 1, "v": "first"}, {"id": 2, "v": "first"}])).await;
    a.ok(json!({"operation": "remove_node", "name": "b"})).await;

    // While apart: id 1 is updated on a and later deleted on b (the delete is newer) ...
    a.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 1, "v": "older update"}]})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    b.ok(json!({"operation": "delete", "database": "dev", "table": "t", "ids": [1]})).await;
    // ... and id 2 is deleted on b and later updated on a (the update is newer).
    b.ok(json!({"operation": "delete", "database": "dev", "table": "t", "ids": [2]})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    a.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 2, "v": "newer update"}]})).await;

    link_both_ways(&a, &b).await;
    // Both settle on the last writer: id 1 stays deleted, id 2 carries the newer update.
    let want = json!([{"id": 2, "v": "newer update"}]);
    converges(&a, want.clone()).await;
    converges(&b, want).await;
    assert_eq!(a.count("t").await, 1);
    assert_eq!(b.count("t").await, 1);
    let meta = b.running.as_ref().unwrap().node.store.table("dev", "t").unwrap();
    assert!(b.running.as_ref().unwrap().node.store.tombstone_count(&meta).await.unwrap() >= 1, "the delete left a tombstone");
}

#[tokio::test]
async fn tombstones_are_pruned_once_every_receiving_peer_acknowledged_them() {
    let dir = tempfile::tempdir().unwrap();
    // No grace period, so acknowledgement alone decides.
    let (a_node, a) = node_with("a", dir.path(), |cfg| cfg.tombstone_grace = Duration::ZERO).await;
    let b = TestNode::launch("b").await;
    let c_dir = tempfile::tempdir().unwrap();
    let (c_node, c) = node_with("c", c_dir.path(), |cfg| cfg.tombstone_grace = Duration::ZERO).await;
    for client in [&a, &b.client, &c] {
        client.create_table("dev", "t", "id").await.unwrap();
    }
    let b_port = b.running.as_ref().unwrap().addr.port();
    let link = |subs: Value| json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": b_port,
        "authorization": {"username": ADMIN, "password": PASSWORD}, "subscriptions": subs});
    // a sends dev:t to b (and receives it back); c sends dev:t to a peer that is down.
    a.call(&link(json!([{"channel": "dev:t", "subscribe": true, "publish": true}]))).await.unwrap();
    let unreachable = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = unreachable.local_addr().unwrap().port();
    drop(unreachable);
    c.call(&json!({"operation": "add_node", "name": "gone", "host": "127.0.0.1", "port": dead_port,
        "authorization": {"username": ADMIN, "password": PASSWORD}, "subscriptions": [{"channel": "dev:t", "subscribe": false, "publish": true}]})).await.unwrap();

    for client in [&a, &c] {
        client.insert("dev", "t", &[json!({"id": 1, "v": "x"})]).await.unwrap();
        client.call(&json!({"operation": "delete", "database": "dev", "table": "t", "ids": [1]})).await.unwrap();
    }
    let a_meta = a_node.node.store.table("dev", "t").unwrap();
    let c_meta = c_node.node.store.table("dev", "t").unwrap();
    // Wait (bounded) until b acknowledged a's delete.
    let delete_id = a_node.node.store.log_head("dev:t").await.unwrap();
    let mut acked = None;
    for _ in 0..300 {
        acked = a_node.node.acks.get("b", "dev:t");
        if acked.is_some_and(|p| p >= delete_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acked.is_some_and(|p| p >= delete_id), "b acknowledged a's log past the delete ({acked:?} < {delete_id})");
    assert_eq!(a_node.node.store.tombstone_count(&a_meta).await.unwrap(), 1);
    switchyard_node::replication::acks::prune_tombstones(&a_node.node).await.unwrap();
    assert_eq!(a_node.node.store.tombstone_count(&a_meta).await.unwrap(), 0, "acknowledged by every receiver: pruned");
    // On c the receiver never acknowledged: the tombstone stays (until the retention).
    switchyard_node::replication::acks::prune_tombstones(&c_node.node).await.unwrap();
    assert_eq!(c_node.node.store.tombstone_count(&c_meta).await.unwrap(), 1, "not acknowledged: kept");
    // Acknowledged positions survive a restart (stored with each prune).
    a_node.stop().await;
    let (a_node, _a) = node_with("a", dir.path(), |_| {}).await;
    assert!(a_node.node.acks.get("b", "dev:t").is_some_and(|p| p >= delete_id));
    a_node.stop().await;
    c_node.stop().await;
}

// ---- 10. stalled and excess connections ----------------------------------------------------------
