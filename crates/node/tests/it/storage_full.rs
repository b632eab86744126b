//! A full disk: writes past the storage limit are refused with 507, the batch that hit the limit
//! leaves nothing behind, everything committed before stays readable, and freeing space recovers.


use crate::common::{ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::{start, NodeConfig};
use tokio::net::TcpListener;

#[tokio::test]
async fn writes_past_the_limit_fail_whole_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), "small").with_admin(ADMIN, PASSWORD);
    config.max_storage_bytes = Some(1024 * 1024);
    let node = start(config, TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap();
    let c = OpsClient::new(node.url(), Credentials::basic(ADMIN, PASSWORD)).unwrap();
    c.create_table("dev", "fill", "id").await.unwrap();

    let mut committed: u64 = 0;
    let mut refusal = None;
    for batch in 0..200u64 {
        let records: Vec<Value> = (0..50).map(|i| json!({"id": batch * 50 + i, "pad": "x".repeat(1000)})).collect();
        let r = c.send(&json!({"operation": "insert", "database": "dev", "table": "fill", "records": records})).await.unwrap();
        if r.status == 200 {
            committed += 50;
        } else {
            refusal = Some(r);
            break;
        }
    }
    let r = refusal.expect("the limit was reached within 200 batches");
    assert_eq!(r.status, 507, "{}", r.text);
    let msg = r.body["error"].as_str().unwrap();
    assert!(msg.contains("storage is full") && msg.contains("nothing was written"), "{msg}");
    assert!(committed > 0);

    let d = c.describe_table("dev", "fill").await.unwrap();
    assert_eq!(d.record_count, committed, "the refused batch left no records and no count");
    let rows = c.sql("SELECT COUNT(*) AS n FROM dev.fill").await.unwrap();
    assert_eq!(rows, json!([{"n": committed}]));

    // Freeing space lets writes succeed again.
    let ids: Vec<u64> = (0..committed / 2).collect();
    c.call(&json!({"operation": "delete", "database": "dev", "table": "fill", "ids": ids})).await.unwrap();
    c.insert("dev", "fill", &[json!({"id": "after", "pad": "y"})]).await.unwrap();
    assert_eq!(c.describe_table("dev", "fill").await.unwrap().record_count, committed - committed / 2 + 1);
    node.stop().await;
}
