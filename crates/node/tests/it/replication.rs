//! Replication between real nodes on loopback: the factory topology, chains and rings, catch-up
//! after outages with nothing lost or applied twice, cluster reads, and a batch lost on the wire.
//! Every wait is bounded.

use std::time::Duration;

use crate::common::cluster::{add_node, count, log_entries, port, rows};
use crate::common::{eventually, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_hq_subscribes_to_sensor_data_and_publishes_config() {
    let edge = TestNode::launch("edge").await;
    let hq = TestNode::launch("hq").await;
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
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
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
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    let c = TestNode::launch("c").await;
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
    let edge = TestNode::launch("edge").await;
    let mut hq = TestNode::launch("hq").await;
    edge.table("sensor").await;
    add_node(&hq, &edge, json!([{"channel": "dev:sensor", "subscribe": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": -1}]})).await;
    eventually("the link is up", || async { count(&hq, "sensor").await == 1 }).await;

    // Outage 1: hq is stopped while 50k records are written on edge.
    hq.stop().await;
    for batch in 0..100 {
        let records: Vec<Value> = (0..500).map(|i| json!({"id": batch * 500 + i, "v": format!("r{}", batch * 500 + i)})).collect();
        edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": records})).await;
    }
    hq.resume().await;
    eventually("hq catches up on the backlog", || async { count(&hq, "sensor").await == 50_001 }).await;

    // Outage 2: stopped in the middle of catching up on another 50k.
    let upsert: Vec<Value> = (0..500).map(|i| json!({"id": i, "v": "second"})).collect();
    hq.stop().await;
    for batch in 0..100 {
        let records: Vec<Value> = (0..500).map(|i| json!({"id": 100_000 + batch * 500 + i})).collect();
        edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": records})).await;
    }
    edge.ok(json!({"operation": "upsert", "database": "dev", "table": "sensor", "records": upsert})).await;
    hq.resume().await;
    eventually("some of the backlog has arrived", || async { count(&hq, "sensor").await > 50_001 }).await;
    hq.stop().await;
    hq.resume().await;
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
    let hq = TestNode::launch("hq").await;
    let edge = TestNode::launch("edge").await;
    let mut gone = TestNode::launch("gone").await;
    for n in [&hq, &edge] {
        n.table("sensor").await;
    }
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1, "at": "hq"}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 2, "at": "edge"}, {"id": 3, "at": "edge"}]})).await;
    add_node(&hq, &edge, json!([])).await;
    add_node(&hq, &gone, json!([])).await;
    gone.stop().await;

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
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
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


// ---- lag in time --------------------------------------------------------------------------------

/// `n`'s receiver entry for (`peer`, `channel`) in cluster_status: its backlog and lag.
async fn receiver_lag(n: &TestNode, peer: &str, channel: &str) -> Option<(i64, f64)> {
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    let r = status["receivers"].as_array()?.iter().find(|r| r["peer"] == peer && r["channel"] == channel)?.clone();
    Some((r["backlog"].as_i64()?, r["lag_ms"].as_f64()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receivers_lag_in_time_grows_while_it_is_away_and_is_zero_once_caught_up() {
    let edge = TestNode::launch("edge").await;
    let mut hq = TestNode::launch("hq").await;
    edge.table("sensor").await;
    add_node(&hq, &edge, json!([{"channel": "dev:sensor", "subscribe": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 0}]})).await;
    eventually("hq has caught up, lag zero", async || receiver_lag(&edge, "hq", "dev:sensor").await == Some((0, 0.0))).await;

    // hq goes away; what edge writes meanwhile ages on edge.
    hq.stop().await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1}]})).await;
    let (backlog, first) = receiver_lag(&edge, "hq", "dev:sensor").await.expect("hq is still a receiver");
    assert_eq!(backlog, 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 2}]})).await;
    let (backlog, later) = receiver_lag(&edge, "hq", "dev:sensor").await.expect("hq is still a receiver");
    assert_eq!(backlog, 2);
    // The age of the oldest entry hq lacks: it grows with time, not with the newer write.
    assert!(later >= first + 500.0, "lag grows while hq is away: {first} ms, then {later} ms");

    hq.resume().await;
    eventually("hq catches up, lag back to zero", async || receiver_lag(&edge, "hq", "dev:sensor").await == Some((0, 0.0))).await;
    assert_eq!(count(&hq, "sensor").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_link_carries_nothing_keeps_its_place_across_a_restart_and_resumes() {
    let mut edge = TestNode::launch("edge").await;
    let hq = TestNode::launch("hq").await;
    edge.table("sensor").await;
    hq.table("sensor").await;
    // edge dials hq and pushes sensor, as the factory's edges do.
    add_node(&edge, &hq, json!([{"channel": "dev:sensor", "subscribe": false, "publish": true}])).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 0}]})).await;
    eventually("the first record reaches hq", async || count(&hq, "sensor").await == 1).await;
    // ... and edge has hq's acknowledgement of it: the backlog counted below is only what the
    // pause holds back.
    eventually("hq has acknowledged it, lag zero", async || receiver_lag(&edge, "hq", "dev:sensor").await == Some((0, 0.0))).await;
    let state = async |n: &TestNode| n.ok(json!({"operation": "cluster_status"})).await["connections"][0]["state"].clone();

    // Paused: the link stays configured (its subscriptions kept), carries nothing, and what edge
    // writes meanwhile waits, ageing.
    edge.ok(json!({"operation": "update_node", "name": "hq", "paused": true,
        "subscriptions": [{"channel": "dev:sensor", "subscribe": false, "publish": true}]})).await;
    assert_eq!(state(&edge).await, "paused");
    for id in 1..=5 {
        edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": id}]})).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&hq, "sensor").await, 1, "nothing crosses a paused link");
    let (backlog, lag) = receiver_lag(&edge, "hq", "dev:sensor").await.expect("hq stays a receiver");
    assert_eq!(backlog, 5);
    assert!(lag >= 250.0, "the backlog ages: {lag} ms");

    // Still paused after edge restarts.
    edge.restart().await;
    assert_eq!(state(&edge).await, "paused", "a pause outlives a restart");

    // Resumed (update_node with paused false): the backlog drains, each record once.
    edge.ok(json!({"operation": "update_node", "name": "hq", "paused": false,
        "subscriptions": [{"channel": "dev:sensor", "subscribe": false, "publish": true}]})).await;
    eventually("hq catches up after the pause", async || count(&hq, "sensor").await == 6).await;
    eventually("the backlog has drained, lag zero", async || receiver_lag(&edge, "hq", "dev:sensor").await == Some((0, 0.0))).await;
    assert_eq!(log_entries(&hq, "dev:sensor").await, 6, "each entry applied once");
}
