//! Convergence by exact versions from a hybrid logical clock: conflicting writes microseconds
//! apart, a peer an hour ahead, and random writes on three partitioned nodes.

use crate::common::cluster::{converged, heal, name, port, rows};
use crate::common::{eventually, TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_protocol::sc::{Transaction, Txns};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_writes_microseconds_apart_converge_after_a_partition_heals() {
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    a.table("c").await;
    b.table("c").await;
    // Each key written on both sides while they are apart, a few microseconds apart, in
    // both orders; some deleted on one side after.
    for i in 0..20 {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        for n in [first, second] {
            n.ok(json!({"operation": "upsert", "database": "dev", "table": "c", "records": [{"id": i, "by": name(n)}]})).await;
        }
        if i % 5 == 0 {
            first.ok(json!({"operation": "delete", "database": "dev", "table": "c", "ids": [i]})).await;
        }
    }
    heal(&a, &b, "c").await;
    let both = converged(&[&a, &b], "c").await;
    assert!(both.len() >= 16 && both.len() <= 20, "{both:?}");
    // Once more after the link is up: updates on both sides still agree.
    a.ok(json!({"operation": "update", "database": "dev", "table": "c", "records": [{"id": 1, "late": "a"}]})).await;
    b.ok(json!({"operation": "update", "database": "dev", "table": "c", "records": [{"id": 1, "late": "b"}]})).await;
    let again = converged(&[&a, &b], "c").await;
    assert!(again.iter().any(|r| r["id"] == 1 && r["late"].is_string()), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_an_hour_ahead_cannot_freeze_a_record_and_nodes_converge() {
    use switchyard_protocol::sc::{Hello, Transaction, Txns};
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    a.table("s").await;
    b.table("s").await;
    heal(&a, &b, "s").await;
    // A peer whose clock runs an hour ahead writes record 1 into a; it reaches b too.
    let ahead_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 3_600_000;
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(&a), trust: None };
    let (socket, _events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login(ADMIN, PASSWORD).await.unwrap();
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "skewed".into() }).await.unwrap();
    let records = serde_json::value::RawValue::from_string(json!([{"id": 1, "v": "from the future", "__updatedtime__": ahead_ms as f64}]).to_string()).unwrap();
    let entry = Transaction { id: 1, origin: "skewed".into(), origin_id: 1, channel: "dev:s".into(), operation: "upsert".into(), user: None, ts: ahead_ms as f64, version: ahead_ms << 20, records: Some(records), ids: None };
    socket.invoke("sy:txns", &Txns { channel: "dev:s".into(), from: 0, upto: 1, entries: vec![entry] }).await.unwrap();
    eventually("the skewed write reaches b", || async { rows(&b, "s").await.first().is_some_and(|r| r["v"] == "from the future") }).await;
    // An update on a is newer than what it replaces, whatever a's clock says: b takes it.
    a.ok(json!({"operation": "update", "database": "dev", "table": "s", "records": [{"id": 1, "v": "a's update"}]})).await;
    let both = converged(&[&a, &b], "s").await;
    assert_eq!(both[0]["v"], "a's update", "{both:?}");
    // And one on b after it, likewise.
    b.ok(json!({"operation": "update", "database": "dev", "table": "s", "records": [{"id": 1, "v": "b's update"}]})).await;
    let both = converged(&[&a, &b], "s").await;
    assert_eq!(both[0]["v"], "b's update", "{both:?}");
    // A delete on a wins over the skewed write too.
    a.ok(json!({"operation": "delete", "database": "dev", "table": "s", "ids": [1]})).await;
    assert_eq!(converged(&[&a, &b], "s").await, Vec::<Value>::new());
}

#[test]
fn random_writes_on_three_partitioned_nodes_converge_once_linked() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // (node, key, op): 0 upsert, 1 update, 2 delete.
    let ops = proptest::collection::vec((0..3usize, 0..12i64, 0..3u8), 10..60);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases: 8, failure_persistence: None, max_shrink_iters: 0, ..Default::default() });
    runner
        .run(&ops, |ops| {
            rt.block_on(async {
                let nodes = [TestNode::launch("n0").await, TestNode::launch("n1").await, TestNode::launch("n2").await];
                for n in &nodes {
                    n.table("p").await;
                }
                for (step, (at, key, op)) in ops.iter().enumerate() {
                    let n = &nodes[*at];
                    let body = match op {
                        0 => json!({"operation": "upsert", "database": "dev", "table": "p", "records": [{"id": key, "step": step, "by": at}]}),
                        1 => json!({"operation": "update", "database": "dev", "table": "p", "records": [{"id": key, "touched": step}]}),
                        _ => json!({"operation": "delete", "database": "dev", "table": "p", "ids": [key]}),
                    };
                    n.ok(body).await;
                }
                // A chain: n0 - n1 - n2.
                heal(&nodes[0], &nodes[1], "p").await;
                heal(&nodes[1], &nodes[2], "p").await;
                converged(&[&nodes[0], &nodes[1], &nodes[2]], "p").await;
                // Equal records, equal digests: bucket by bucket on all three.
                let digests = futures_util::future::join_all(nodes.iter().map(|n| n.ok(json!({"operation": "table_digest", "database": "dev", "table": "p"})))).await;
                for d in &digests[1..] {
                    assert_eq!((&d["count"], &d["digest"], &d["buckets"]), (&digests[0]["count"], &digests[0]["digest"], &digests[0]["buckets"]), "digests of converged nodes");
                }
            });
            Ok(())
        })
        .unwrap();
}


/// An entry of peer `p` on `dev:{table}`: `body` holds the records, or the ids of a delete; its
/// version is `base + dv`.
fn entry_of_p(table: &str, base: i64, origin_id: i64, dv: i64, operation: &str, body: Value) -> Transaction {
    let (records, ids) = match operation {
        "delete" => (None, Some(body.as_array().expect("ids").clone())),
        _ => (Some(serde_json::value::RawValue::from_string(body.to_string()).expect("json")), None),
    };
    let channel = format!("dev:{table}");
    Transaction { id: origin_id, origin: "p".into(), origin_id, channel, operation: operation.into(), user: None, ts: 1.0e12 + dv as f64, version: base + dv, records, ids }
}

/// A socket to `n`, logged in as the admin, that said it is node `p`.
async fn socket_as_p(n: &TestNode) -> (switchyard_sc::Socket, switchyard_sc::Events) {
    let endpoint = switchyard_sc::Endpoint { host: "127.0.0.1".into(), port: port(n), trust: None };
    let (socket, events) = switchyard_sc::Socket::connect(&endpoint, switchyard_sc::Options::default()).await.unwrap();
    socket.login(ADMIN, PASSWORD).await.unwrap();
    let _: switchyard_protocol::sc::Hello = socket.call("sy:hello", &switchyard_protocol::sc::Hello { node_name: "p".into() }).await.unwrap();
    (socket, events)
}

/// Nodes `whole` and `single`, each with table `table`, fed by peer `p`: `batch` as one
/// `sy:txns` batch on `whole`, `entries` a batch each on `single`. Answers both, with the sockets.
async fn whole_and_one_by_one(table: &str, batch: Vec<Transaction>, entries: Vec<Transaction>) -> (TestNode, TestNode, Vec<(switchyard_sc::Socket, switchyard_sc::Events)>) {
    let whole = TestNode::launch("whole").await;
    let single = TestNode::launch("single").await;
    let mut sockets = Vec::new();
    for n in [&whole, &single] {
        n.table(table).await;
        sockets.push(socket_as_p(n).await);
    }
    let channel = format!("dev:{table}");
    let upto = entries.len() as i64;
    sockets[0].0.invoke("sy:txns", &Txns { channel: channel.clone(), from: 0, upto, entries: batch }).await.unwrap();
    for (i, e) in entries.into_iter().enumerate() {
        sockets[1].0.invoke("sy:txns", &Txns { channel: channel.clone(), from: i as i64, upto: i as i64 + 1, entries: vec![e] }).await.unwrap();
    }
    (whole, single, sockets)
}

/// Entries from peer `p` that write, delete and write again the same keys, at versions `base + n`.
fn interleaved(base: i64) -> Vec<Transaction> {
    let entry = |origin_id: i64, dv: i64, operation: &str, body: Value| entry_of_p("m", base, origin_id, dv, operation, body);
    // Records enough to fill a segment of a batch (64 KiB) on their own, ids from `from`.
    let filler = |from: i64| Value::Array((from..from + 1200).map(|id| json!({"id": id, "pad": "p".repeat(48)})).collect());
    let mut first = json!([{"id": 1, "v": "one"}, {"id": 2, "v": "two"}, {"id": 3, "v": "three"}, {"id": 1, "v": "one again, same write"}]);
    first.as_array_mut().expect("records").extend(filler(1000).as_array().expect("records").iter().cloned());
    vec![
        entry(1, 10, "upsert", first),
        entry(2, 20, "delete", json!([1])),
        // Older than the delete: the tombstone keeps it out.
        entry(3, 15, "upsert", json!([{"id": 1, "v": "late"}])),
        entry(4, 30, "upsert", json!([{"id": 1, "v": "back"}])),
        // Older than the record: it stays, and no tombstone is left.
        entry(5, 5, "delete", json!([2])),
        entry(6, 40, "upsert", json!([{"id": 3, "v": "three", "extra": true}])),
        // A segment of its own: what follows is planned against what the segments before wrote.
        entry(7, 42, "upsert", filler(3000)),
        entry(8, 50, "delete", json!([3, 4])),
        entry(9, 45, "upsert", json!([{"id": 4, "v": "four"}])),
        entry(10, 60, "upsert", json!([{"id": 5, "v": "five", "extra": false}])),
        entry(11, 70, "delete", json!([5])),
        entry(12, 80, "upsert", json!([{"id": 5, "v": "five again"}])),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_writes_deletes_and_writes_again_ends_as_its_entries_one_by_one() {
    let base = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64) << 20;
    let entries = interleaved(base);
    let last = entries.len() as i64;
    // One batch of every entry, the first one sent twice (a replay is a duplicate).
    let mut batch = entries.clone();
    batch.insert(1, entries[0].clone());
    let (whole, single, sockets) = whole_and_one_by_one("m", batch, entries).await;
    let got = rows(&whole, "m").await;
    assert!(got == rows(&single, "m").await, "the same rows on both");
    let values: Vec<(i64, String)> = got.iter().filter(|r| r["id"].as_i64() < Some(1000)).map(|r| (r["id"].as_i64().unwrap(), r["v"].as_str().unwrap().to_string())).collect();
    assert_eq!(values, vec![(1, "back".to_string()), (2, "two".to_string()), (5, "five again".to_string())]);
    assert_eq!(got.len(), 3 + 2 * 1200);
    for n in [&whole, &single] {
        assert_eq!(n.count("m").await, 3 + 2 * 1200, "the stored count follows the rows on {}", n.name);
    }
    let digest = json!({"operation": "table_digest", "database": "dev", "table": "m"});
    let (w, s) = (whole.ok(digest.clone()).await, single.ok(digest).await);
    assert_eq!((&w["count"], &w["digest"]), (&s["count"], &s["digest"]), "equal tables, equal digests");
    assert!(w["buckets"] == s["buckets"], "equal buckets");
    let described = whole.ok(json!({"operation": "describe_table", "database": "dev", "table": "m"})).await;
    assert!(described["attributes"].as_array().unwrap().iter().any(|a| a["attribute"] == "extra"), "{described}");
    // The tombstones stayed: writes older than the deletes are refused by both.
    let late = interleaved(base).into_iter().find(|e| e.origin_id == 9).unwrap();
    for (i, (socket, _)) in sockets.iter().enumerate() {
        let mut again = late.clone();
        again.origin_id = 13;
        again.records = Some(serde_json::value::RawValue::from_string(json!([{"id": 4, "v": "older than its delete"}, {"id": 3, "v": "older too"}]).to_string()).unwrap());
        socket.invoke("sy:txns", &Txns { channel: "dev:m".into(), from: last, upto: last + 1, entries: vec![again] }).await.unwrap();
        assert_eq!(rows([&whole, &single][i], "m").await.len(), 3 + 2 * 1200);
    }
}

/// Adjacent segments of one batch on the same keys: each is planned against exactly what the
/// one before it left (rows replaced, deleted, tombstones), whatever order the receiver reads and
/// writes them in; a plan that read the table before the previous segment's write without
/// carrying that segment's outcome fails here. Each entry fills a segment of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adjacent_segments_of_a_batch_on_the_same_keys_end_as_their_entries_one_by_one() {
    let base = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64) << 20;
    let entry = |origin_id: i64, dv: i64, operation: &str, body: Value| entry_of_p("s", base, origin_id, dv, operation, body);
    // 1,200 records of about 70 bytes: more than a segment (64 KiB) on their own.
    let all = |v: &str| Value::Array((1000..2200).map(|id| json!({"id": id, "v": v, "pad": "p".repeat(40)})).collect());
    let entries = vec![
        entry(1, 10, "upsert", all("a")),
        // Newer: every row replaced, the count unchanged.
        entry(2, 20, "upsert", all("b")),
        entry(3, 30, "delete", Value::Array((1000..1100).map(|id| json!(id)).collect())),
        // Older than the delete for its first hundred keys (the tombstones keep them out), newer
        // than the rows for the others.
        entry(4, 25, "upsert", all("c")),
        entry(5, 40, "upsert", json!([{"id": 1050, "v": "late"}])),
        // Older than what the first entries left: refused everywhere.
        entry(6, 15, "upsert", json!([{"id": 1500, "v": "old"}, {"id": 1060, "v": "old"}])),
    ];
    let (whole, single, _sockets) = whole_and_one_by_one("s", entries.clone(), entries).await;
    let got = rows(&whole, "s").await;
    assert!(got == rows(&single, "s").await, "the same rows on both");
    assert_eq!(got.len(), 1200 - 100 + 1);
    let value = |id: i64| got.iter().find(|r| r["id"].as_i64() == Some(id)).map(|r| r["v"].as_str().unwrap().to_string());
    assert_eq!((value(1000), value(1050), value(1060), value(1100), value(1500), value(2199)), (None, Some("late".into()), None, Some("c".into()), Some("c".into()), Some("c".into())));
    for n in [&whole, &single] {
        assert_eq!(n.count("s").await, 1101, "the stored count follows the rows on {}", n.name);
    }
    let digest = json!({"operation": "table_digest", "database": "dev", "table": "s"});
    let (w, s) = (whole.ok(digest.clone()).await, single.ok(digest).await);
    assert_eq!((&w["count"], &w["digest"]), (&s["count"], &s["digest"]), "equal tables, equal digests");
    assert!(w["buckets"] == s["buckets"], "equal buckets");
    // The log holds each applied entry once, in order, on both.
    for n in [&whole, &single] {
        let log = n.ok(json!({"operation": "read_transaction_log", "database": "dev", "table": "s"})).await;
        let ids: Vec<i64> = log.as_array().expect("log").iter().map(|e| e["origin_id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6], "{}", n.name);
    }
}

/// Batches a peer pushes back to back, as a stream sends them (events, no waiting): each is
/// applied in order and acknowledged once on disk, in order, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_pushed_back_to_back_are_acknowledged_in_order_once_each() {
    let base = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64) << 20;
    let n = TestNode::launch("hub").await;
    n.table("q").await;
    let (socket, mut events) = socket_as_p(&n).await;
    const BATCHES: i64 = 40;
    for b in 0..BATCHES {
        let records = Value::Array((b * 50..b * 50 + 50).map(|id| json!({"id": id, "batch": b})).collect());
        let e = entry_of_p("q", base, b + 1, b, "insert", records);
        socket.emit("sy:txns", &Txns { channel: "dev:q".into(), from: b, upto: b + 1, entries: vec![e] }).await.unwrap();
    }
    let mut acked = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while acked.last() != Some(&BATCHES) {
        let e = tokio::time::timeout_at(deadline, events.recv()).await.expect("every ack within 30 s").expect("socket open");
        if e.event == "sy:ack" {
            let ack: switchyard_protocol::sc::Ack = e.data().unwrap();
            assert_eq!(ack.channel, "dev:q");
            acked.push(ack.upto);
        }
    }
    assert_eq!(acked, (1..=BATCHES).collect::<Vec<_>>(), "one ack per batch, in order");
    assert_eq!(n.count("q").await, 50 * BATCHES as u64);
    let log = n.ok(json!({"operation": "read_transaction_log", "database": "dev", "table": "q"})).await;
    let ids: Vec<i64> = log.as_array().expect("log").iter().map(|e| e["origin_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=BATCHES).collect::<Vec<_>>(), "applied in the order sent");
}
