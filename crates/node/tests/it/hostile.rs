//! The node under hostile load and at its protocol's edges (issue 29): floods of wrong
//! passwords, name probing by timing, sockets that never log in or never read, frames of many
//! requests, expiring tokens, keys and names that do not fit, what a user without permission
//! may learn, cluster reads over a seed-style link. Every flood is bounded in count and time and
//! goes to loopback only.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use tokio_tungstenite::tungstenite::Message;

use crate::common::ws::{self, closed_with, recv, send};
use crate::common::{node_with, spawn, TestNode, ADMIN, PASSWORD};

/// The resident memory of a process, in MiB (Linux).
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the node's /proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

/// A plain HTTP client with no pooled connections (each request its own connection).
fn fresh_http() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(30)).build().unwrap()
}

// ---- 1. a flood of wrong passwords -----------------------------------------------------------

/// A node binary on a fresh data folder, so that its memory is its own: its folder, process,
/// URL and pid, a runtime to drive it and an admin client.
fn measured_node() -> (tempfile::TempDir, crate::common::Proc, String, u32, tokio::runtime::Runtime, OpsClient) {
    let dir = tempfile::tempdir().unwrap();
    let (proc, url, _) = spawn(&["--data", dir.path().to_str().unwrap(), "--port", "0", "--admin-password", PASSWORD], &[]);
    let pid = proc.0.id();
    let admin = OpsClient::new(url.clone(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    (dir, proc, url, pid, tokio::runtime::Runtime::new().unwrap(), admin)
}

#[test]
fn a_wrong_password_flood_keeps_memory_flat_and_the_right_password_still_logs_in() {
    let (_dir, proc, url, pid, rt, admin) = measured_node();
    rt.block_on(async {
        admin.call(&json!({"operation": "describe_all"})).await.expect("admin logs in before the flood");
        // Changing a role clears the node's cache of verified credentials: the next right login
        // is checked with a hash again, during the flood.
        admin.call(&json!({"operation": "add_role", "role": "r1", "permission": {}})).await.unwrap();
        let before = rss_mib(pid);
        let http = fresh_http();
        let body = json!({"operation": "describe_all"}).to_string();
        let started = Instant::now();
        let mut peak = before;
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let mut retry_after_missing = 0;
        let mut admin_in = None;
        // Four waves of 64 clients at once (the issue's xargs -P 64), each wave bounded by 60 s.
        for wave in 0..4 {
            // The right password arrives with the first wave, when every check is busy.
            let admin_task = (wave == 0).then(|| {
                let admin = admin.clone();
                tokio::spawn(async move {
                    let t = Instant::now();
                    let r = admin.send(&json!({"operation": "describe_all"})).await.unwrap();
                    (r.status, t.elapsed())
                })
            });
            let requests = (0..64).map(|i| {
                let (http, url, body) = (http.clone(), url.clone(), body.clone());
                async move {
                    http.post(&url).basic_auth(ADMIN, Some(format!("wrong{wave}-{i}"))).header("content-type", "application/json").body(body).send().await
                }
            });
            let flood = futures_util::future::join_all(requests);
            tokio::pin!(flood);
            let mut sample = tokio::time::interval(Duration::from_millis(50));
            let answers = loop {
                tokio::select! {
                    answers = &mut flood => break answers,
                    _ = sample.tick() => peak = peak.max(rss_mib(pid)),
                }
                assert!(started.elapsed() < Duration::from_secs(60 * (wave + 1)), "a wave is answered within 60 s");
            };
            for a in answers {
                let r = a.expect("every flooding request is answered");
                let status = r.status().as_u16();
                if matches!(status, 429 | 503) && r.headers().get("retry-after").is_none() {
                    retry_after_missing += 1;
                }
                *statuses.entry(status).or_default() += 1;
            }
            if let Some(task) = admin_task {
                admin_in = Some(task.await.unwrap());
            }
            peak = peak.max(rss_mib(pid));
        }
        let settled = rss_mib(pid);
        eprintln!("wrong-password flood: statuses {statuses:?}; RSS {before:.0} MiB before, peak {peak:.0}, after {settled:.0}; admin {admin_in:?}");
        assert!(statuses.keys().all(|s| matches!(s, 401 | 429 | 503)), "only refusals: {statuses:?}");
        assert!(statuses.get(&429).copied().unwrap_or(0) > 0, "repeated failures are throttled: {statuses:?}");
        assert_eq!(retry_after_missing, 0, "every 429/503 says when to retry");
        assert!(peak - before < 160.0, "memory stays flat under the flood: {before:.0} -> peak {peak:.0} MiB");
        let (status, took) = admin_in.unwrap();
        assert_eq!(status, 200, "the right password logs in during the flood (took {took:?})");
        // After the flood, a wrong password for the flooded user waits; the right one does not.
        let r = admin.with_credentials(Credentials::basic(ADMIN, "wrong-again")).send(&json!({"operation": "describe_all"})).await.unwrap();
        assert_eq!(r.status, 429, "{}", r.text);
        assert_eq!(admin.send(&json!({"operation": "describe_all"})).await.unwrap().status, 200);
    });
    drop(proc);
}

#[tokio::test]
async fn over_the_socket_a_throttled_login_says_so() {
    let n = TestNode::start().await;
    for i in 0..12 {
        let r = n.as_user(ADMIN, &format!("bad{i}")).send(&json!({"operation": "describe_all"})).await.unwrap();
        assert!(matches!(r.status, 401 | 429), "{}", r.text);
    }
    let (mut socket, _) = ws::handshaken(&n, None).await;
    send(&mut socket, json!({"event": "login", "data": {"username": ADMIN, "password": "bad-again"}, "cid": 2})).await;
    let r = recv(&mut socket).await;
    assert_eq!(r["rid"], 2);
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("try again in"), "a throttled socket login says when to retry: {r}");
}

// ---- 2. user names are not told by timing ----------------------------------------------------

/// The median time of a failed login for each name.
async fn failed_login_median(n: &TestNode, users: &[String]) -> Duration {
    let mut took = Vec::new();
    for u in users {
        let t = Instant::now();
        let r = n.as_user(u, "not-the-password").send(&json!({"operation": "user_info"})).await.unwrap();
        took.push(t.elapsed());
        assert_eq!(r.status, 401, "{}", r.text);
    }
    took.sort();
    took[took.len() / 2]
}

#[tokio::test]
async fn a_known_and_an_unknown_user_fail_at_the_same_cost() {
    let n = TestNode::start().await;
    let known: Vec<String> = (0..7).map(|i| format!("known{i}")).collect();
    for u in &known {
        n.ok(json!({"operation": "add_user", "username": u, "password": "pw", "role": "super_user", "active": true})).await;
    }
    let unknown: Vec<String> = (0..7).map(|i| format!("nobody{i}")).collect();
    // Warm both paths once (the decoy hash is made on first use).
    failed_login_median(&n, &["warm-up".to_string()]).await;
    let known_t = failed_login_median(&n, &known).await;
    let unknown_t = failed_login_median(&n, &unknown).await;
    eprintln!("failed login: known user {known_t:?}, unknown user {unknown_t:?}");
    // Not a speed bar: both run one full password hash, so neither is a fraction of the other.
    assert!(unknown_t * 3 > known_t && known_t * 3 > unknown_t, "known {known_t:?} vs unknown {unknown_t:?}");
}

// ---- 3. sockets count against the connection limit -------------------------------------------

#[tokio::test]
async fn sockets_hold_connection_slots_and_those_that_never_log_in_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _) = node_with("limited", dir.path(), |c| {
        c.max_connections = 6;
        c.socket_login_timeout = Duration::from_secs(2);
    })
    .await;
    let url = format!("ws://{}/socketcluster/", node.addr);
    let mut anonymous = Vec::new();
    for _ in 0..5 {
        let (mut s, _) = tokio_tungstenite::connect_async(&url).await.expect("a socket within the limit");
        send(&mut s, json!({"event": "#handshake", "data": {}, "cid": 1})).await;
        recv(&mut s).await;
        anonymous.push(s);
    }
    // The sixth logs in and stays.
    let (mut member, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    send(&mut member, json!({"event": "#handshake", "data": {}, "cid": 1})).await;
    recv(&mut member).await;
    send(&mut member, json!({"event": "login", "data": {"username": ADMIN, "password": PASSWORD}, "cid": 2})).await;
    assert_eq!(recv(&mut member).await["rid"], 2);
    assert_eq!(recv(&mut member).await["event"], "#setAuthToken");
    // Every slot is a socket now: HTTP is answered 503 with Retry-After, not left hanging.
    let r = fresh_http().post(node.url()).basic_auth(ADMIN, Some(PASSWORD)).body(r#"{"operation":"describe_all"}"#).send().await.expect("answered");
    assert_eq!(r.status(), 503, "sockets count against max_connections");
    assert!(r.headers().get("retry-after").is_some());
    // The answer says its code: a client reads `busy` from it, not a guess from 503 (storage).
    let body: serde_json::Value = r.json().await.expect("a JSON answer");
    assert_eq!(body["code"], "busy", "{body}");
    let client = switchyard_client::OpsClient::new(node.url(), switchyard_client::Credentials::basic(ADMIN, PASSWORD)).unwrap();
    let e = client.call(&json!({"operation": "describe_all"})).await.expect_err("no slot");
    assert_eq!(e.code(), switchyard_protocol::ErrorCode::Busy, "{e}");
    // The sockets that never logged in are closed after the login timeout.
    for s in &mut anonymous {
        assert_eq!(closed_with(s).await, switchyard_protocol::sc::close::LOGIN_TIMEOUT);
    }
    let mut answered = None;
    for _ in 0..100 {
        let r = fresh_http().post(node.url()).basic_auth(ADMIN, Some(PASSWORD)).body(r#"{"operation":"describe_all"}"#).send().await.expect("answered");
        if r.status() == 200 {
            answered = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered.map(|s| s.as_u16()), Some(200), "their slots are free again");
    // The logged-in socket outlived the timeout.
    send(&mut member, json!({"event": "sy:ping", "cid": 3})).await;
    assert_eq!(recv(&mut member).await["rid"], 3, "a logged-in socket is not closed by the login timeout");
    node.stop().await;
}

// ---- 4. a subscriber that stops reading pins nothing -----------------------------------------

#[test]
fn a_subscriber_that_stops_reading_does_not_pin_the_nodes_memory() {
    let (_dir, proc, url, pid, rt, admin) = measured_node();
    rt.block_on(async {
        admin.create_table("dev", "s", "id").await.unwrap();
        admin.create_table("dev", "t", "id").await.unwrap();
        // A subscriber of s whose client then reads nothing more, on a small receive buffer.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let (mut stuck, _) = tokio_tungstenite::client_async(format!("ws://{addr}/socketcluster/"), tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.unwrap();
        send(&mut stuck, json!({"event": "#handshake", "data": {}, "cid": 1})).await;
        recv(&mut stuck).await;
        send(&mut stuck, json!({"event": "login", "data": {"username": ADMIN, "password": PASSWORD}, "cid": 2})).await;
        recv(&mut stuck).await;
        recv(&mut stuck).await;
        send(&mut stuck, json!({"event": "#subscribe", "data": {"channel": "dev:s"}, "cid": 3})).await;
        assert_eq!(recv(&mut stuck).await["rid"], 3);
        // Fill what lies between the node and the client: its writes to this socket now wait.
        let blob = "x".repeat(1000);
        for b in 0..8 {
            let records: Vec<Value> = (0..1000).map(|i| json!({"id": b * 1000 + i, "blob": blob})).collect();
            admin.insert("dev", "s", &records).await.unwrap();
        }
        let before = rss_mib(pid);
        let mut peak = before;
        // 100 MB to another table.
        for b in 0..100 {
            let records: Vec<Value> = (0..1000).map(|i| json!({"id": b * 1000 + i, "blob": blob})).collect();
            admin.insert("dev", "t", &records).await.unwrap();
            peak = peak.max(rss_mib(pid));
        }
        eprintln!("stuck subscriber: RSS {before:.0} MiB before 100 MB to another table, peak {peak:.0}");
        assert!(peak - before < 64.0, "the stuck socket pins nothing of the other table: {before:.0} -> {peak:.0} MiB");
        // And what it does hold of its own table is bounded: 40 MB more to s closes it.
        for b in 8..48 {
            let records: Vec<Value> = (0..1000).map(|i| json!({"id": b * 1000 + i, "blob": blob})).collect();
            admin.insert("dev", "s", &records).await.unwrap();
            peak = peak.max(rss_mib(pid));
        }
        eprintln!("stuck subscriber: peak {peak:.0} MiB after 40 MB more to its own table");
        assert!(peak - before < 96.0, "what a stuck socket holds is bounded: {before:.0} -> {peak:.0} MiB");
        drop(stuck);
    });
    drop(proc);
}

// ---- 5. one frame of many requests -----------------------------------------------------------

#[tokio::test]
async fn a_frame_of_ten_thousand_subscribes_is_answered_whole() {
    let n = TestNode::start().await;
    n.table("many").await;
    let mut s = ws::logged_in_as(&n, ADMIN, PASSWORD).await;
    let packets: Vec<Value> = (0..10_000).map(|i| json!({"event": "#subscribe", "data": {"channel": "dev:many"}, "cid": 100 + i})).collect();
    s.send(Message::Text(Value::Array(packets).to_string().into())).await.unwrap();
    let mut answered = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.len() < 10_000 && Instant::now() < deadline {
        let r = recv(&mut s).await;
        assert!(r.get("error").is_none(), "{r}");
        let rid = r["rid"].as_i64().expect("a reply");
        assert!(answered.insert(rid), "rid {rid} answered twice");
    }
    assert_eq!(answered.len(), 10_000, "every subscribe is answered, the socket stays open");
    send(&mut s, json!({"event": "sy:ping", "cid": 1})).await;
    assert_eq!(recv(&mut s).await["rid"], 1);
}

// ---- 6. every #subscribe with a cid is answered exactly once -----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_refused_before_login_and_sent_again_is_answered_exactly_once() {
    let n = TestNode::start().await;
    n.table("observed").await;
    for i in 0..150 {
        let (mut s, _) = ws::handshaken(&n, None).await;
        send(&mut s, json!({"event": "#subscribe", "data": {"channel": "dev:observed"}, "cid": 2})).await;
        assert_eq!(recv(&mut s).await["error"]["name"], "SubscribeAuthError");
        // The login and the next subscribe back to back, as a client sends them the moment the
        // login is answered (here without even waiting for it).
        let login = json!({"event": "login", "data": {"username": ADMIN, "password": PASSWORD}, "cid": 3}).to_string();
        let subscribe = json!({"event": "#subscribe", "data": {"channel": "dev:observed"}, "cid": 4}).to_string();
        s.feed(Message::Text(login.into())).await.unwrap();
        s.feed(Message::Text(subscribe.into())).await.unwrap();
        s.flush().await.unwrap();
        let mut replies = std::collections::BTreeMap::<i64, Value>::new();
        while let Some(frame) = ws::recv_within(&mut s, Duration::from_millis(if replies.contains_key(&4) { 100 } else { 3000 })).await {
            if let Some(rid) = frame["rid"].as_i64() {
                assert!(replies.insert(rid, frame.clone()).is_none(), "iteration {i}: rid {rid} answered twice");
            }
        }
        assert_eq!(replies.get(&3).map(|r| r["data"]["username"].clone()), Some(json!(ADMIN)), "iteration {i}: {replies:?}");
        assert_eq!(replies.get(&4), Some(&json!({"rid": 4})), "iteration {i}: the second subscribe is answered: {replies:?}");
    }
}

// ---- 7. a token expires on an open socket ----------------------------------------------------

#[tokio::test]
async fn a_socket_authenticated_by_token_loses_it_at_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (node, client) = node_with("expiring", dir.path(), |c| c.operation_token_ttl = Duration::from_secs(2)).await;
    client.create_table("dev", "e", "id").await.unwrap();
    let tokens = client.call(&json!({"operation": "create_authentication_tokens", "username": ADMIN, "password": PASSWORD})).await.unwrap();
    let token = tokens["operation_token"].as_str().unwrap().to_string();
    let (mut s, _) = tokio_tungstenite::connect_async(format!("ws://{}/socketcluster/", node.addr)).await.unwrap();
    send(&mut s, json!({"event": "#handshake", "data": {"authToken": token}, "cid": 1})).await;
    assert_eq!(recv(&mut s).await["data"]["isAuthenticated"], true);
    send(&mut s, json!({"event": "#subscribe", "data": {"channel": "dev:e"}, "cid": 2})).await;
    assert_eq!(recv(&mut s).await["rid"], 2);
    // At expiry the node removes the token and kicks the socket out of its channel.
    let mut removed = false;
    let mut kicked = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(removed && kicked) && Instant::now() < deadline {
        let Some(frame) = ws::recv_within(&mut s, Duration::from_secs(5)).await else { break };
        removed |= frame["event"] == "#removeAuthToken";
        kicked |= frame["event"] == "#kickOut";
    }
    assert!(removed && kicked, "#removeAuthToken and #kickOut at expiry (removed {removed}, kicked {kicked})");
    send(&mut s, json!({"event": "#publish", "data": {"channel": "dev:e", "data": {"id": 1}}, "cid": 3})).await;
    let r = recv(&mut s).await;
    assert_eq!(r["rid"], 3);
    assert_eq!(r["error"]["name"], "PublishAuthError", "a publish after expiry is refused: {r}");
    assert!(client.call(&json!({"operation": "search_by_id", "database": "dev", "table": "e", "ids": [1], "get_attributes": ["*"]})).await.unwrap().as_array().unwrap().is_empty());
    node.stop().await;
}

// ---- 8, 9. keys and names that do not fit ----------------------------------------------------

#[tokio::test]
async fn integer_keys_beyond_64_bits_are_refused_whatever_their_spelling() {
    let n = TestNode::start().await;
    n.table("k").await;
    for key in ["100000000000000000000", "100000000000000000001", "18446744073709551616", "-9223372036854775809", "9223372036854775808", "1e20"] {
        let body = format!(r#"{{"operation":"insert","database":"dev","table":"k","records":[{{"id":{key}}}]}}"#);
        let r = n.client.send_bytes(body.into_bytes(), "application/json").await.unwrap();
        assert_eq!(r.status, 400, "{key}: {}", r.text);
        assert!(r.text.contains("64-bit"), "{key}: {}", r.text);
    }
    assert_eq!(n.count("k").await, 0, "nothing was stored");
    n.ok(json!({"operation": "insert", "database": "dev", "table": "k", "records": [{"id": i64::MAX}, {"id": i64::MIN}]})).await;
    assert_eq!(n.count("k").await, 2);
}

#[tokio::test]
async fn attribute_names_with_a_backslash_are_found_by_search_and_sql() {
    let n = TestNode::start().await;
    n.table("bs").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "bs", "records": [{"id": 1, "a\\b": "v1"}, {"id": 2, "a\\b": "v2"}]})).await;
    let found = n.ok(json!({"operation": "search_by_value", "database": "dev", "table": "bs", "search_attribute": "a\\b", "search_value": "v1", "get_attributes": ["id", "a\\b"]})).await;
    assert_eq!(found, json!([{"id": 1, "a\\b": "v1"}]));
    let rows = n.ok(json!({"operation": "sql", "sql": "SELECT id, \"a\\b\" FROM dev.bs WHERE \"a\\b\" = 'v2'"})).await;
    assert_eq!(rows, json!([{"id": 2, "a\\b": "v2"}]));
}

// ---- 10. what a user without permission may learn --------------------------------------------

#[tokio::test]
async fn a_user_without_permission_cannot_tell_which_tables_exist() {
    let n = TestNode::start().await;
    n.table("secret").await;
    n.table("open").await;
    n.ok(json!({"operation": "add_role", "role": "reader", "permission": {"dev": {"tables": {"open": {"read": true, "insert": false, "update": false, "delete": false}}}}})).await;
    n.ok(json!({"operation": "add_user", "username": "r", "password": "pw", "role": "reader", "active": true})).await;
    let r = n.as_user("r", "pw");
    for table in ["secret", "no_such_table"] {
        for op in [
            json!({"operation": "search_by_value", "database": "dev", "table": table, "search_attribute": "id", "search_value": "*"}),
            json!({"operation": "describe_table", "database": "dev", "table": table}),
            json!({"operation": "read_transaction_log", "database": "dev", "table": table}),
            json!({"operation": "sql", "sql": format!("SELECT * FROM dev.{table}")}),
        ] {
            let a = r.send(&op).await.unwrap();
            assert_eq!(a.status, 403, "{table}: {op} -> {}", a.text);
        }
    }
    n.ok(json!({"operation": "create_database", "database": "prod"})).await;
    for db in ["prod", "nowhere"] {
        let a = r.send(&json!({"operation": "describe_database", "database": db})).await.unwrap();
        assert_eq!(a.status, 403, "{db}: {}", a.text);
    }
    // With permission, a missing table is a 404 as before.
    let a = r.send(&json!({"operation": "describe_database", "database": "dev"})).await.unwrap();
    assert_eq!(a.status, 200, "{}", a.text);
    // Bad SQL speaks of the statement, never of the node's own columns.
    let a = n.client.send(&json!({"operation": "sql", "sql": "SELECT id FROM dev.open LIMIT name"})).await.unwrap();
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(!a.text.contains("doc"), "{}", a.text);
}

// ---- 11. a cluster-wide read over the seed's link ---------------------------------------------

#[tokio::test]
async fn cluster_read_over_a_seed_style_link_answers_every_node() {
    let cluster = switchyard_node::config::ClusterUser { username: "cluster_account".into(), password: "shared-secret".into() };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (hq, hq_c) = node_with("hq", d1.path(), |c| c.cluster_user = Some(cluster.clone())).await;
    let (edge, edge_c) = node_with("edge", d2.path(), |c| c.cluster_user = Some(cluster.clone())).await;
    edge_c.create_table("dev", "sensor", "id").await.unwrap();
    hq_c.create_table("dev", "sensor", "id").await.unwrap();
    edge_c.insert("dev", "sensor", &[json!({"id": 1, "t": 20.5})]).await.unwrap();
    hq_c.call(&json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": edge.addr.port(),
        "subscriptions": [{"channel": "dev:sensor", "subscribe": true, "publish": false}]}))
        .await
        .expect("the seed's add_node, without authorization");
    let read = hq_c
        .call(&json!({"operation": "cluster_read", "search": {"operation": "sql", "sql": "SELECT id FROM dev.sensor WHERE id = 1"}}))
        .await
        .unwrap();
    let nodes = read["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{read}");
    for n in nodes {
        assert_eq!(n["ok"], true, "every node answers a super user's read: {read}");
    }
    let edge_answer = nodes.iter().find(|n| n["node"] == "edge").unwrap();
    assert_eq!(edge_answer["result"], json!([{"id": 1}]), "{read}");
    hq.stop().await;
    edge.stop().await;
}
