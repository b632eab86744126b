//! Replication between real nodes on loopback: the factory topology, chains and rings, and
//! catch-up after outages with nothing lost or applied twice. Every wait is bounded.


use std::time::{Duration, Instant};

use crate::common::{boot_as, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

fn port(n: &TestNode) -> u16 {
    n.running.as_ref().unwrap().addr.port()
}

fn name(n: &TestNode) -> String {
    n.running.as_ref().unwrap().node.config.node_name.clone()
}

async fn add_node(on: &TestNode, peer: &TestNode, subscriptions: Value) {
    on.ok(json!({"operation": "add_node", "name": name(peer), "host": "127.0.0.1", "port": port(peer),
        "authorization": {"username": ADMIN, "password": PASSWORD}, "subscriptions": subscriptions})).await;
}

/// Records of `db.table` on `n`, by key (empty when the table does not exist).
async fn rows(n: &TestNode, table: &str) -> Vec<Value> {
    let r = n.client.send(&json!({"operation": "sql", "sql": format!("SELECT * FROM dev.{table} ORDER BY id")})).await.unwrap();
    if r.status == 404 {
        return vec![];
    }
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

async fn count(n: &TestNode, table: &str) -> usize {
    let r = n.client.send(&json!({"operation": "describe_table", "database": "dev", "table": table})).await.unwrap();
    if r.status == 404 { 0 } else { r.body["record_count"].as_u64().unwrap() as usize }
}

/// Waits (at most 30 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 30 s: {what}");
}

/// Log entries on a channel in a node's transaction log.
async fn log_entries(n: &TestNode, channel: &str) -> i64 {
    n.running.as_ref().unwrap().node.store.backlog(channel, 0, "").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_hq_subscribes_to_sensor_data_and_publishes_config() {
    let edge = TestNode::start_named("edge").await;
    let hq = TestNode::start_named("hq").await;
    edge.table("sensor_data").await;
    hq.table("config").await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 1, "t": 20.5}, {"id": 2, "t": 21.0}]})).await;
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "rate", "hz": 10}]})).await;

    add_node(&hq, &edge, json!([
        {"channel": "dev:sensor_data", "subscribe": true, "publish": false},
        {"channel": "dev:config", "subscribe": false, "publish": true}])).await;

    // Snapshot then changes: existing rows arrive, missing tables are created with their key.
    eventually("existing sensor rows reach hq", || async { count(&hq, "sensor_data").await == 2 }).await;
    eventually("hq's config reaches edge", || async { count(&edge, "config").await == 1 }).await;
    let d = hq.ok(json!({"operation": "describe_table", "database": "dev", "table": "sensor_data"})).await;
    assert_eq!(d["hash_attribute"], "id");
    assert_eq!(rows(&hq, "sensor_data").await, rows(&edge, "sensor_data").await, "identical records, timestamps included");

    // Live, in the configured directions only.
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "edge-local", "x": 1}]})).await;
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 99, "t": 0}]})).await;
    edge.ok(json!({"operation": "upsert", "database": "dev", "table": "sensor_data", "records": [{"id": 3, "t": 22.5}, {"id": 1, "t": 19.0}]})).await;
    hq.ok(json!({"operation": "update", "database": "dev", "table": "config", "records": [{"id": "rate", "hz": 20}]})).await;
    eventually("edge's upsert reaches hq", || async {
        let r = rows(&hq, "sensor_data").await;
        r.iter().any(|x| x["id"] == 3) && r.iter().any(|x| x["id"] == 1 && x["t"] == 19.0)
    })
    .await;
    eventually("hq's update reaches edge", || async { rows(&edge, "config").await.iter().any(|x| x["id"] == "rate" && x["hz"] == 20) }).await;
    assert!(!rows(&hq, "config").await.iter().any(|x| x["id"] == "edge-local"), "hq does not subscribe to config");
    assert!(!rows(&edge, "sensor_data").await.iter().any(|x| x["id"] == 99), "hq does not publish sensor_data");

    // Deletes replicate; drops do not.
    edge.ok(json!({"operation": "delete", "database": "dev", "table": "sensor_data", "ids": [2]})).await;
    eventually("the delete reaches hq", || async { !rows(&hq, "sensor_data").await.iter().any(|x| x["id"] == 2) }).await;
    assert_eq!(count(&hq, "sensor_data").await, 3, "1, 3 and hq's own 99");

    let status = hq.ok(json!({"operation": "cluster_status"})).await;
    let c = &status["connections"][0];
    assert_eq!(c["name"], "edge");
    assert_eq!(c["state"], "open", "{status}");
    assert!(c["since"].as_f64().unwrap() > 1.7e12);
    assert!(c["latency_ms"].is_number() || c["latency_ms"].is_null());
    let sensor = c["channels"].as_array().unwrap().iter().find(|x| x["channel"] == "dev:sensor_data").unwrap();
    assert!(sensor["last_received"].as_i64().unwrap() >= 4, "{sensor}");
    let config = c["channels"].as_array().unwrap().iter().find(|x| x["channel"] == "dev:config").unwrap();
    assert_eq!(config["backlog"], 0, "{config}");

    edge.ok(json!({"operation": "drop_table", "database": "dev", "table": "sensor_data"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&hq, "sensor_data").await, 3, "a drop on edge does not replicate");

    // remove_node tears the link down at once.
    hq.ok(json!({"operation": "remove_node", "name": "edge"})).await;
    assert_eq!(hq.ok(json!({"operation": "cluster_status"})).await["connections"], json!([]));
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "after-remove"}]})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rows(&edge, "config").await.iter().any(|x| x["id"] == "after-remove"));
    assert_eq!(hq.fails(json!({"operation": "remove_node", "name": "edge"}), 404).await, "node 'edge' is not in the cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_node_refuses_bad_requests_and_reports_bad_peers() {
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    assert!(a.fails(json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": port(&b), "subscriptions": []}), 400).await.contains("authorization"));
    assert!(a.fails(json!({"operation": "add_node", "name": "a", "host": "127.0.0.1", "port": 1, "authorization": {"username": "x", "password": "y"}}), 400).await.contains("own name"));
    assert!(a.fails(json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": port(&b), "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "nocolon", "subscribe": true}]}), 400).await.contains("database:table"));
    // Wrong password and wrong name are reported in cluster_status, not silently retried.
    a.ok(json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": port(&b), "authorization": {"username": ADMIN, "password": "wrong"}, "subscriptions": []})).await;
    assert_eq!(a.fails(json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": port(&b), "authorization": {"username": ADMIN, "password": "wrong"}}), 409).await,
        "node 'b' is already in the cluster; use update_node");
    eventually("the login failure shows", || async {
        let s = a.ok(json!({"operation": "cluster_status"})).await;
        s["connections"][0]["last_error"].as_str().is_some_and(|e| e.contains("login refused"))
    })
    .await;
    a.ok(json!({"operation": "update_node", "name": "b", "authorization": {"username": ADMIN, "password": PASSWORD}, "subscriptions": []})).await;
    eventually("the link opens after update_node", || async { a.ok(json!({"operation": "cluster_status"})).await["connections"][0]["state"] == "open" }).await;
    a.ok(json!({"operation": "add_node", "name": "someone-else", "host": "127.0.0.1", "port": port(&b), "authorization": {"username": ADMIN, "password": PASSWORD}})).await;
    eventually("a wrong peer name shows", || async {
        let s = a.ok(json!({"operation": "cluster_status"})).await;
        s["connections"].as_array().unwrap().iter().any(|c| c["last_error"].as_str().is_some_and(|e| e.contains("is named 'b'")))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_forward_and_rings_terminate() {
    // Chain a -> b -> c: c subscribes to b, b subscribes to a.
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    let c = TestNode::start_named("c").await;
    for n in [&a, &b, &c] {
        n.table("t").await;
    }
    add_node(&b, &a, json!([{"channel": "dev:t", "subscribe": true}])).await;
    add_node(&c, &b, json!([{"channel": "dev:t", "subscribe": true}])).await;
    let records: Vec<Value> = (0..100).map(|i| json!({"id": i, "from": "a"})).collect();
    a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": records})).await;
    eventually("a's rows reach c through b", || async { count(&c, "t").await == 100 }).await;
    assert_eq!(rows(&c, "t").await, rows(&a, "t").await);

    // Ring a -> b -> c -> a, both directions on every link.
    let both = json!([{"channel": "dev:ring", "subscribe": true, "publish": true}]);
    for n in [&a, &b, &c] {
        n.table("ring").await;
    }
    add_node(&a, &b, both.clone()).await;
    add_node(&b, &c, both.clone()).await;
    add_node(&c, &a, both).await;
    for (i, n) in [&a, &b, &c].into_iter().enumerate() {
        let records: Vec<Value> = (0..50).map(|k| json!({"id": format!("{i}-{k}"), "n": k})).collect();
        n.ok(json!({"operation": "insert", "database": "dev", "table": "ring", "records": records})).await;
    }
    for n in [&a, &b, &c] {
        eventually("every ring write reaches every node", || async { count(n, "ring").await == 150 }).await;
    }
    // Exactly once: each node logged its own write and the two others' once each.
    for n in [&a, &b, &c] {
        eventually("three log entries per node", || async { log_entries(n, "dev:ring").await == 3 }).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for n in [&a, &b, &c] {
        assert_eq!(log_entries(n, "dev:ring").await, 3, "the traffic stopped");
        assert_eq!(rows(n, "ring").await, rows(&a, "ring").await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_subscriber_catches_up_on_50k_records_exactly_once() {
    let edge = TestNode::start_named("edge").await;
    let mut hq = TestNode::start_named("hq").await;
    edge.table("sensor").await;
    add_node(&hq, &edge, json!([{"channel": "dev:sensor", "subscribe": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": -1}]})).await;
    eventually("the link is up", || async { count(&hq, "sensor").await == 1 }).await;

    // Outage 1: hq is stopped while 50k records are written on edge.
    hq.running.take().unwrap().stop().await;
    for batch in 0..100 {
        let records: Vec<Value> = (0..500).map(|i| json!({"id": batch * 500 + i, "v": format!("r{}", batch * 500 + i)})).collect();
        edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": records})).await;
    }
    hq.running = Some(boot_as(hq.dir.path(), "hq", 0).await);
    hq.client = OpsClient::new(hq.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    eventually("hq catches up on the backlog", || async { count(&hq, "sensor").await == 50_001 }).await;

    // Outage 2: stopped in the middle of catching up on another 50k.
    let upsert: Vec<Value> = (0..500).map(|i| json!({"id": i, "v": "second"})).collect();
    hq.running.take().unwrap().stop().await;
    for batch in 0..100 {
        let records: Vec<Value> = (0..500).map(|i| json!({"id": 100_000 + batch * 500 + i})).collect();
        edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": records})).await;
    }
    edge.ok(json!({"operation": "upsert", "database": "dev", "table": "sensor", "records": upsert})).await;
    hq.running = Some(boot_as(hq.dir.path(), "hq", 0).await);
    hq.client = OpsClient::new(hq.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    eventually("some of the backlog has arrived", || async { count(&hq, "sensor").await > 50_001 }).await;
    hq.running.take().unwrap().stop().await;
    hq.running = Some(boot_as(hq.dir.path(), "hq", 0).await);
    hq.client = OpsClient::new(hq.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    eventually("hq catches up again", || async { count(&hq, "sensor").await == 100_001 }).await;

    // Nothing lost, nothing twice: the same ids and contents, and one log entry per edge entry.
    let on_edge = edge.ok(json!({"operation": "sql", "sql": "SELECT id, v FROM dev.sensor ORDER BY id"})).await;
    let on_hq = hq.ok(json!({"operation": "sql", "sql": "SELECT id, v FROM dev.sensor ORDER BY id"})).await;
    assert_eq!(on_hq.as_array().unwrap().len(), 100_001);
    assert!(on_hq == on_edge, "record sets differ");
    assert_eq!(log_entries(&hq, "dev:sensor").await, log_entries(&edge, "dev:sensor").await, "each transaction applied once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_read_asks_every_node_and_reports_each() {
    let hq = TestNode::start_named("hq").await;
    let edge = TestNode::start_named("edge").await;
    let mut gone = TestNode::start_named("gone").await;
    for n in [&hq, &edge] {
        n.table("sensor").await;
    }
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1, "at": "hq"}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 2, "at": "edge"}, {"id": 3, "at": "edge"}]})).await;
    add_node(&hq, &edge, json!([])).await;
    add_node(&hq, &gone, json!([])).await;
    gone.running.take().unwrap().stop().await;

    let r = hq.ok(json!({"operation": "cluster_read", "search": {"operation": "sql", "sql": "SELECT id, at FROM dev.sensor ORDER BY id"}})).await;
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{r}");
    let by = |name: &str| nodes.iter().find(|n| n["node"] == name).unwrap_or_else(|| panic!("{name} missing in {r}")).clone();
    assert_eq!(by("hq"), json!({"node": "hq", "ok": true, "result": [{"id": 1, "at": "hq"}]}));
    assert_eq!(by("edge"), json!({"node": "edge", "ok": true, "result": [{"id": 2, "at": "edge"}, {"id": 3, "at": "edge"}]}));
    assert_eq!(by("gone")["ok"], false);
    assert!(by("gone")["error"].as_str().unwrap().contains("cannot reach"), "{r}");

    assert!(hq.fails(json!({"operation": "cluster_read", "search": {"operation": "delete", "database": "dev", "table": "sensor", "ids": [1]}}), 400).await.contains("reads only"));
    assert!(hq.fails(json!({"operation": "cluster_read", "search": {"operation": "sql", "sql": "DELETE FROM dev.sensor"}}), 400).await.contains("SELECT"));
    assert_eq!(hq.fails(json!({"operation": "cluster_read"}), 400).await, "'search' is required");
}

// ---- a batch lost on the wire is detected and pulled again --------------------------------------

/// Forwards one direction of a relayed WebSocket, withholding the second non-empty `sy:txns`
/// batch of each channel.
async fn relay_one_way<R, W, E>(mut rx: R, mut tx: W, dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>)
where
    R: futures_util::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, E>> + Unpin,
    W: futures_util::Sink<tokio_tungstenite::tungstenite::Message> + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    while let Some(Ok(m)) = rx.next().await {
        let batch = match &m {
            Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).ok().filter(|v| v["event"] == "sy:txns" && v["data"]["entries"].as_array().is_some_and(|e| !e.is_empty())),
            _ => None,
        };
        if let Some(v) = batch {
            let n = seen.entry(v["data"]["channel"].as_str().unwrap_or("").to_string()).or_default();
            *n += 1;
            if *n == 2 {
                dropped.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                continue;
            }
        }
        if tx.send(m).await.is_err() {
            return;
        }
    }
}

/// A WebSocket relay on 127.0.0.1 in front of `to_port` that withholds the second non-empty
/// `sy:txns` batch of each channel in each direction; `dropped` counts what it withheld.
async fn lossy_relay(to_port: u16, dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> u16 {
    use futures_util::StreamExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        // One connection is enough for one link; a reconnect would be relayed the same way.
        for _ in 0..10 {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let dropped = dropped.clone();
            tokio::spawn(async move {
                let Ok(near) = tokio_tungstenite::accept_async(tcp).await else { return };
                let Ok((far, _)) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{to_port}/socketcluster/")).await else { return };
                let (near_tx, near_rx) = near.split();
                let (far_tx, far_rx) = far.split();
                let up = relay_one_way(near_rx, far_tx, dropped.clone());
                let down = relay_one_way(far_rx, near_tx, dropped.clone());
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_batch_withheld_on_the_wire_is_detected_and_pulled_again() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    b.table("down").await;
    a.table("up").await;
    let dropped = Arc::new(AtomicUsize::new(0));
    let relay = lossy_relay(port(&b), dropped.clone()).await;
    // a pulls dev:down from b and publishes dev:up to b, both through the relay.
    a.ok(json!({"operation": "add_node", "name": "b", "host": "127.0.0.1", "port": relay,
        "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "dev:down", "subscribe": true, "publish": false}, {"channel": "dev:up", "subscribe": false, "publish": true}]})).await;
    for (writer, reader, table) in [(&b, &a, "down"), (&a, &b, "up")] {
        let before = dropped.load(Ordering::SeqCst);
        writer.ok(json!({"operation": "insert", "database": "dev", "table": table, "records": [{"id": 1}]})).await;
        eventually(&format!("{table}: the first batch arrives"), || async { rows(reader, table).await.len() == 1 }).await;
        // The second batch is withheld by the relay; the third continues past it.
        writer.ok(json!({"operation": "insert", "database": "dev", "table": table, "records": [{"id": 2}]})).await;
        eventually(&format!("{table}: the relay withheld a batch"), || async { dropped.load(Ordering::SeqCst) == before + 1 }).await;
        writer.ok(json!({"operation": "insert", "database": "dev", "table": table, "records": [{"id": 3}]})).await;
        eventually(&format!("{table}: every record arrives, the withheld one included"), || async {
            rows(reader, table).await.iter().map(|r| r["id"].as_i64().unwrap_or(0)).collect::<Vec<_>>() == vec![1, 2, 3]
        })
        .await;
    }
    // Each gap shows in cluster_status, on the channel it happened on.
    let status = a.ok(json!({"operation": "cluster_status"})).await;
    let channels = status["connections"][0]["channels"].as_array().unwrap().clone();
    for c in &channels {
        assert!(c["gaps"].as_u64().unwrap_or(0) >= 1, "{c}");
    }
    assert_eq!(channels.len(), 2, "{status}");
}

/// The least-privilege link the studio makes: the dialled node's user holds a role granting
/// read on what flows out of it and insert/update/delete on what flows in, and nothing else.
/// The node holds the link to it: a channel outside the role is refused (and said so in
/// cluster_status) while the granted ones flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_user_replicates_only_what_its_role_grants() {
    let edge = TestNode::start_named("edge").await;
    let hq = TestNode::start_named("hq").await;
    for t in ["sensor_data", "config", "secret"] {
        edge.table(t).await;
    }
    hq.table("sensor_data").await;
    hq.table("config").await;
    let grant = |read: bool, write: bool| json!({"read": read, "insert": write, "update": write, "delete": write, "attribute_permissions": []});
    edge.ok(json!({"operation": "add_role", "role": "link_hq", "permission": {"super_user": false,
        "dev": {"tables": {"sensor_data": grant(true, false), "config": grant(false, true)}}}})).await;
    edge.ok(json!({"operation": "add_user", "username": "link_hq", "password": "link-pass", "role": "link_hq", "active": true})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "secret", "records": [{"id": 1, "pin": 1234}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 1, "t": 20.5}]})).await;

    hq.ok(json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": port(&edge),
        "authorization": {"username": "link_hq", "password": "link-pass"},
        "subscriptions": [
            {"channel": "dev:sensor_data", "subscribe": true, "publish": true},
            {"channel": "dev:config", "subscribe": false, "publish": true},
            {"channel": "dev:secret", "subscribe": true, "publish": false}]})).await;

    // Granted: sensor_data edge → hq, config hq → edge.
    eventually("sensor_data reaches hq", || async { count(&hq, "sensor_data").await == 1 }).await;
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "rate", "hz": 10}]})).await;
    eventually("config reaches edge", || async { count(&edge, "config").await == 1 }).await;

    // Refused, each on its channel, with the reason.
    let channel_error = |status: &Value, channel: &str| -> Option<String> {
        status["connections"][0]["channels"].as_array()?.iter().find(|c| c["channel"] == channel)?["error"].as_str().map(str::to_string)
    };
    let mut status = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        status = hq.ok(json!({"operation": "cluster_status"})).await;
        if channel_error(&status, "dev:secret").is_some() && channel_error(&status, "dev:sensor_data").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secret = channel_error(&status, "dev:secret").unwrap_or_else(|| panic!("no error on dev:secret in {status}"));
    assert!(secret.contains("may not replicate dev:secret") && secret.contains("read"), "{secret}");
    let pushed = channel_error(&status, "dev:sensor_data").unwrap_or_else(|| panic!("no error on dev:sensor_data in {status}"));
    assert!(pushed.contains("insert, update and delete"), "{pushed}");
    assert_eq!(count(&hq, "secret").await, 0, "nothing of a table outside the role reached hq");

    // hq's own sensor writes do not reach edge: the role does not let the link write there.
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 2, "t": 1.0}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 3, "t": 3.0}]})).await;
    eventually("edge's later sensor write still reaches hq", || async { count(&hq, "sensor_data").await == 3 }).await;
    assert_eq!(count(&edge, "sensor_data").await, 2, "hq's write did not flow into edge");

    // The same user, on the wire itself: neither pull nor push outside the role.
    let link = OpsClient::new(edge.url(), Credentials::basic("link_hq", "link-pass")).unwrap();
    let refused = link.send(&json!({"operation": "search_by_id", "database": "dev", "table": "secret", "ids": [1], "get_attributes": ["*"]})).await.unwrap();
    assert_eq!(refused.status, 403, "the link user cannot read secret through the API either: {}", refused.text);
    use switchyard_protocol::sc::{Hello, Pull, PullReply, Transaction, Txns};
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&edge), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login("link_hq", "link-pass").await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "probe".into() }).await.unwrap();
    let pull = socket.call::<_, PullReply>("sy:pull", &Pull { channel: "dev:secret".into(), from: 0 }).await.unwrap_err();
    assert_eq!(pull.refusal(), Some("AuthError"), "{pull}");
    let push = Txns::<Transaction> { channel: "dev:sensor_data".into(), from: 0, upto: 0, entries: vec![] };
    let pushed = socket.invoke("sy:txns", &push).await.unwrap_err();
    assert_eq!(pushed.refusal(), Some("AuthError"), "{pushed}");
    let ok: PullReply = socket.call("sy:pull", &Pull { channel: "dev:sensor_data".into(), from: 0 }).await.unwrap();
    assert_eq!(ok.primary_key, "id");
}

/// The receivers `n`'s cluster_status lists, as (peer, channel).
async fn receivers(n: &TestNode) -> Vec<(String, String)> {
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    status["receivers"].as_array().unwrap().iter().map(|r| (r["peer"].as_str().unwrap().to_string(), r["channel"].as_str().unwrap().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_link_leaves_no_receiver_behind() {
    let edge = TestNode::start_named("edge").await;
    let hq = TestNode::start_named("hq").await;
    edge.table("sensor").await;
    hq.table("sensor").await;
    // edge dials hq and pushes its sensor table there.
    add_node(&edge, &hq, json!([{"channel": "dev:sensor", "subscribe": false, "publish": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1}, {"id": 2}]})).await;
    eventually("hq receives and acknowledges", || async { receivers(&edge).await == vec![("hq".to_string(), "dev:sensor".to_string())] }).await;
    edge.ok(json!({"operation": "remove_node", "name": "hq"})).await;
    assert_eq!(receivers(&edge).await, vec![], "hq receives nothing from edge any more");
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 3}]})).await;
    assert_eq!(receivers(&edge).await, vec![], "and no backlog grows for it");
    // Also after a restart (the acknowledged position is gone from storage too).
    let mut edge = edge;
    edge.restart().await;
    assert_eq!(receivers(&edge).await, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_link_user_or_unpublishing_a_channel_ends_its_receivers() {
    let edge = TestNode::start_named("edge").await;
    let hq = TestNode::start_named("hq").await;
    edge.table("sensor").await;
    edge.table("config").await;
    edge.ok(json!({"operation": "add_user", "username": "link_hq", "password": "link-pass", "role": "super_user", "active": true})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1}]})).await;
    // hq dials edge as link_hq and pulls sensor: edge counts hq as a receiver of it.
    hq.ok(json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": port(&edge),
        "authorization": {"username": "link_hq", "password": "link-pass"},
        "subscriptions": [{"channel": "dev:sensor", "subscribe": true, "publish": false}]})).await;
    eventually("hq pulls from edge", || async { receivers(&edge).await.contains(&("hq".to_string(), "dev:sensor".to_string())) }).await;
    edge.ok(json!({"operation": "drop_user", "username": "link_hq"})).await;
    assert!(!receivers(&edge).await.iter().any(|(p, _)| p == "hq"), "a dropped link user's peer receives nothing");

    // edge dials hq publishing two channels, then stops publishing one.
    hq.table("config").await;
    add_node(&edge, &hq, json!([{"channel": "dev:sensor", "subscribe": false, "publish": true}, {"channel": "dev:config", "subscribe": false, "publish": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "rate"}]})).await;
    eventually("hq acknowledges both", || async { receivers(&edge).await.len() == 2 }).await;
    edge.ok(json!({"operation": "update_node", "name": "hq", "host": "127.0.0.1", "port": port(&hq),
        "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "dev:sensor", "subscribe": false, "publish": true}]})).await;
    let left = receivers(&edge).await;
    assert!(!left.contains(&("hq".to_string(), "dev:config".to_string())), "config is no longer published to hq: {left:?}");
}

// ---- convergence: exact versions from a hybrid logical clock ------------------------------------

/// Both ways over one link (a dials b).
async fn heal(a: &TestNode, b: &TestNode, table: &str) {
    add_node(a, b, json!([{"channel": format!("dev:{table}"), "subscribe": true, "publish": true}])).await;
}

/// A table's records as stored: `SELECT *` lists every attribute the node's table knows, as
/// null where a record has none, and nodes may know different attributes (one that only an
/// overwritten record had); those nulls are left out.
async fn stored(n: &TestNode, table: &str) -> Vec<Value> {
    let mut all = rows(n, table).await;
    for r in &mut all {
        if let Some(o) = r.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
    }
    all
}

/// Waits until every node holds the same records of `table` (at most 30 s); answers them.
async fn converged(nodes: &[&TestNode], table: &str) -> Vec<Value> {
    let mut last = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let first = stored(nodes[0], table).await;
        let mut same = true;
        for n in &nodes[1..] {
            same &= stored(n, table).await == first;
        }
        if same {
            return first;
        }
        last = first;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all: Vec<Vec<Value>> = futures_util::future::join_all(nodes.iter().map(|n| stored(n, table))).await;
    panic!("nodes did not converge on {table} within 30 s: {last:?}\nall: {all:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_writes_microseconds_apart_converge_after_a_partition_heals() {
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    a.table("c").await;
    b.table("c").await;
    // Each key written on both sides while they are apart, a few microseconds apart, in
    // both orders; some deleted on one side after.
    for i in 0..20 {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        for n in [first, second] {
            n.ok(json!({"operation": "upsert", "database": "dev", "table": "c", "records": [{"id": i, "by": name(n)}]})).await;
        }
        if i % 5 == 0 {
            first.ok(json!({"operation": "delete", "database": "dev", "table": "c", "ids": [i]})).await;
        }
    }
    heal(&a, &b, "c").await;
    let both = converged(&[&a, &b], "c").await;
    assert!(both.len() >= 16 && both.len() <= 20, "{both:?}");
    // Once more after the link is up: updates on both sides still agree.
    a.ok(json!({"operation": "update", "database": "dev", "table": "c", "records": [{"id": 1, "late": "a"}]})).await;
    b.ok(json!({"operation": "update", "database": "dev", "table": "c", "records": [{"id": 1, "late": "b"}]})).await;
    let again = converged(&[&a, &b], "c").await;
    assert!(again.iter().any(|r| r["id"] == 1 && r["late"].is_string()), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_an_hour_ahead_cannot_freeze_a_record_and_nodes_converge() {
    use switchyard_protocol::sc::{Hello, Transaction, Txns};
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    a.table("s").await;
    b.table("s").await;
    heal(&a, &b, "s").await;
    // A peer whose clock runs an hour ahead writes record 1 into a; it reaches b too.
    let ahead_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 3_600_000;
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&a), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login(ADMIN, PASSWORD).await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "skewed".into() }).await.unwrap();
    let records = serde_json::value::RawValue::from_string(json!([{"id": 1, "v": "from the future", "__updatedtime__": ahead_ms as f64}]).to_string()).unwrap();
    let entry = Transaction { id: 1, origin: "skewed".into(), origin_id: 1, channel: "dev:s".into(), operation: "upsert".into(), user: None, ts: ahead_ms as f64, version: ahead_ms << 20, records: Some(records), ids: None };
    socket.invoke("sy:txns", &Txns { channel: "dev:s".into(), from: 0, upto: 1, entries: vec![entry] }).await.unwrap();
    eventually("the skewed write reaches b", || async { rows(&b, "s").await.first().is_some_and(|r| r["v"] == "from the future") }).await;
    // An update on a is newer than what it replaces, whatever a's clock says: b takes it.
    a.ok(json!({"operation": "update", "database": "dev", "table": "s", "records": [{"id": 1, "v": "a's update"}]})).await;
    let both = converged(&[&a, &b], "s").await;
    assert_eq!(both[0]["v"], "a's update", "{both:?}");
    // And one on b after it, likewise.
    b.ok(json!({"operation": "update", "database": "dev", "table": "s", "records": [{"id": 1, "v": "b's update"}]})).await;
    let both = converged(&[&a, &b], "s").await;
    assert_eq!(both[0]["v"], "b's update", "{both:?}");
    // A delete on a wins over the skewed write too.
    a.ok(json!({"operation": "delete", "database": "dev", "table": "s", "ids": [1]})).await;
    assert_eq!(converged(&[&a, &b], "s").await, Vec::<Value>::new());
}

#[test]
fn random_writes_on_three_partitioned_nodes_converge_once_linked() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // (node, key, op): 0 upsert, 1 update, 2 delete.
    let ops = proptest::collection::vec((0..3usize, 0..12i64, 0..3u8), 10..60);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases: 8, failure_persistence: None, max_shrink_iters: 0, ..Default::default() });
    runner
        .run(&ops, |ops| {
            rt.block_on(async {
                let nodes = [TestNode::start_named("n0").await, TestNode::start_named("n1").await, TestNode::start_named("n2").await];
                for n in &nodes {
                    n.table("p").await;
                }
                for (step, (at, key, op)) in ops.iter().enumerate() {
                    let n = &nodes[*at];
                    let body = match op {
                        0 => json!({"operation": "upsert", "database": "dev", "table": "p", "records": [{"id": key, "step": step, "by": at}]}),
                        1 => json!({"operation": "update", "database": "dev", "table": "p", "records": [{"id": key, "touched": step}]}),
                        _ => json!({"operation": "delete", "database": "dev", "table": "p", "ids": [key]}),
                    };
                    n.ok(body).await;
                }
                // A chain: n0 - n1 - n2.
                heal(&nodes[0], &nodes[1], "p").await;
                heal(&nodes[1], &nodes[2], "p").await;
                converged(&[&nodes[0], &nodes[1], &nodes[2]], "p").await;
                // Equal records, equal digests: bucket by bucket on all three.
                let digests = futures_util::future::join_all(nodes.iter().map(|n| n.ok(json!({"operation": "table_digest", "database": "dev", "table": "p"})))).await;
                for d in &digests[1..] {
                    assert_eq!((&d["count"], &d["digest"], &d["buckets"]), (&digests[0]["count"], &digests[0]["digest"], &digests[0]["buckets"]), "digests of converged nodes");
                }
            });
            Ok(())
        })
        .unwrap();
}

// ---- origins a limited link user claims -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_origin_from_a_link_user_never_drops_the_real_origins_entries() {
    use switchyard_protocol::sc::{Hello, Transaction, Txns};
    let hq = TestNode::start_named("hq").await;
    let victim = TestNode::start_named("victim").await;
    hq.table("t").await;
    victim.table("t").await;
    // A link user that may push into t only (as the studio makes for a link).
    let grant = json!({"read": true, "insert": true, "update": true, "delete": true, "attribute_permissions": []});
    hq.ok(json!({"operation": "add_role", "role": "pusher", "permission": {"dev": {"tables": {"t": grant}}}})).await;
    hq.ok(json!({"operation": "add_user", "username": "pusher", "password": "push-pw", "role": "pusher", "active": true})).await;
    // It claims to relay the victim's entry number 10^12.
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&hq), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login("pusher", "push-pw").await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "mallory".into() }).await.unwrap();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let records = serde_json::value::RawValue::from_string(json!([{"id": "forged"}]).to_string()).unwrap();
    let forged = Transaction { id: 1, origin: "victim".into(), origin_id: 1_000_000_000_000, channel: "dev:t".into(), operation: "insert".into(), user: None, ts: now_ms as f64, version: now_ms << 20, records: Some(records), ids: None };
    socket.invoke("sy:txns", &Txns { channel: "dev:t".into(), from: 0, upto: 1, entries: vec![forged] }).await.unwrap();
    eventually("the relayed entry is applied", || async { count(&hq, "t").await == 1 }).await;
    // The real victim pushes its own entries: every one arrives.
    add_node(&victim, &hq, json!([{"channel": "dev:t", "subscribe": false, "publish": true}])).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1}, {"id": 2}]})).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 3}]})).await;
    eventually("the victim's entries reach hq", || async { count(&hq, "t").await == 4 }).await;
    // Also after the link user is gone.
    drop(socket);
    hq.ok(json!({"operation": "drop_user", "username": "pusher"})).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 4}]})).await;
    eventually("later entries too", || async { count(&hq, "t").await == 5 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_peer_speaks_only_for_the_node_its_user_links() {
    use switchyard_protocol::sc::{Hello, Pull, PullReply};
    let hq = TestNode::start_named("hq").await;
    hq.table("t").await;
    let grant = json!({"read": true, "insert": true, "update": true, "delete": true, "attribute_permissions": []});
    hq.ok(json!({"operation": "add_role", "role": "t_link", "permission": {"dev": {"tables": {"t": grant}}}})).await;
    for user in ["sy_link_edge", "pusher"] {
        hq.ok(json!({"operation": "add_user", "username": user, "password": "link-pw", "role": "t_link", "active": true})).await;
    }
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&hq), trust: None };
    // The link user of edge cannot say it is another node.
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login("sy_link_edge", "link-pw").await.unwrap();
    let refused = socket.call::<_, Hello>("sy:hello", &Hello { node_name: "victim".into() }).await.unwrap_err();
    assert_eq!(refused.refusal(), Some("AuthError"), "{refused}");
    assert!(refused.to_string().contains("links node 'edge'"), "{refused}");
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "edge".into() }).await.unwrap();
    let _: PullReply = socket.call("sy:pull", &Pull { channel: "dev:t".into(), from: 0 }).await.unwrap();
    // Another limited user claiming the victim's name is known by its user name: what it pulls
    // and acknowledges is its own, never the victim's.
    let (other, _events2) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    other.login("pusher", "link-pw").await.unwrap();
    let _: Hello = other.call("sy:hello", &Hello { node_name: "victim".into() }).await.unwrap();
    let _: PullReply = other.call("sy:pull", &Pull { channel: "dev:t".into(), from: 0 }).await.unwrap();
    eventually("both pullers are receivers under their own names", || async {
        let r = receivers(&hq).await;
        r.contains(&("edge".to_string(), "dev:t".to_string())) && r.contains(&("pusher".to_string(), "dev:t".to_string()))
    })
    .await;
    assert!(!receivers(&hq).await.iter().any(|(p, _)| p == "victim"), "nobody moved the victim's position");
}
