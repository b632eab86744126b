//! A subscriber killed with SIGKILL in the middle of catching up loses nothing and applies
//! nothing twice: every transaction is applied together with its position, or not at all.


use std::time::{Duration, Instant};

use crate::common::{eventually_some_within, spawn};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

async fn count(c: &OpsClient) -> u64 {
    match c.send(&json!({"operation": "describe_table", "database": "dev", "table": "sensor"})).await {
        Ok(r) if r.status == 200 => r.body["record_count"].as_u64().unwrap_or(0),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_restart_converges_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (edge_dir, hq_dir) = (dir.path().join("edge"), dir.path().join("hq"));
    let env = [("SWITCHYARD_ADMIN_PASSWORD", "pw")];
    let (_edge, edge_url, _) = spawn(&["--data", edge_dir.to_str().unwrap(), "--port", "0", "--node-name", "edge"], &env);
    let edge = OpsClient::new(&edge_url, Credentials::basic("admin", "pw")).unwrap();
    let edge_port: u16 = edge_url.rsplit(':').next().unwrap().parse().unwrap();
    edge.create_table("dev", "sensor", "id").await.unwrap();

    let hq_args = ["--data", hq_dir.to_str().unwrap(), "--port", "0", "--node-name", "hq"];
    let (hq_proc, hq_url, _) = spawn(&hq_args, &env);
    let hq = OpsClient::new(&hq_url, Credentials::basic("admin", "pw")).unwrap();
    hq.call(&json!({"operation": "add_node", "name": "edge", "host": "127.0.0.1", "port": edge_port,
        "authorization": {"username": "admin", "password": "pw"}, "subscriptions": [{"channel": "dev:sensor", "subscribe": true}]}))
        .await
        .unwrap();

    // 50k records written in 500 transactions while hq receives them live.
    let writer = {
        let edge = edge.clone();
        tokio::spawn(async move {
            for batch in 0..500u64 {
                let records: Vec<Value> = (0..100).map(|i| json!({"id": batch * 100 + i, "v": batch})).collect();
                edge.insert("dev", "sensor", &records).await.unwrap();
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&hq).await < 1000 {
        assert!(Instant::now() < deadline, "nothing arrived on hq within 30 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let at_kill = count(&hq).await;
    drop(hq_proc); // SIGKILL, mid-stream
    eprintln!("hq killed with {at_kill} of 50000 records applied");
    assert!(at_kill < 50_000, "the kill must land mid-stream; hq had everything ({at_kill}) already");
    writer.await.unwrap();
    // More writes while hq is dead, including updates of records it already has.
    edge.upsert("dev", "sensor", &(0..500).map(|i| json!({"id": i, "v": "late"})).collect::<Vec<_>>()).await.unwrap();
    edge.insert("dev", "sensor", &[json!({"id": "last"})]).await.unwrap();

    let (_hq2, hq_url, _) = spawn(&hq_args, &env);
    let hq = OpsClient::new(&hq_url, Credentials::basic("admin", "pw")).unwrap();
    eventually_some_within(format!("hq holds all 50,001 records after the restart (killed at {at_kill})"), Duration::from_secs(60), async || (count(&hq).await == 50_001).then_some(())).await;
    let q = json!({"operation": "sql", "sql": "SELECT id, v, __updatedtime__ FROM dev.sensor ORDER BY id"});
    let (a, b) = (edge.call(&q).await.unwrap(), hq.call(&q).await.unwrap());
    assert_eq!(a.as_array().unwrap().len(), 50_001);
    assert!(a == b, "record sets differ after the restart (killed at {at_kill} records)");
}
