//! What a link may do on the node it reaches: a least-privilege link user replicates only what
//! its role grants, receivers end with their links, and a limited peer cannot speak for another
//! node.

use crate::common::cluster::{add_node, count, port, receivers};
use crate::common::{eventually, eventually_some, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

/// The least-privilege link the studio makes: the dialled node's user holds a role granting
/// read on what flows out of it and insert/update/delete on what flows in, and nothing else.
/// The node holds the link to it: a channel outside the role is refused (and said so in
/// cluster_status) while the granted ones flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_user_replicates_only_what_its_role_grants() {
    let edge = TestNode::launch("edge").await;
    let hq = TestNode::launch("hq").await;
    for t in ["sensor_data", "config", "secret"] {
        edge.table(t).await;
    }
    hq.table("sensor_data").await;
    hq.table("config").await;
    let grant = |read: bool, write: bool| json!({"read": read, "insert": write, "update": write, "delete": write, "attribute_permissions": []});
    edge.ok(json!({"operation": "add_role", "role": "link_hq", "permission": {"super_user": false,
        "dev": {"tables": {"sensor_data": grant(true, false), "config": grant(false, true)}}}})).await;
    edge.ok(json!({"operation": "add_user", "username": "sy_link_hq", "password": "link-pass", "role": "link_hq", "active": true})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "secret", "records": [{"id": 1, "pin": 1234}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 1, "t": 20.5}]})).await;

    hq.ok(json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": port(&edge),
        "authorization": {"username": "sy_link_hq", "password": "link-pass"},
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
    let (secret, pushed) = eventually_some("both refusals show in cluster_status", async || {
        let status = hq.ok(json!({"operation": "cluster_status"})).await;
        channel_error(&status, "dev:secret").zip(channel_error(&status, "dev:sensor_data"))
    })
    .await;
    assert!(secret.contains("may not replicate dev:secret") && secret.contains("read"), "{secret}");
    assert!(pushed.contains("insert, update and delete"), "{pushed}");
    assert_eq!(count(&hq, "secret").await, 0, "nothing of a table outside the role reached hq");

    // hq's own sensor writes do not reach edge: the role does not let the link write there.
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 2, "t": 1.0}]})).await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 3, "t": 3.0}]})).await;
    eventually("edge's later sensor write still reaches hq", || async { count(&hq, "sensor_data").await == 3 }).await;
    assert_eq!(count(&edge, "sensor_data").await, 2, "hq's write did not flow into edge");

    // The same user, on the wire itself: neither pull nor push outside the role.
    let link = OpsClient::new(edge.url(), Credentials::basic("sy_link_hq", "link-pass")).unwrap();
    let refused = link.send(&json!({"operation": "search_by_id", "database": "dev", "table": "secret", "ids": [1], "get_attributes": ["*"]})).await.unwrap();
    assert_eq!(refused.status, 403, "the link user cannot read secret through the API either: {}", refused.text);
    use switchyard_protocol::sc::{Hello, Pull, PullReply, Transaction, Txns};
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&edge), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login("sy_link_hq", "link-pass").await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "hq".into() }).await.unwrap();
    let pull = socket.call::<_, PullReply>("sy:pull", &Pull { channel: "dev:secret".into(), from: 0 }).await.unwrap_err();
    assert_eq!(pull.refusal(), Some("AuthError"), "{pull}");
    let push = Txns::<Transaction> { channel: "dev:sensor_data".into(), from: 0, upto: 0, entries: vec![] };
    let pushed = socket.invoke("sy:txns", &push).await.unwrap_err();
    assert_eq!(pushed.refusal(), Some("AuthError"), "{pushed}");
    let ok: PullReply = socket.call("sy:pull", &Pull { channel: "dev:sensor_data".into(), from: 0 }).await.unwrap();
    assert_eq!(ok.primary_key, "id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_link_leaves_no_receiver_behind() {
    let edge = TestNode::launch("edge").await;
    let hq = TestNode::launch("hq").await;
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
    let edge = TestNode::launch("edge").await;
    let hq = TestNode::launch("hq").await;
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

/// A receiver that has not been heard from for the tombstone retention is forgotten, so it no
/// longer holds tombstones back; one this node still publishes to stays (the test above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_silent_past_the_tombstone_retention_is_forgotten() {
    let retention = std::time::Duration::from_secs(1);
    let edge = TestNode::launch_with("edge", |c| c.tombstone_retention = retention).await;
    let hq = TestNode::launch("hq").await;
    edge.table("sensor").await;
    edge.ok(json!({"operation": "insert", "database": "dev", "table": "sensor", "records": [{"id": 1}]})).await;
    // hq dials edge and pulls sensor, then goes away without edge being told.
    hq.ok(json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": port(&edge),
        "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "dev:sensor", "subscribe": true, "publish": false}]})).await;
    let hq_sensor = ("hq".to_string(), "dev:sensor".to_string());
    eventually("hq pulls from edge", || async { receivers(&edge).await.contains(&hq_sensor) }).await;
    hq.ok(json!({"operation": "remove_node", "name": "edge"})).await;
    let node = &edge.running.as_ref().expect("edge runs").node;
    switchyard_node::replication::acks::prune_tombstones(node).await.expect("prune");
    assert!(receivers(&edge).await.contains(&hq_sensor), "heard from within the retention: still a receiver");
    tokio::time::sleep(retention + std::time::Duration::from_millis(200)).await;
    switchyard_node::replication::acks::prune_tombstones(node).await.expect("prune");
    assert!(!receivers(&edge).await.contains(&hq_sensor), "silent past the retention: forgotten");
}

/// A limited link user pushing one entry in `origin`'s name with id 10^12 (as a relay would).
async fn push_as(hq: &TestNode, user: &str, origin: &str, key: &str) -> switchyard_sc::Result<()> {
    use switchyard_protocol::sc::{Hello, Transaction, Txns};
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(hq), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login(user, "push-pw").await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "mallory".into() }).await.unwrap();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let records = serde_json::value::RawValue::from_string(json!([{"id": key}]).to_string()).unwrap();
    let entry = Transaction { id: 1, origin: origin.into(), origin_id: 1_000_000_000_000, channel: "dev:t".into(), operation: "insert".into(), user: None, ts: now_ms as f64, version: now_ms << 20, records: Some(records), ids: None };
    socket.invoke("sy:txns", &Txns { channel: "dev:t".into(), from: 0, upto: 1, entries: vec![entry] }).await.map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_user_relays_only_the_origins_its_role_lists_and_never_drops_the_real_origins_entries() {
    let hq = TestNode::launch("hq").await;
    let victim = TestNode::launch("victim").await;
    hq.table("t").await;
    victim.table("t").await;
    // A link user that may push into t only (as the studio makes for a link), relaying nobody.
    let grant = json!({"read": true, "insert": true, "update": true, "delete": true, "attribute_permissions": []});
    hq.ok(json!({"operation": "add_role", "role": "pusher", "permission": {"dev": {"tables": {"t": grant}}}})).await;
    hq.ok(json!({"operation": "add_user", "username": "pusher", "password": "push-pw", "role": "pusher", "active": true})).await;
    // An entry in the victim's name is refused, said, and nothing of it is written.
    let refused = push_as(&hq, "pusher", "victim", "forged").await.expect_err("a forged origin is refused");
    assert_eq!(refused.refusal(), Some("AuthError"), "{refused}");
    assert!(refused.to_string().contains("may not relay entries of origin 'victim'"), "{refused}");
    assert_eq!(count(&hq, "t").await, 0, "nothing of the forged entry was written");
    let log = hq.ok(json!({"operation": "read_log", "limit": 50, "order": "desc"})).await.to_string();
    assert!(log.contains("may not relay entries of origin"), "the refusal is logged: {log}");
    // Its own node's entries pass (the user's name is its node here).
    push_as(&hq, "pusher", "pusher", "own").await.expect("its own entries");
    eventually("its own entry is applied", || async { count(&hq, "t").await == 1 }).await;

    // Listed in its role, the victim's entries may be relayed (a chain through this link).
    hq.ok(json!({"operation": "alter_role", "id": "pusher", "permission": {"relay_origins": ["victim"], "dev": {"tables": {"t": grant}}}})).await;
    push_as(&hq, "pusher", "victim", "relayed").await.expect("a listed origin is relayed");
    eventually("the relayed entry is applied", || async { count(&hq, "t").await == 2 }).await;
    // The real victim pushes its own entries: every one arrives (what a relay claimed of it is
    // kept to that relay's path).
    add_node(&victim, &hq, json!([{"channel": "dev:t", "subscribe": false, "publish": true}])).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1}, {"id": 2}]})).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 3}]})).await;
    eventually("the victim's entries reach hq", || async { count(&hq, "t").await == 5 }).await;
    // Also after the link user is gone.
    hq.ok(json!({"operation": "drop_user", "username": "pusher"})).await;
    victim.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 4}]})).await;
    eventually("later entries too", || async { count(&hq, "t").await == 6 }).await;
    // A role's relay list is names.
    hq.fails(json!({"operation": "alter_role", "id": "pusher", "permission": {"relay_origins": "victim"}}), 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_peer_speaks_only_for_the_node_its_user_links() {
    use switchyard_protocol::sc::{Hello, Pull, PullReply};
    let hq = TestNode::launch("hq").await;
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
