//! Stopping a busy node ends every task it started.

use std::time::Duration;

use crate::convergence::link_both_ways;
use crate::common::{TestNode, ADMIN, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn stopping_a_busy_node_ends_every_task_it_started() {
    use crate::common::ws::{logged_in_as, recv, send};
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    a.table("t").await;
    b.table("t").await;
    link_both_ways(&a, &b).await;
    // A subscribed socket, a stalled HTTP connection, a link in both directions, writes in flight.
    let mut ws = logged_in_as(&a, ADMIN, PASSWORD).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:t"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    let a_node = a.running.as_ref().unwrap().node.clone();
    let mut stalled = tokio::net::TcpStream::connect(a.running.as_ref().unwrap().addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stalled, b"POST / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    for i in 0..20 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": i}]})).await;
    }
    assert!(!a_node.tasks.is_empty(), "the node runs tasks");
    let mut a = a;
    let running = a.running.take().unwrap();
    let left = tokio::time::timeout(Duration::from_secs(30), running.stop()).await.expect("stop returns");
    assert_eq!(left, 0, "every task ended within the shutdown timeout");
    assert!(a_node.tasks.is_empty(), "{} tasks still tracked", a_node.tasks.len());
    // The socket was told, and b's side of the link saw it go.
    assert_eq!(crate::common::ws::closed_with(&mut ws).await, 1001);
    let b_running = b.running.as_ref().unwrap();
    assert!(!b_running.node.tasks.is_empty(), "b keeps running");
}
