//! csv_data_load with jobs, system_information, registration_info, read_log, cluster_status.


use crate::common::TestNode;
use serde_json::json;

#[tokio::test]
async fn csv_loads_typed_values_and_reports_a_job() {
    let n = TestNode::start().await;
    n.table("csv").await;
    let data = "id,name,age,alive,tags,code\n1,Penny,7,true,\"[\"\"a\"\"]\",007\n2,Harper,,false,,x\n";
    let r = n.ok(json!({"operation": "csv_data_load", "database": "dev", "table": "csv", "data": data})).await;
    let job = r["job_id"].as_str().unwrap().to_string();
    assert_eq!(r["message"], format!("Starting job with id {job}"));
    let rows = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "csv", "ids": [1, 2], "get_attributes": ["id", "name", "age", "alive", "tags", "code"]})).await;
    assert_eq!(rows, json!([
        {"id": 1, "name": "Penny", "age": 7, "alive": true, "tags": ["a"], "code": "007"},
        {"id": 2, "name": "Harper", "age": null, "alive": false, "tags": null, "code": "x"}]));
    let j = n.ok(json!({"operation": "get_job", "id": job})).await;
    assert_eq!(j[0]["status"], "COMPLETE");
    assert_eq!(j[0]["message"], "successfully loaded 2 of 2 records");
    // upsert action merges; a ragged file is refused whole.
    n.ok(json!({"operation": "csv_data_load", "action": "upsert", "database": "dev", "table": "csv", "data": "id,age\n2,4\n3,1\n"})).await;
    assert_eq!(n.count("csv").await, 3);
    let err = n.fails(json!({"operation": "csv_data_load", "database": "dev", "table": "csv", "data": "id,name\n10,a\n11\n"}), 400).await;
    assert!(err.contains("CSV row 3 is malformed"), "{err}");
    assert_eq!(n.count("csv").await, 3, "nothing of a rejected file is written");
    assert_eq!(n.fails(json!({"operation": "csv_data_load", "database": "dev", "table": "csv", "action": "merge", "data": "id\n1\n"}), 400).await,
        "'action' must be insert, update or upsert, not 'merge'");
    assert_eq!(n.fails(json!({"operation": "get_job", "id": "nope"}), 404).await, "job 'nope' not found");
}

#[tokio::test]
async fn system_operations_describe_the_node() {
    let n = TestNode::start().await;
    n.table("t").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1}]})).await;
    let info = n.client.registration_info().await.unwrap();
    assert_eq!(info.kind.as_deref(), Some("switchyard-node"));
    assert_eq!(info.node_name.as_deref(), Some("test-node"));
    let sys = n.ok(json!({"operation": "system_information"})).await;
    assert_eq!(sys["system"]["kind"], "switchyard-node");
    assert!(sys["cpu"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(sys["metrics"]["dev"]["tables"]["t"]["record_count"], 1);
    let part = n.ok(json!({"operation": "system_information", "attributes": ["database_metrics", "time"]})).await;
    let mut keys: Vec<&String> = part.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["metrics", "time"]);
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    // One transaction so far (the insert into dev.t): the log head is its id.
    assert_eq!(status, json!({"type": "cluster-status", "node_name": "test-node", "is_enabled": true, "read_only": null, "connections": [], "receivers": [], "log_head": 1}));
    let log = n.ok(json!({"operation": "read_log", "limit": 5, "order": "asc"})).await;
    let first = &log[0];
    assert!(first["message"].as_str().unwrap().contains("node 'test-node' opened"), "{log}");
    assert_eq!(first["level"], "info");
    assert!(first["timestamp"].as_str().unwrap().ends_with('Z'));
    let errors = n.ok(json!({"operation": "read_log", "level": "error"})).await;
    assert_eq!(errors, json!([]));
    assert!(n.fails(json!({"operation": "read_log", "order": "sideways"}), 400).await.contains("asc or desc"));
}
