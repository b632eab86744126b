//! The fan-out load generator against a real switchyard-node: 8 subscribers and a publisher
//! that logs in, 2,000 publishes pipelined through a window of 50 (so many share group commits).
//! Every subscriber gets every publish once and in order, and every publish is stored once.

use serde_json::json;
use switchyard_client::OpsClient;
use switchyard_e2e::fanout::{run, FanoutConfig};
use switchyard_node::RunningNode;

/// A node with an empty `bench.fanout` keyed by `seq`, and an admin client for it.
async fn node_with_table() -> (tempfile::TempDir, RunningNode, OpsClient) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (node, client) = switchyard_testkit::launch_in(dir.path(), "fanout", 0, |c| c.admin_password = Some("pw-fanout".into())).await;
    client.call(&json!({"operation": "create_table", "database": "bench", "table": "fanout", "primary_key": "seq"})).await.expect("create table");
    (dir, node, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_publish_once_in_order_and_each_is_stored() {
    let (_dir, node, client) = node_with_table().await;

    let cfg = FanoutConfig {
        subs: 8,
        msgs: 1_500,
        warmup: 500,
        window: 50,
        login: Some(("admin".into(), "pw-fanout".into())),
        deadline: std::time::Duration::from_secs(60),
        ..FanoutConfig::new(node.addr.port())
    };
    let report = run(cfg).await.expect("fan-out run");
    assert_eq!(report.delivered, 1_500 * 8, "measured deliveries");
    assert!(report.complete_in_order, "each subscriber saw seq 0..2000 once, in order");

    let described = client.describe_table("bench", "fanout").await.expect("describe");
    assert_eq!(described.record_count, 2_000);
    let ids = client.call(&json!({"operation": "sql", "sql": "SELECT COUNT(DISTINCT seq) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM bench.fanout"})).await.expect("sql");
    assert_eq!(ids[0], json!({"n": 2000, "lo": 0, "hi": 1999}));
    node.stop().await;
}

#[tokio::test]
async fn a_publisher_without_a_login_is_refused() {
    let (_dir, node, _client) = node_with_table().await;
    let cfg = FanoutConfig { subs: 1, msgs: 10, warmup: 0, ..FanoutConfig::new(node.addr.port()) };
    let err = run(cfg).await.expect_err("subscribing without a login must fail");
    assert!(format!("{err:#}").contains("You must be logged in to subscribe"), "{err:#}");
    node.stop().await;
}
