//! Bad input is the client's: aggregates where SQL forbids them and oversized searches are 400
//! (never 503), bodies are read only after authentication and parsed within bounds, stalled
//! connections are closed and excess ones answered at once, malformed replication frames are
//! refused, never filled with defaults.

use std::time::Duration;

use crate::common::{node_with, sql, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

#[tokio::test]
async fn aggregates_in_set_or_where_are_refused() {
    let n = TestNode::start().await;
    n.table("s").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "s", "records": [{"id": 1, "val": 5}, {"id": 2, "val": 7}]})).await;
    let before = n.all("s").await;
    for (q, says) in [
        ("UPDATE dev.s SET val = COUNT(*)", "UPDATE ... SET"),
        ("UPDATE dev.s SET val = ABS(MAX(val)) WHERE id = 1", "UPDATE ... SET"),
        ("UPDATE dev.s SET val = 1 WHERE COUNT(*) > 1", "WHERE"),
        ("DELETE FROM dev.s WHERE COUNT(*) > 1", "WHERE"),
        ("SELECT * FROM dev.s WHERE COUNT(*) > 1", "WHERE"),
        ("SELECT id FROM dev.s WHERE val IN (MAX(val))", "WHERE"),
    ] {
        let err = n.fails(sql(q), 400).await;
        assert!(err.contains("aggregate") && err.contains(says), "{q}: {err}");
    }
    assert_eq!(n.all("s").await, before, "nothing changed");
}

// ---- 3. keys round-trip exactly ----------------------------------------------------------------

#[tokio::test]
async fn bad_sql_and_oversized_searches_are_400_not_503() {
    let n = TestNode::start().await;
    n.table("b").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "b", "records": [{"id": 1, "name": "ab", "v": 1.5}]})).await;
    for q in [
        "SELECT SUBSTR(name) FROM dev.b",
        "SELECT ROUND(v, 1, 2) FROM dev.b",
        "SELECT * FROM dev.b WHERE name LIKE 'a%' ESCAPE 'ab'",
        "SELECT * FROM dev.b LIMIT name",
        "SELECT ABS(-9223372036854775807 - 1) FROM dev.b",
        "SELECT * FROM dev.b WHERE id = 1 LIMIT 'x'",
        "UPDATE dev.b SET v = ABS(-9223372036854775807 - 1) WHERE id = 1",
        "DELETE FROM dev.b WHERE name LIKE 'a' ESCAPE 'ab'",
    ] {
        let r = n.client.send(&sql(q)).await.unwrap();
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        let msg = r.body["error"].as_str().unwrap();
        assert!(!msg.contains("r1") && !msg.contains("doc ->"), "the generated SQL is not shown: {msg}");
    }
    let conditions: Vec<Value> = (0..1200).map(|i| json!({"search_attribute": "v", "search_type": "equals", "search_value": i})).collect();
    let r = n.client.send(&json!({"operation": "search_by_conditions", "database": "dev", "table": "b", "operator": "or", "conditions": conditions})).await.unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(n.count("b").await, 1);
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[tokio::test]
async fn unauthenticated_bodies_are_never_parsed_and_parsing_is_bounded() {
    let n = TestNode::start().await;
    n.table("m").await;
    // 50 MB of `[{},{},…]` without credentials: 401 without reading it.
    let mut body = Vec::with_capacity(50 * 1024 * 1024 + 2);
    body.push(b'[');
    while body.len() < 50 * 1024 * 1024 {
        body.extend_from_slice(b"{},");
    }
    body.extend_from_slice(b"{}]");
    let before = peak_rss_kib();
    let r = n.anonymous().send_bytes(body.clone(), "application/json").await.unwrap();
    assert_eq!(r.status, 401, "{}", r.text);
    // Authenticated, the same body is over the default limit: 400, not parsed.
    let r = n.client.send_bytes(body, "application/json").await.unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["error"].as_str().unwrap().contains("larger than"), "{}", r.text);
    // Under the byte limit but with millions of values: refused before parsing.
    let mut many = b"{\"operation\":\"insert\",\"database\":\"dev\",\"table\":\"m\",\"records\":[".to_vec();
    while many.len() < 8 * 1024 * 1024 {
        many.extend_from_slice(b"{},");
    }
    many.extend_from_slice(b"{}]}");
    let r = n.client.send_bytes(many, "application/json").await.unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["error"].as_str().unwrap().contains("JSON values"), "{}", r.text);
    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    // Parsing 16.7M empty objects took more than 1 GB; reading and refusing takes a few copies
    // of the body at most.
    assert!(grown_mib < 400, "peak memory grew by {grown_mib} MiB");
    assert_eq!(n.count("m").await, 0);
    // Login without credentials in the header still works, through a small body.
    let r = n.anonymous().send(&json!({"operation": "create_authentication_tokens", "username": ADMIN, "password": PASSWORD})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
}

// ---- 11. the shared cluster user ---------------------------------------------------------------

/// Reads what the server sends until it closes (bounded: 10 s); answers the text read.
async fn read_until_closed(mut s: tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await {
        Ok(_) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => panic!("the server kept a stalled connection open for 10 s; read so far: {:?}", String::from_utf8_lossy(&buf)),
    }
}

#[tokio::test]
async fn stalled_connections_are_closed_and_excess_ones_answered_at_once() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = node_with("busy", dir.path(), |cfg| {
        cfg.max_connections = 40;
        cfg.header_read_timeout = Duration::from_secs(1);
        cfg.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    c.create_table("dev", "s", "id").await.unwrap();
    let auth = format!("Basic {}", { use base64::Engine; base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN}:{PASSWORD}")) });
    // The client's kept-alive connection is idle past the header timeout: the node closes it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // 30 connections stall in their headers, 10 in their bodies: every slot is taken.
    let mut stalled = Vec::new();
    for i in 0..40 {
        let mut s = tokio::net::TcpStream::connect(node.addr).await.unwrap();
        let partial = if i < 30 {
            "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: applic".to_string()
        } else {
            format!("POST / HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{{\"operation\":")
        };
        s.write_all(partial.as_bytes()).await.unwrap();
        stalled.push(s);
    }
    // A slot is taken when the connection is accepted: wait until the node has them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A new client is answered at once, with a reason, instead of hanging.
    let fresh = OpsClient::new(node.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), fresh.send(&json!({"operation": "describe_all"}))).await.expect("answered within 5 s").unwrap();
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.text.contains("connections"), "{}", r.text);
    // Stalled connections are closed by the node (408 for slow headers, or a plain close).
    let mut closed = Vec::new();
    for s in stalled {
        closed.push(tokio::spawn(read_until_closed(s)));
    }
    for (i, t) in closed.into_iter().enumerate() {
        let text = t.await.unwrap();
        if i >= 30 {
            assert!(text.is_empty() || text.contains("400") || text.contains("408"), "stalled body {i}: {text:?}");
        }
    }
    // With the slots back, clients are served again.
    let mut served = false;
    for _ in 0..50 {
        let r = c.send(&json!({"operation": "describe_all"})).await.unwrap();
        if r.status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the node serves again once the stalled connections are gone");
    node.stop().await;
}

#[tokio::test]
async fn malformed_replication_frames_are_refused_not_defaulted() {
    use crate::common::ws::{peer_as, recv, send, send_text};
    let n = TestNode::start().await;
    n.table("r").await;
    let mut ws = peer_as(&n, "fake-peer").await;
    send(&mut ws, json!({"event": "sy:offer", "data": {"channel": "dev:other"}, "cid": 4})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("primary_key"), "{r}");
    assert!(n.running.as_ref().unwrap().node.store.table("dev", "other").is_err(), "no table made up with a default key");
    send(&mut ws, json!({"event": "sy:pull", "data": {"channel": "dev:r"}, "cid": 5})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("'from'"), "{r}");
    // A batch that does not say where it continues from cannot be checked for a gap: refused.
    let entry = json!({"id": 1, "origin": "fake-peer", "origin_id": 1, "channel": "dev:r", "operation": "insert", "user": null, "ts": 1.0,
         "version": 1 << 20, "records": [{"id": 1, "v": "no time", "__updatedtime__": 1.0}]});
    send(&mut ws, json!({"event": "sy:txns", "cid": 6, "data": {"channel": "dev:r", "upto": 1, "entries": [entry]}})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("from"), "{r}");
    assert_eq!(crate::common::ws::closed_with(&mut ws).await, 4100);
    let mut ws = peer_as(&n, "fake-peer").await;
    // An entry without its version cannot take part in last-writer-wins: the batch is refused.
    send(&mut ws, json!({"event": "sy:txns", "cid": 6, "data": {"channel": "dev:r", "from": 0, "upto": 1, "entries": [
        {"id": 1, "origin": "fake-peer", "origin_id": 1, "channel": "dev:r", "operation": "insert", "user": null, "ts": 1.0,
         "records": [{"id": 1, "v": "no version"}]}]}})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("version"), "{r}");
    // The reason arrives before the socket closes (the peer reconnects and resends).
    assert_eq!(crate::common::ws::closed_with(&mut ws).await, 4100);
    // A record naming an attribute twice would be one value here and another wherever its text
    // is read differently (a node stores the sender's text): its batch is refused whole, the
    // well-formed record before it too.
    let mut ws = peer_as(&n, "fake-peer").await;
    let entry = |id: i64, records: Value| {
        json!({"id": id, "origin": "fake-peer", "origin_id": id, "channel": "dev:r", "operation": "insert", "user": null, "ts": 1.0,
               "version": (1i64 << 20) + id, "records": records})
    };
    send(&mut ws, json!({"event": "sy:txns", "cid": 7, "data": {"channel": "dev:r", "from": 0, "upto": 2, "entries": [
        entry(1, json!([{"id": 1, "v": "fine"}])), entry(2, json!([{"id": 2, "v": "one"}, {"id": 3}]))]}})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"].is_null(), "{r}");
    // A `Value` cannot hold a name twice: this frame is written as text.
    send_text(&mut ws, r#"{"event":"sy:txns","cid":8,"data":{"channel":"dev:r","from":2,"upto":3,"entries":[{"id":3,"origin":"fake-peer","origin_id":3,"channel":"dev:r","operation":"insert","user":null,"ts":1.0,"version":1048579,"records":[{"id":4,"v":"x"},{"id":5,"v":"a","v":"b"}]}]}}"#).await;
    // The first batch's acknowledgement (once on disk) may come first.
    let mut r = recv(&mut ws).await;
    for _ in 0..3 {
        if r["rid"] == 8 {
            break;
        }
        r = recv(&mut ws).await;
    }
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("'v' is given twice")), "{r}");
    assert_eq!(n.count("r").await, 3, "nothing of the refused batch was applied, all of the one before");
}

// ---- one shutdown signal reaches every task ----------------------------------------------------
