//! HarperDB's shapes read as the client reads them: links, subscriptions, exports, addresses.

use super::*;

fn cluster(v: serde_json::Value, nodes: serde_json::Value) -> Cluster {
    Cluster { status: serde_json::from_value(v).unwrap(), nodes: serde_json::from_value(nodes).unwrap() }
}

#[test]
fn a_full_mesh_carries_every_table_of_its_databases_out_and_system_is_left_out() {
    let c = cluster(
        serde_json::json!({"type": "cluster-status", "node_name": "localhost", "url": "wss://localhost:9933", "is_enabled": true, "connections": [
            {"name": "127.0.0.1", "url": "wss://127.0.0.1:9943", "subscriptions": null, "replicates": true, "database_sockets": [
                {"database": "system", "connected": true, "latency": 2.0, "threadId": 1, "nodes": ["127.0.0.1"]},
                {"database": "dev", "connected": true, "latency": 4.0}]}]}),
        serde_json::json!([{"name": "127.0.0.1", "url": "wss://127.0.0.1:9943", "replicates": true}]),
    );
    let l = c.links(&["dev:dog".into(), "dev:cat".into(), "other:x".into()], 5.0).unwrap();
    assert_eq!((l.mesh.clone(), l.stale.clone()), (vec!["127.0.0.1".to_string()], vec![]));
    let link = &l.status.connections[0];
    assert_eq!((link.host.as_str(), link.port, link.tls, link.state, link.latency_ms), ("127.0.0.1", 9943, true, LinkState::Open, Some(3.0)));
    let carried: Vec<String> = link.subscriptions.iter().map(|s| s.channel.to_string()).collect();
    assert_eq!(carried, vec!["dev:dog", "dev:cat"]);
    assert!(link.subscriptions.iter().all(|s| s.publish && !s.subscribe));
}

#[test]
fn per_table_subscriptions_are_kept_a_socket_down_closes_the_link_and_a_removed_link_is_stale() {
    let c = cluster(
        serde_json::json!({"node_name": "localhost", "is_enabled": true, "connections": [
            {"name": "gone", "url": "wss://127.0.0.1:9953", "subscriptions": [{"database": "dev", "table": "dog", "publish": false, "subscribe": true}],
             "database_sockets": [{"database": "dev", "connected": false}]}]}),
        serde_json::json!([{"name": "later", "url": "wss://127.0.0.1:9963", "subscriptions": [{"database": "dev", "table": "cat", "publish": true, "subscribe": false}]}]),
    );
    let l = c.links(&[], 5.0).unwrap();
    assert_eq!((l.mesh.clone(), l.stale.clone(), l.passive.clone()), (vec![], vec!["gone".to_string()], vec![]));
    let gone = &l.status.connections[0];
    assert_eq!(gone.state, LinkState::Closed);
    assert!(gone.last_error.as_deref().is_some_and(|e| e.contains("dev")), "{gone:?}");
    assert_eq!((gone.subscriptions[0].channel.to_string(), gone.subscriptions[0].subscribe), ("dev:dog".to_string(), true));
    let later = &l.status.connections[1];
    assert_eq!((later.name.as_str(), later.state), ("later", LinkState::Connecting));
}

#[test]
fn a_link_this_node_only_publishes_on_is_passive_its_peer_opens_the_sockets() {
    let c = cluster(
        serde_json::json!({"node_name": "localhost", "is_enabled": true, "connections": [
            {"name": "127.0.0.1", "url": "wss://127.0.0.1:9943", "subscriptions": [{"database": "dev", "table": "dog", "publish": true, "subscribe": false}], "database_sockets": []}]}),
        serde_json::json!([{"name": "127.0.0.1", "url": "wss://127.0.0.1:9943"}]),
    );
    let l = c.links(&[], 5.0).unwrap();
    assert_eq!(l.passive, vec!["127.0.0.1".to_string()]);
    assert_eq!((l.status.connections[0].state, l.status.connections[0].last_error.clone()), (LinkState::Connecting, None));
}

#[test]
fn malformed_peer_data_is_refused_not_filled_in() {
    let bad_url = cluster(serde_json::json!({"node_name": "a", "is_enabled": true, "connections": [{"name": "b", "url": "https://b:1"}]}), serde_json::json!([]));
    assert!(bad_url.links(&[], 0.0).is_err());
    let bad_table = cluster(
        serde_json::json!({"node_name": "a", "is_enabled": true, "connections": [{"name": "b", "url": "wss://b:1", "subscriptions": [{"database": "dev", "table": "", "publish": true, "subscribe": false}]}]}),
        serde_json::json!([]),
    );
    assert!(bad_table.links(&[], 0.0).is_err());
    assert!(serde_json::from_value::<Status>(serde_json::json!({"node_name": "a"})).is_err(), "a cluster_status without connections");
}

#[test]
fn exports_are_javascript_names_each_once_and_earlier_ones_are_kept() {
    assert_eq!(export_name("shop", "item"), "shop_item");
    assert_eq!(export_name("my-db", "9lives"), "my_db_9lives");
    assert_eq!(export_name("1db", "t"), "_1db_t");
    assert_eq!(export_line("shop", "item"), r#"export const shop_item = databases["shop"]?.["item"];"#);
    let first = export_resources("", &[("shop".into(), "item".into())]);
    let both = export_resources(&first, &[("dev".into(), "dog".into()), ("shop".into(), "item".into())]);
    assert_eq!(both, "export const dev_dog = databases[\"dev\"]?.[\"dog\"];\nexport const shop_item = databases[\"shop\"]?.[\"item\"];\n");
    assert_eq!(export_line("a\"b", "t"), r#"export const a_b_t = databases["a\"b"]?.["t"];"#);
}

#[test]
fn the_replication_url_is_read_as_harperdb_builds_it() {
    let r = |v: serde_json::Value| serde_json::from_value::<Configuration>(serde_json::json!({"replication": v, "http": {"port": 9926}})).unwrap().replication.peer_url();
    assert_eq!(r(serde_json::json!({"securePort": 9933, "hostname": "localhost", "databases": "*"})), Ok("wss://localhost:9933".to_string()));
    assert_eq!(r(serde_json::json!({"securePort": 9933, "port": 9932, "hostname": "localhost"})), Ok("ws://localhost:9932".to_string()));
    assert_eq!(r(serde_json::json!({"url": "wss://hq.example:1", "hostname": "x"})), Ok("wss://hq.example:1".to_string()));
    assert!(r(serde_json::json!({"securePort": 9933})).is_err());
}

#[test]
fn requests_take_harperdb_s_own_names() {
    let add = Request::AddNode(Node {
        hostname: "127.0.0.1".into(),
        url: Some("wss://127.0.0.1:9943".into()),
        verify_tls: Some(false),
        authorization: Some(NodeAuthorization { username: "admin".into(), password: "pw".into() }),
        subscriptions: Some(vec![Subscription { database: "dev".into(), table: "dog".into(), publish: true, subscribe: false }]),
    });
    assert_eq!(
        serde_json::to_value(&add).unwrap(),
        serde_json::json!({"operation": "add_node", "hostname": "127.0.0.1", "url": "wss://127.0.0.1:9943", "verify_tls": false,
            "authorization": {"username": "admin", "password": "pw"}, "subscriptions": [{"database": "dev", "table": "dog", "publish": true, "subscribe": false}]})
    );
    assert_eq!(serde_json::to_value(Request::GetConfiguration).unwrap(), serde_json::json!({"operation": "get_configuration"}));
    let remove = Request::RemoveNode(NodeRef { hostname: "127.0.0.1".into() });
    assert_eq!(serde_json::to_value(&remove).unwrap(), serde_json::json!({"operation": "remove_node", "hostname": "127.0.0.1"}));
    assert_eq!(remove.name(), "remove_node");
}
