//! The one SocketCluster client (switchyard-sc) against real nodes: a subscriber resumes across a
//! node restart with no gap and no duplicate, a refused login fails for good with its typed
//! name, and a publish is answered and delivered.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::RunningNode;
use switchyard_sc::{Endpoint, Options, Socket, Subscriber, SubscriberConfig, SubscriberEvent};

async fn node_on(dir: &std::path::Path, port: u16) -> RunningNode {
    switchyard_testkit::launch_in(dir, "edge", port, |c| c.admin_password = Some("sc-pw".into())).await.0
}

/// The next event of a subscriber, within 30 s.
async fn next(sub: &mut Subscriber) -> SubscriberEvent {
    tokio::time::timeout(Duration::from_secs(30), sub.next()).await.expect("an event within 30 s").expect("the subscriber runs")
}

/// Reads events until `n` transactions arrived; answers their first record's `id` and how many
/// times the subscriber (re)connected meanwhile.
async fn transactions(sub: &mut Subscriber, n: usize, last_txn: &mut i64) -> (Vec<i64>, usize) {
    let (mut ids, mut connects) = (Vec::new(), 0);
    while ids.len() < n {
        match next(sub).await {
            SubscriberEvent::Transaction(t) => {
                assert!(t.id > *last_txn, "transaction ids only increase: {} after {}", t.id, last_txn);
                *last_txn = t.id;
                let records: Vec<Value> = serde_json::from_str(t.records.expect("an insert has records").get()).unwrap();
                ids.push(records[0]["id"].as_i64().unwrap());
            }
            SubscriberEvent::Connected => connects += 1,
            SubscriberEvent::Disconnected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    (ids, connects)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_resumes_across_a_node_restart_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_on(dir.path(), 0).await;
    let port = node.addr.port();
    let ops = OpsClient::new(node.url(), Credentials::basic("admin", "sc-pw")).unwrap();
    ops.create_table("dev", "dog", "id").await.unwrap();

    let config = SubscriberConfig {
        endpoint: Endpoint::plain("127.0.0.1", port),
        credentials: Some(("admin".into(), "sc-pw".into())),
        channels: vec![("dev:dog".into(), None)],
        options: Options::default(),
    };
    let mut sub = Subscriber::start(config, None);
    assert!(matches!(next(&mut sub).await, SubscriberEvent::Connected));
    let mut last = 0;
    for i in 1..=100 {
        ops.insert("dev", "dog", &[json!({"id": i})]).await.unwrap();
    }
    let (first, _) = transactions(&mut sub, 100, &mut last).await;
    assert_eq!(first, (1..=100).collect::<Vec<_>>());

    // The node goes away; while its port is closed, 50 records are written to its data (by
    // the same node started on another port); then it comes back on its port. Those 50 can
    // only arrive from the log (`#subscribe` with `from`); what is written after, live.
    node.stop().await;
    let elsewhere = node_on(dir.path(), 0).await;
    let ops = OpsClient::new(elsewhere.url(), Credentials::basic("admin", "sc-pw")).unwrap();
    for i in 101..=150 {
        ops.insert("dev", "dog", &[json!({"id": i})]).await.unwrap();
    }
    elsewhere.stop().await;
    let node = node_on(dir.path(), port).await;
    let ops = OpsClient::new(node.url(), Credentials::basic("admin", "sc-pw")).unwrap();
    let (meanwhile, connects) = transactions(&mut sub, 50, &mut last).await;
    assert_eq!(connects, 1, "reconnected once");
    for i in 151..=200 {
        ops.insert("dev", "dog", &[json!({"id": i})]).await.unwrap();
    }
    let (after, _) = transactions(&mut sub, 50, &mut last).await;
    let all: Vec<i64> = meanwhile.into_iter().chain(after).collect();
    assert_eq!(all, (101..=200).collect::<Vec<_>>(), "every record once, in order");
    // Nothing more is pending: no duplicate follows.
    ops.insert("dev", "dog", &[json!({"id": 201})]).await.unwrap();
    let (tail, _) = transactions(&mut sub, 1, &mut last).await;
    assert_eq!(tail, vec![201]);
    sub.stop();
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed_and_a_publish_is_answered_and_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_on(dir.path(), 0).await;
    let ops = OpsClient::new(node.url(), Credentials::basic("admin", "sc-pw")).unwrap();
    ops.create_table("dev", "cat", "id").await.unwrap();
    let endpoint = Endpoint::plain("127.0.0.1", node.addr.port());

    // A wrong password is not retried: the subscriber fails with the server's error name.
    let config = SubscriberConfig { endpoint: endpoint.clone(), credentials: Some(("admin".into(), "wrong".into())), channels: vec![("dev:cat".into(), None)], options: Options::default() };
    let mut sub = Subscriber::start(config, None);
    match next(&mut sub).await {
        SubscriberEvent::Failed(e) => assert_eq!(e.refusal(), Some("LoginError"), "{e}"),
        other => panic!("expected a failure, got {other:?}"),
    }

    let (socket, mut events) = Socket::connect(&endpoint, Options::default()).await.unwrap();
    assert_eq!(socket.handshake().ping_timeout, 20_000);
    let refused = socket.subscribe("dev:cat", None).await.unwrap_err();
    assert_eq!(refused.refusal(), Some("SubscribeAuthError"), "{refused}");
    socket.login("admin", "sc-pw").await.unwrap();
    socket.subscribe("dev:cat", None).await.unwrap();
    let answer: Value = socket.publish("dev:cat", &json!({"id": "c1", "name": "Tom"})).await.unwrap().data().unwrap();
    assert_eq!(answer["inserted_hashes"], json!(["c1"]));
    let delivered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.recv().await.expect("the socket is open");
            if e.event == "#publish" {
                return e.data::<Value>().unwrap();
            }
        }
    })
    .await
    .expect("the publication arrives");
    assert_eq!(delivered["data"]["records"][0]["name"], "Tom", "{delivered}");
    drop(socket);
    node.stop().await;
}
