//! The receiving side of replication alone: one switchyard-node (B) fed `sy:txns` batches by a
//! peer socket on loopback, each answered once applied and on disk, one at a time, so that what
//! is timed is B's apply (parse, read, last-writer-wins, write, commit, fsync) without a sender's
//! log reads or a poller sharing the cores. Two shapes: a catch-up (50k records as 100 entries of
//! 500 as an origin logs them, in frames of 19 entries, as a stream sends a backlog) and live
//! single-record entries. Then the same catch-up handed to B's store in this process
//! (`Store::apply_remote`, no socket, no client): many rounds, steady enough to resolve a change
//! of a few per cent in the apply itself.
//!
//!   cargo bench -p switchyard-e2e --bench apply

use std::time::{Duration, Instant};

use serde_json::json;
use serde_json::value::RawValue;
use switchyard_protocol::sc::{Hello, Transaction, Txns};
use switchyard_sc::{Endpoint, Options, Socket};
// The allocator the node ships with (mimalloc, set in the test kit's library).
use switchyard_e2e as _;

const ROUNDS: usize = 5;
/// Rounds of the in-process catch-up.
const STORE_ROUNDS: usize = 20;

/// Records as the text an entry carries.
fn raw(records: Vec<serde_json::Value>) -> Box<RawValue> {
    RawValue::from_string(serde_json::Value::Array(records).to_string()).expect("json")
}

/// Entry `k` of the catch-up: its 500 records as an origin logs them, with the time attributes it
/// stamped (µs-precise ms).
fn backlog_records(k: i64) -> Box<RawValue> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_micros() as f64 / 1000.0;
    raw((k * 500..k * 500 + 500)
        .map(|i| json!({"id": i, "device": format!("edge-{}", i % 16), "v": i as f64 * 0.5, "__createdtime__": now, "__updatedtime__": now}))
        .collect())
}

/// Versions above any a fresh node holds: the clock's milliseconds, shifted as its clock's are.
fn version_base() -> i64 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64) << 20
}

fn entry(origin_id: i64, version: i64, records: Box<RawValue>) -> Transaction {
    Transaction { id: origin_id, origin: "a".into(), origin_id, channel: "dev:bench".into(), operation: "insert".into(), user: None, ts: 1.0e12, version, records: Some(records), ids: None }
}

/// One fresh node: (catch-up seconds, per-frame ms, single-entry apply ms median).
async fn round() -> (f64, Vec<f64>, Vec<f64>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (node, client) = switchyard_testkit::launch_in(dir.path(), "b", 0, |c| c.admin_password = Some("bench-pw".into())).await;
    client.create_table("dev", "bench", "id").await.expect("table");
    let endpoint = Endpoint::plain("127.0.0.1", node.addr.port());
    let (socket, _events) = Socket::connect(&endpoint, Options::default()).await.expect("connect");
    socket.login("admin", "bench-pw").await.expect("login");
    let _: Hello = socket.call("sy:hello", &Hello { node_name: "a".into() }).await.expect("hello");
    let base = version_base();
    let entries: Vec<Transaction> = (0..100i64).map(|k| entry(k + 1, base + k, backlog_records(k))).collect();
    let mut frames = Vec::new();
    let started = Instant::now();
    let mut at = 0i64;
    for chunk in entries.chunks(19) {
        let upto = at + chunk.len() as i64;
        let t = Instant::now();
        socket.invoke("sy:txns", &Txns { channel: "dev:bench".into(), from: at, upto, entries: chunk.to_vec() }).await.expect("apply");
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
        at = upto;
    }
    let catchup = started.elapsed().as_secs_f64();
    let mut single = Vec::new();
    for k in 0..220i64 {
        let e = entry(101 + k, base + 200 + k, raw(vec![json!({"id": 1_000_000 + k, "v": k})]));
        let t = Instant::now();
        socket.invoke("sy:txns", &Txns { channel: "dev:bench".into(), from: at, upto: at + 1, entries: vec![e] }).await.expect("apply");
        if k >= 20 {
            single.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        at += 1;
    }
    assert_eq!(client.describe_table("dev", "bench").await.expect("describe").record_count, 50_220, "every record applied");
    drop(socket);
    node.stop().await;
    (catchup, frames, single)
}

/// The catch-up's 100 entries, as the store receives them.
fn backlog(base: i64) -> Vec<switchyard_node::store::RemoteEntry> {
    (0..100i64)
        .map(|k| switchyard_node::store::RemoteEntry { origin: "a".into(), origin_id: k + 1, operation: "insert".into(), ts: 1.0e12, version: base + k, records: Some(backlog_records(k)), ids: None })
        .collect()
}

/// One fresh store in this process, the backlog applied 19 entries at a time, each batch
/// committed and on disk: seconds for the 50k records.
async fn store_round() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = switchyard_node::store::Store::open(dir.path(), "b", None, tokio_util::task::TaskTracker::new()).await.expect("store");
    store.create_database("dev").await.expect("database");
    store.create_table("dev", "bench", "id", None, None).await.expect("table");
    let mut entries = backlog(version_base()).into_iter().peekable();
    let started = Instant::now();
    let mut at = 0i64;
    while entries.peek().is_some() {
        let batch: Vec<_> = entries.by_ref().take(19).collect();
        let upto = at + batch.len() as i64;
        store.apply_remote("a", "dev:bench", batch, at, upto, None).await.expect("apply");
        at = upto;
    }
    let took = started.elapsed().as_secs_f64();
    store.close().await;
    took
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; only `cargo bench` runs them
    }
    let (mut catchups, mut frames, mut singles) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..ROUNDS {
        let (c, f, s) = tokio::time::timeout(Duration::from_secs(300), round()).await.expect("a round ends");
        eprintln!("round {}: catch-up {:.3} s, frames {:?} ms, single median {:.3} ms", r + 1, c, f.iter().map(|x| (x * 10.0).round() / 10.0).collect::<Vec<_>>(), median(s.clone()));
        catchups.push(c);
        frames.extend(f);
        singles.extend(s);
    }
    println!("| B's apply, {ROUNDS} rounds | median |");
    println!("|---|---:|");
    println!("| catch-up: 50k records, frames of 19 × 500, applied and on disk (s) | {:.3} |", median(catchups));
    println!("| one frame of 19 × 500 (ms) | {:.1} |", median(frames));
    println!("| one single-record entry (ms) | {:.3} |", median(singles));
    let mut in_store = Vec::new();
    for _ in 0..STORE_ROUNDS {
        in_store.push(tokio::time::timeout(Duration::from_secs(120), store_round()).await.expect("a round ends"));
    }
    let (spread_lo, spread_hi) = (in_store.iter().copied().fold(f64::MAX, f64::min), in_store.iter().copied().fold(0.0, f64::max));
    let m = median(in_store);
    println!("| in process, `Store::apply_remote` alone, {STORE_ROUNDS} rounds: the same catch-up (s; fastest, slowest) | {m:.3} ({spread_lo:.3}, {spread_hi:.3}) |");
    println!("| the same, a record (µs of the median round) | {:.2} |", m * 1e6 / 50_000.0);
}
