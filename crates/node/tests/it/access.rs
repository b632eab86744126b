//! Access that ends when it should: an expired token is refused even when it was used before,
//! revoked access ends on open sockets at once, and the seed's shared cluster user links nodes
//! (with the binary configured by its clustering variables).

use std::time::Duration;

use crate::common::{node_with, sql, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

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
