//! The hardening review's findings, one test each: no lost SQL updates, aggregates refused where
//! SQL forbids them, keys that round-trip exactly, a failing batch refused alone, bad input as
//! 400 (never 503), bodies read only after authentication, exact token expiry, the shared
//! cluster user, and transactions published in the shape subscribers receive.


use std::time::Duration;

use crate::common::{node_with, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use tokio::net::TcpListener;

fn sql(q: &str) -> Value {
    json!({"operation": "sql", "sql": q})
}

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
async fn an_expired_token_is_refused_even_when_it_was_used_before() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = node_with("tokens", dir.path(), |cfg| cfg.operation_token_ttl = Duration::from_secs(1)).await;
    let tokens = c.call(&json!({"operation": "create_authentication_tokens", "username": ADMIN, "password": PASSWORD})).await.unwrap();
    let token = tokens["operation_token"].as_str().unwrap().to_string();
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    let exp = claims["exp"].as_u64().unwrap();
    let bearer = c.with_credentials(Credentials::Bearer(token.clone()));
    bearer.call(&json!({"operation": "user_info"})).await.expect("a fresh token works (and is now cached)");
    // Wait (bounded) until the clock is past `exp`.
    for _ in 0..40 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        if now >= exp {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = bearer.send(&json!({"operation": "user_info"})).await.unwrap();
    assert_eq!(r.status, 401, "an expired token is refused at once: {}", r.text);
    node.stop().await;
}

// ---- 9. bodies are read after authentication, and bounded --------------------------------------

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

#[tokio::test]
async fn the_seeds_add_node_works_between_nodes_sharing_a_cluster_user() {
    let cluster = switchyard_node::config::ClusterUser { username: "cluster_account".into(), password: "shared-secret".into() };
    let (d1, d2, d3) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (hq, hq_c) = node_with("hq", d1.path(), |cfg| cfg.cluster_user = Some(cluster.clone())).await;
    let (edge, edge_c) = node_with("edge", d2.path(), |cfg| cfg.cluster_user = Some(cluster.clone())).await;
    edge_c.create_table("dev", "sensor", "id").await.unwrap();
    // The seed article's request, exactly: no authorization.
    let add = json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": edge.addr.port(),
        "subscriptions": [{"channel": "dev:sensor", "subscribe": true, "publish": false}]});
    hq_c.call(&add).await.expect("add_node without authorization uses the cluster user");
    edge_c.insert("dev", "sensor", &[json!({"id": 1, "t": 20.5})]).await.unwrap();
    let mut arrived = false;
    for _ in 0..300 {
        let r = hq_c.send(&sql("SELECT id, t FROM dev.sensor")).await.unwrap();
        if r.status == 200 && r.body == json!([{"id": 1, "t": 20.5}]) {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(arrived, "the record reached hq over the link");
    // The cluster user exists on each node with the cluster_user role, and is not a super user.
    let cu = OpsClient::new(edge.url(), Credentials::basic("cluster_account", "shared-secret")).unwrap();
    let info = cu.call(&json!({"operation": "user_info"})).await.unwrap();
    assert_eq!(info["role"]["permission"]["cluster_user"], true, "{info}");
    let r = cu.send(&json!({"operation": "add_user", "username": "x", "password": "y", "role": "super_user"})).await.unwrap();
    assert_eq!(r.status, 403, "{}", r.text);

    // Without a configured cluster user the 400 names the setting.
    let (plain, plain_c) = node_with("plain", d3.path(), |_| {}).await;
    let r = plain_c.send(&add).await.unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["error"].as_str().unwrap().contains("CLUSTERING_USER"), "{}", r.text);
    plain.stop().await;
    hq.stop().await;
    edge.stop().await;
}

#[test]
fn the_seeds_clustering_variables_configure_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (_proc, url, _) = crate::common::spawn(
        &["--data", data, "--port", "0", "--admin-password", PASSWORD],
        &[("CLUSTERING_USER", "seed_cluster"), ("CLUSTERING_PASSWORD", "seed-pw")],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cu = OpsClient::new(url, Credentials::basic("seed_cluster", "seed-pw")).unwrap();
    let info = rt.block_on(cu.call(&json!({"operation": "user_info"}))).expect("the cluster user from CLUSTERING_USER logs in");
    assert_eq!(info["role"]["permission"]["cluster_user"], true, "{info}");
}

// ---- 7. permission changes reach open sockets at once ------------------------------------------

#[tokio::test]
async fn revoked_access_ends_on_open_sockets_at_once() {
    use crate::common::ws::{logged_in_as, recv, recv_within, send};
    let n = TestNode::start().await;
    n.table("r").await;
    n.ok(json!({"operation": "add_role", "role": "writer", "permission": {"dev": {"tables": {"r": {"read": true, "insert": true, "update": false, "delete": false}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "writer", "username": "w", "password": "pw", "active": true})).await;
    let mut ws = logged_in_as(&n, "w", "pw").await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": 1}]})).await;
    assert_eq!(recv(&mut ws).await["data"]["data"]["records"][0]["id"], 1, "subscribed while allowed");

    // alter_role takes read and insert away: the socket is kicked out of the channel at once.
    n.ok(json!({"operation": "alter_role", "id": "writer", "role": "writer", "permission": {"dev": {"tables": {"r": {"read": false, "insert": false, "update": false, "delete": false}}}}})).await;
    let kick = recv(&mut ws).await;
    assert_eq!(kick["event"], "#kickOut", "{kick}");
    assert_eq!(kick["data"]["channel"], "dev:r");
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:r", "data": {"id": 2}}, "cid": 4})).await;
    let refused = recv(&mut ws).await;
    assert_eq!(refused["rid"], 4);
    assert_eq!(refused["error"]["name"], "PublishAuthError", "{refused}");
    n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": 3}]})).await;
    assert_eq!(recv_within(&mut ws, Duration::from_millis(500)).await, None, "no publication after the kick-out");

    // drop_user: the socket loses its identity; its publishes are refused and nothing is written.
    n.ok(json!({"operation": "alter_role", "id": "writer", "role": "writer", "permission": {"dev": {"tables": {"r": {"read": true, "insert": true, "update": false, "delete": false}}}}})).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r"}, "cid": 5})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 5}), "allowed again");
    n.ok(json!({"operation": "drop_user", "username": "w"})).await;
    let mut events = Vec::new();
    for _ in 0..2 {
        events.push(recv(&mut ws).await["event"].as_str().unwrap_or_default().to_string());
    }
    events.sort();
    assert_eq!(events, ["#kickOut", "#removeAuthToken"]);
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:r", "data": {"id": 4}}, "cid": 6})).await;
    let refused = recv(&mut ws).await;
    assert_eq!(refused["error"]["name"], "PublishAuthError", "{refused}");
    assert_eq!(n.count("r").await, 2, "only the two admin inserts");
}

// ---- 12. publish what you receive -----------------------------------------------------------------

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

// ---- 5. deletes are last-writer-wins too -----------------------------------------------------

async fn link_both_ways(a: &TestNode, b: &TestNode) {
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
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
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
    let b = TestNode::start_named("b").await;
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

#[tokio::test]
async fn malformed_replication_frames_are_refused_not_defaulted() {
    use crate::common::ws::{logged_in_as, recv, send};
    let n = TestNode::start().await;
    n.table("r").await;
    let mut ws = logged_in_as(&n, ADMIN, PASSWORD).await;
    send(&mut ws, json!({"event": "sy:hello", "data": {"node_name": "fake-peer"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await["data"]["node_name"], "test-node");
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
    let mut ws = logged_in_as(&n, ADMIN, PASSWORD).await;
    send(&mut ws, json!({"event": "sy:hello", "data": {"node_name": "fake-peer"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await["data"]["node_name"], "test-node");
    // An entry without its version cannot take part in last-writer-wins: the batch is refused.
    send(&mut ws, json!({"event": "sy:txns", "cid": 6, "data": {"channel": "dev:r", "from": 0, "upto": 1, "entries": [
        {"id": 1, "origin": "fake-peer", "origin_id": 1, "channel": "dev:r", "operation": "insert", "user": null, "ts": 1.0,
         "records": [{"id": 1, "v": "no version"}]}]}})).await;
    let r = recv(&mut ws).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("version"), "{r}");
    // The reason arrives before the socket closes (the peer reconnects and resends).
    assert_eq!(crate::common::ws::closed_with(&mut ws).await, 4100);
    assert_eq!(n.count("r").await, 0, "nothing of the refused batch was applied");
}

// ---- one shutdown signal reaches every task ----------------------------------------------------

#[tokio::test]
async fn stopping_a_busy_node_ends_every_task_it_started() {
    use crate::common::ws::{logged_in_as, recv, send};
    let a = TestNode::start_named("a").await;
    let b = TestNode::start_named("b").await;
    a.table("t").await;
    b.table("t").await;
    link_both_ways(&a, &b).await;
    // A subscribed socket, a stalled HTTP connection, a link in both directions, writes in flight.
    let mut ws = logged_in_as(&a, ADMIN, PASSWORD).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:t"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    let a_node = a.running.as_ref().unwrap().node.clone();
    let mut stalled = tokio::net::TcpStream::connect(a.running.as_ref().unwrap().addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stalled, b"POST / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    for i in 0..20 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": i}]})).await;
    }
    assert!(!a_node.tasks.is_empty(), "the node runs tasks");
    let mut a = a;
    let running = a.running.take().unwrap();
    let left = tokio::time::timeout(Duration::from_secs(30), running.stop()).await.expect("stop returns");
    assert_eq!(left, 0, "every task ended within the shutdown timeout");
    assert!(a_node.tasks.is_empty(), "{} tasks still tracked", a_node.tasks.len());
    // The socket was told, and b's side of the link saw it go.
    assert_eq!(crate::common::ws::closed_with(&mut ws).await, 1001);
    let b_running = b.running.as_ref().unwrap();
    assert!(!b_running.node.tasks.is_empty(), "b keeps running");
}
