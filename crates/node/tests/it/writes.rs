//! Writes that hold under pressure: concurrent SQL increments lose nothing, keys round-trip
//! exactly, a batch failing in storage or a publish failing in a frame is refused alone, very wide
//! records are written, and a failed fsync makes the node read-only without losing anything
//! acknowledged.

use std::time::Duration;

use crate::common::{node_with, sql, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};

// ---- 1. predicate UPDATE reads and writes inside the writer's transaction -----------------------

#[tokio::test]
async fn concurrent_sql_increments_lose_nothing() {
    let n = TestNode::start().await;
    n.table("c").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "c", "records": [{"id": 1, "n": 0}, {"id": 2, "n": 0}]})).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let c = n.client.clone();
        clients.push(tokio::spawn(async move {
            for _ in 0..50 {
                let r = c.send(&sql("UPDATE dev.c SET n = n + 1 WHERE id = 1")).await.expect("transport");
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.body["update_hashes"], json!([1]), "{}", r.text);
            }
        }));
    }
    for c in clients {
        c.await.expect("client task");
    }
    let rows = n.ok(sql("SELECT id, n FROM dev.c ORDER BY id")).await;
    assert_eq!(rows, json!([{"id": 1, "n": 1000}, {"id": 2, "n": 0}]), "20 clients x 50 increments");

    // Predicate deletes decide and delete in one transaction too: each key is deleted once.
    let keys: Vec<Value> = (10..110).map(|i| json!({"id": i, "g": i % 2})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "c", "records": keys})).await;
    let mut deleters = Vec::new();
    for _ in 0..4 {
        let c = n.client.clone();
        deleters.push(tokio::spawn(async move {
            let r = c.call(&sql("DELETE FROM dev.c WHERE g = 0")).await.expect("delete");
            r["deleted_hashes"].as_array().map(Vec::len).unwrap_or(0)
        }));
    }
    let mut deleted = 0;
    for d in deleters {
        deleted += d.await.unwrap();
    }
    assert_eq!(deleted, 50, "every matching key deleted exactly once across concurrent deletes");
    assert_eq!(n.count("c").await, 52);
}

// ---- 2. aggregates in SET or WHERE ----------------------------------------------------------

#[tokio::test]
async fn float_and_large_integer_keys_round_trip_exactly() {
    let n = TestNode::start().await;
    n.table("f").await;
    let key = json!(0.30000000000000004);
    let r = n.ok(json!({"operation": "insert", "database": "dev", "table": "f", "records": [{"id": key, "v": 1}, {"id": 0.3, "v": 2}]})).await;
    assert_eq!(r["inserted_hashes"], json!([0.30000000000000004, 0.3]), "two different keys");
    let found = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "f", "ids": [key], "get_attributes": ["id", "v"]})).await;
    assert_eq!(found, json!([{"id": 0.30000000000000004, "v": 1}]));
    let again = n.ok(json!({"operation": "insert", "database": "dev", "table": "f", "records": [{"id": key}]})).await;
    assert_eq!(again["skipped_hashes"], json!([0.30000000000000004]), "{again}");
    let up = n.ok(json!({"operation": "update", "database": "dev", "table": "f", "records": [{"id": key, "v": 3}]})).await;
    assert_eq!(up["update_hashes"], json!([0.30000000000000004]), "{up}");
    let via_sql = n.ok(sql("SELECT id, v FROM dev.f ORDER BY v")).await;
    assert_eq!(via_sql, json!([{"id": 0.3, "v": 2}, {"id": 0.30000000000000004, "v": 3}]));
    let set = n.ok(sql("UPDATE dev.f SET v = 4 WHERE v = 3")).await;
    assert_eq!(set["update_hashes"], json!([0.30000000000000004]), "{set}");
    let del = n.ok(json!({"operation": "delete", "database": "dev", "table": "f", "ids": [key]})).await;
    assert_eq!(del["deleted_hashes"], json!([0.30000000000000004]), "{del}");
    assert_eq!(n.count("f").await, 1, "the count follows the delete");
    let log = n.running.as_ref().unwrap().node.store.log_after("dev:f", 0, 100, "").await.unwrap();
    assert!(log.entries.last().unwrap().contains("\"operation\":\"delete\""), "the delete is logged, so peers follow");

    // An integral double and the same integer are one key everywhere, SQLite included.
    n.ok(json!({"operation": "insert", "database": "dev", "table": "f", "records": [{"id": 1e16}]})).await;
    let dup = n.ok(json!({"operation": "insert", "database": "dev", "table": "f", "records": [{"id": 10_000_000_000_000_000i64}]})).await;
    assert_eq!(dup["skipped_hashes"], json!([10_000_000_000_000_000i64]), "{dup}");
    // Beyond i64 an integer cannot be stored exactly: refused, nothing written.
    let err = n.fails(json!({"operation": "insert", "database": "dev", "table": "f", "records": [{"id": 5}, {"id": 18446744073709551615u64}]}), 400).await;
    assert!(err.contains("out of range"), "{err}");
    assert_eq!(n.count("f").await, 2);
}

// ---- 4. a failing batch is refused alone ---------------------------------------------------------

#[tokio::test]
async fn a_batch_that_fails_in_storage_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = node_with("quota", dir.path(), |cfg| cfg.max_storage_bytes = Some(3 * 1024 * 1024)).await;
    c.create_table("dev", "q", "id").await.unwrap();
    // Each big batch is larger than the whole quota: SQLite refuses it (SQLITE_FULL) in
    // whatever group commit it shares with the small ones.
    let big: Vec<Value> = (0..40).map(|i| json!({"id": format!("big-{i}"), "pad": "x".repeat(100_000)})).collect();
    let big = json!({"operation": "insert", "database": "dev", "table": "q", "records": big});
    let mut tasks = Vec::new();
    for client in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for b in 0..20 {
                let records: Vec<Value> = (0..5).map(|i| json!({"id": client * 1000 + b * 10 + i, "v": "small"})).collect();
                let r = c.send(&json!({"operation": "insert", "database": "dev", "table": "q", "records": records})).await.unwrap();
                if r.status != 200 {
                    refused.push(format!("{} {}", r.status, r.text));
                }
            }
            refused
        }));
    }
    let bad = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..6 {
                statuses.push(c.send(&big).await.unwrap().status);
            }
            statuses
        })
    };
    for t in tasks {
        let refused = t.await.unwrap();
        assert!(refused.is_empty(), "valid batches were refused: {refused:?}");
    }
    assert_eq!(bad.await.unwrap(), vec![507; 6], "the oversized batch is refused every time");
    assert_eq!(c.describe_table("dev", "q").await.unwrap().record_count, 8 * 20 * 5);
    node.stop().await;
}

// ---- bad input is 400, never 503 -----------------------------------------------------------------

#[tokio::test]
async fn records_with_more_than_eleven_thousand_new_attributes_are_written() {
    let n = TestNode::start().await;
    n.table("wide").await;
    let mut rec = serde_json::Map::new();
    rec.insert("id".into(), json!(1));
    for i in 0..12_000 {
        rec.insert(format!("a{i}"), json!(i));
    }
    n.ok(json!({"operation": "insert", "database": "dev", "table": "wide", "records": [rec]})).await;
    let d = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "wide"})).await;
    assert_eq!(d["attributes"].as_array().unwrap().len(), 12_003, "id, 12,000 attributes and the two timestamps");
    // The same through CSV.
    let header: Vec<String> = std::iter::once("id".to_string()).chain((0..11_500).map(|i| format!("c{i}"))).collect();
    let row: Vec<String> = std::iter::once("7".to_string()).chain((0..11_500).map(|i| i.to_string())).collect();
    let csv = format!("{}\n{}\n", header.join(","), row.join(","));
    n.table("widecsv").await;
    let job = n.ok(json!({"operation": "csv_data_load", "database": "dev", "table": "widecsv", "data": csv})).await;
    let id = job["job_id"].as_str().expect("a job id").to_string();
    let mut status = Value::Null;
    for _ in 0..200 {
        status = n.ok(json!({"operation": "get_job", "id": id})).await;
        if status[0]["status"] != "IN_PROGRESS" && status[0]["status"] != "PENDING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status[0]["status"], "COMPLETE", "{status}");
    assert_eq!(n.count("widecsv").await, 1);
}

// ---- 8. token expiry is exact --------------------------------------------------------------------

#[tokio::test]
async fn a_failed_fsync_makes_the_node_read_only_and_loses_nothing_acknowledged() {
    let n = TestNode::start().await;
    n.table("d").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "d", "records": [{"id": 1, "v": "acknowledged"}]})).await;
    let node = n.running.as_ref().unwrap().node.clone();
    node.store.fail_next_sync();
    let r = n.client.send(&json!({"operation": "insert", "database": "dev", "table": "d", "records": [{"id": 2}]})).await.unwrap();
    assert_eq!(r.status, 503, "the write whose sync failed is not acknowledged: {}", r.text);
    // Every later write is refused with the reason, whatever its path.
    for op in [
        json!({"operation": "insert", "database": "dev", "table": "d", "records": [{"id": 3}]}),
        json!({"operation": "update", "database": "dev", "table": "d", "records": [{"id": 1, "v": "changed"}]}),
        json!({"operation": "delete", "database": "dev", "table": "d", "ids": [1]}),
        sql("UPDATE dev.d SET v = 'x' WHERE id = 1"),
        json!({"operation": "create_table", "database": "dev", "table": "other", "primary_key": "id"}),
    ] {
        let r = n.client.send(&op).await.unwrap();
        assert_eq!(r.status, 503, "{op}: {}", r.text);
        assert!(r.body["error"].as_str().unwrap().contains("read-only"), "{op}: {}", r.text);
        assert!(!r.text.contains(n.dir.path().to_str().unwrap()), "no file path reaches a client: {}", r.text);
    }
    let info = n.ok(json!({"operation": "system_information"})).await;
    assert!(info["read_only"].as_str().is_some_and(|s| s.contains("did not confirm")), "{}", info["read_only"]);
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    assert!(status["read_only"].is_string(), "{status}");
    // Reads go on; what was acknowledged is there.
    let one = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "d", "ids": [1], "get_attributes": ["v"]})).await;
    assert_eq!(one, json!([{"v": "acknowledged"}]));
    // A restart on the same data brings it back writable, the acknowledged record intact.
    let mut n = n;
    n.restart().await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "d", "records": [{"id": 4}]})).await;
    let one = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "d", "ids": [1], "get_attributes": ["v"]})).await;
    assert_eq!(one, json!([{"v": "acknowledged"}]));
}

/// A batch from a peer is committed without waiting for the disk (readers here see it at once)
/// but acknowledged only once synced: when the sync fails, the peer hears the failure instead
/// of an ack, and resends it later from the position it had.
#[tokio::test]
async fn a_replicated_batch_is_acknowledged_only_once_it_is_on_disk() {
    use crate::common::ws::{peer_as, recv, send};
    let n = TestNode::start().await;
    n.table("r").await;
    let mut ws = peer_as(&n, "peer-a").await;
    let batch = |cid: i64, id: i64| {
        let entry = json!({"id": id, "origin": "peer-a", "origin_id": id, "channel": "dev:r", "operation": "insert", "user": null, "ts": 1.0,
            "version": (id << 20) + 1, "records": [{"id": id, "__updatedtime__": 1.0}]});
        json!({"event": "sy:txns", "cid": cid, "data": {"channel": "dev:r", "from": id - 1, "upto": id, "entries": [entry]}})
    };
    send(&mut ws, batch(4, 1)).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 4}));
    let ack = recv(&mut ws).await;
    assert_eq!((ack["event"].as_str(), &ack["data"]["upto"]), (Some("sy:ack"), &json!(1)), "{ack}");

    n.running.as_ref().unwrap().node.store.fail_next_sync();
    send(&mut ws, batch(5, 2)).await;
    let r = recv(&mut ws).await;
    assert_eq!(r["rid"], 5, "{r}");
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("did not confirm")), "a failure, not an ack: {r}");
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    assert!(status["read_only"].is_string(), "{status}");
}

// ---- 5. deletes are last-writer-wins too -----------------------------------------------------

#[tokio::test]
async fn one_failing_publish_in_a_frame_of_ten_is_refused_alone() {
    use crate::common::ws::{recv, Ws};
    use futures_util::SinkExt;
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = node_with("quota-ws", dir.path(), |cfg| cfg.max_storage_bytes = Some(2 * 1024 * 1024)).await;
    c.create_table("dev", "w", "id").await.unwrap();
    let url = format!("ws://{}/socketcluster/", node.addr);
    let mut ws: Ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let send = |v: Value| tokio_tungstenite::tungstenite::Message::Text(v.to_string().into());
    ws.send(send(json!({"event": "#handshake", "data": {}, "cid": 1}))).await.unwrap();
    recv(&mut ws).await;
    ws.send(send(json!({"event": "login", "data": {"username": ADMIN, "password": PASSWORD}, "cid": 2}))).await.unwrap();
    recv(&mut ws).await;
    recv(&mut ws).await;
    // One frame, ten publishes; the sixth is larger than the whole storage quota.
    let frame: Vec<Value> = (0..10)
        .map(|i| {
            let pad = if i == 5 { "x".repeat(3 * 1024 * 1024) } else { "small".into() };
            json!({"event": "#publish", "data": {"channel": "dev:w", "data": {"id": i, "pad": pad}}, "cid": 10 + i})
        })
        .collect();
    ws.send(send(Value::Array(frame))).await.unwrap();
    let mut answers = std::collections::BTreeMap::new();
    while answers.len() < 10 {
        let r = recv(&mut ws).await;
        if let Some(rid) = r["rid"].as_i64() {
            answers.insert(rid - 10, r);
        }
    }
    for (i, r) in &answers {
        if *i == 5 {
            assert!(r["error"]["message"].as_str().unwrap().contains("storage is full"), "{r}");
        } else {
            assert_eq!(r["data"]["inserted_hashes"], json!([i]), "publish {i}: {r}");
        }
    }
    assert_eq!(c.describe_table("dev", "w").await.unwrap().record_count, 9);
    node.stop().await;
}

// ---- malformed peer data is refused, never filled with defaults --------------------------------
