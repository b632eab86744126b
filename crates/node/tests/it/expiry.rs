//! Table time-to-live: records age out of a table with `expiration`, locally and only there.


use std::time::Duration;

use crate::common::{eventually, TestNode};
use serde_json::json;

#[tokio::test]
async fn records_older_than_the_expiration_are_removed() {
    let n = TestNode::start().await;
    n.ok(json!({"operation": "create_table", "database": "dev", "table": "raw", "primary_key": "id", "expiration": 1})).await;
    n.table("keep").await;
    let d = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "raw"})).await;
    assert_eq!(d["expiration"], 1);
    let records: Vec<_> = (0..20).map(|i| json!({"id": i})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "raw", "records": records.clone()})).await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "keep", "records": records})).await;
    assert_eq!(n.count("raw").await, 20, "fresh records stay");

    eventually("the records expire", async || n.count("raw").await == 0).await;
    assert!(n.all("raw").await.is_empty(), "the count and the rows agree");
    let digest = n.ok(json!({"operation": "table_digest", "database": "dev", "table": "raw"})).await;
    assert_eq!((digest["count"].as_u64(), digest["digest"].as_str()), (Some(0), Some("0".repeat(32).as_str())), "expired records leave the digest: {digest}");
    assert_eq!(n.count("keep").await, 20, "tables without expiration keep their records");
    // An update renews a record's life (3 s expiration, touched every 0.5 s for 4 s).
    n.ok(json!({"operation": "create_table", "database": "dev", "table": "touched", "primary_key": "id", "expiration": 3})).await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "touched", "records": [{"id": "x"}]})).await;
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        n.ok(json!({"operation": "update", "database": "dev", "table": "touched", "records": [{"id": "x", "touch": i}]})).await;
    }
    assert_eq!(n.count("touched").await, 1, "kept alive by updates past its expiration");
    n.ok(json!({"operation": "drop_table", "database": "dev", "table": "raw"})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(n.fails(json!({"operation": "describe_table", "database": "dev", "table": "raw"}), 404).await, "Table 'dev.raw' does not exist");
}
