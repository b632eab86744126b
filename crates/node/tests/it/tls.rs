//! TLS: a node serves https:// and wss:// with a self-signed certificate made on first start,
//! clients trust it by its SHA-256 fingerprint (or not at all), and replication links use wss.


use std::time::Duration;

use crate::common::{eventually, launch_in, ADMIN, PASSWORD};
use serde_json::json;
use switchyard_client::{Credentials, Error, OpsClient, Trust};
use switchyard_node::{start, NodeConfig, RunningNode};
use switchyard_protocol::ErrorCode;
use tokio::net::TcpListener;

async fn tls_node(dir: &std::path::Path, name: &str) -> RunningNode {
    let mut config = NodeConfig::new(dir, name).with_admin(ADMIN, PASSWORD);
    config.tls = true;
    start(config, TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap()
}

fn client(node: &RunningNode, trust: Trust) -> OpsClient {
    OpsClient::with_trust(node.url(), Credentials::basic(ADMIN, PASSWORD), Duration::from_secs(10), &trust).unwrap()
}

#[tokio::test]
async fn a_self_signed_node_is_trusted_by_fingerprint_only() {
    let dir = tempfile::tempdir().unwrap();
    let node = tls_node(dir.path(), "secure").await;
    assert!(node.url().starts_with("https://"));
    let fp = node.node.tls.as_ref().unwrap().fingerprint.clone();
    assert_eq!(fp.len(), 95, "AB:CD:… with 32 bytes: {fp}");

    let pinned = client(&node, Trust::Pinned { fingerprint: fp.clone() });
    let info = pinned.registration_info().await.unwrap();
    assert_eq!(info.tls_fingerprint.as_deref(), Some(fp.as_str()));
    // Colons and case do not matter.
    let relaxed = client(&node, Trust::Pinned { fingerprint: fp.replace(':', "").to_lowercase() });
    relaxed.registration_info().await.unwrap();

    let wrong = client(&node, Trust::Pinned { fingerprint: "00".repeat(32) });
    let err = wrong.registration_info().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Untrusted, "{err}");
    assert!(err.to_string().contains("fingerprint"), "{err}");
    let web = client(&node, Trust::System);
    assert!(matches!(web.registration_info().await.unwrap_err(), Error::Untrusted { .. }), "a self-signed certificate is not trusted by default");
    let plain = OpsClient::new(node.url().replace("https", "http"), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    assert!(plain.registration_info().await.is_err(), "plain HTTP is not served on a TLS port");
    assert!(OpsClient::with_trust(node.url(), Credentials::None, Duration::from_secs(1), &Trust::Pinned { fingerprint: "abc".into() }).is_err());

    // The certificate is kept: the same fingerprint after a restart.
    node.stop().await;
    let again = tls_node(dir.path(), "secure").await;
    assert_eq!(again.node.tls.as_ref().unwrap().fingerprint, fp);
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_links_use_wss_with_a_pinned_certificate() {
    let (de, dh) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let edge = tls_node(de.path(), "edge").await;
    let fp = edge.node.tls.as_ref().unwrap().fingerprint.clone();
    let (hq, h) = launch_in(dh.path(), "hq", 0, |_| {}).await;
    let e = client(&edge, Trust::Pinned { fingerprint: fp.clone() });
    e.create_table("dev", "sensor", "id").await.unwrap();
    e.insert("dev", "sensor", &[json!({"id": 1, "t": 20})]).await.unwrap();

    let add = |name: &str, fp: &str| {
        json!({"operation": "add_node", "name": name, "host": "127.0.0.1", "port": edge.addr.port(),
            "authorization": {"username": ADMIN, "password": PASSWORD}, "tls": {"mode": "pinned", "fingerprint": fp},
            "subscriptions": [{"channel": "dev:sensor", "subscribe": true}]})
    };
    h.call(&add("edge", &fp)).await.unwrap();
    eventually("the record arrives over wss", async || h.sql("SELECT id FROM dev.sensor").await.is_ok_and(|v| v == json!([{"id": 1}]))).await;
    let status = h.call(&json!({"operation": "cluster_status"})).await.unwrap();
    assert_eq!(status["connections"][0]["tls"], true);
    assert_eq!(status["connections"][0]["state"], "open");
    let read = h.call(&json!({"operation": "cluster_read", "search": {"operation": "sql", "sql": "SELECT COUNT(*) AS n FROM dev.sensor"}})).await.unwrap();
    assert!(read["nodes"].as_array().unwrap().iter().all(|n| n["ok"] == true), "cluster_read over https: {read}");

    // A wrong pin is refused and says why.
    h.call(&json!({"operation": "update_node", "name": "edge", "tls": {"mode": "pinned", "fingerprint": "11".repeat(32)}, "subscriptions": [{"channel": "dev:sensor", "subscribe": true}]})).await.unwrap();
    eventually("the wrong pin's fingerprint error is reported", async || {
        let s = h.call(&json!({"operation": "cluster_status"})).await.unwrap();
        s["connections"][0]["last_error"].as_str().is_some_and(|e| e.contains("fingerprint"))
    })
    .await;
    assert!(h.call(&json!({"operation": "update_node", "name": "edge", "tls": {"mode": "pinned", "fingerprint": "zz"}})).await.is_err(), "a malformed pin is refused up front");
    hq.stop().await;
    edge.stop().await;
}
