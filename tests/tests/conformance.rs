//! The HarperDB 4.7 conformance transcript, run against a real switchyard-node.

use switchyard_e2e::conformance::{run, Target};
use switchyard_node::{start, NodeConfig};
use tokio::net::TcpListener;

#[tokio::test]
async fn switchyard_node_answers_like_harperdb_4_7() {
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig::new(dir.path(), "conformance").with_admin("admin", "conformance-pw");
    let node = start(config, TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap();
    let target = Target { kind: "switchyard", url: node.url(), admin_user: "admin".into(), admin_password: "conformance-pw".into() };
    let (ran, failures) = run(&target).await.unwrap();
    assert!(ran >= 80, "only {ran} cases ran");
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
    node.stop().await;
}
