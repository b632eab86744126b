//! Verify benchmark (issue 31): two switchyard-nodes holding the same 1M records (replicated,
//! so at the same versions), verified as the studio's Verify does it (the canvas's topology,
//! both digests, and for differences the buckets' records and the keys' states), beside the
//! anchor, a comparison without digests: paging both tables by key through the Operations API
//! and comparing every record (what verifying HarperDB has to do, and what pt-table-sync-like
//! tools do without checksums).
//!
//! Then, unless `--no-harperdb`: a HarperDB 4.7 and a switchyard-node holding the same 100k
//! records, verified by scanning (HarperDB keeps no digest), as the studio does it.
//!
//!   cargo bench -p switchyard-e2e --bench verify              # 1M records (make harperdb first)
//!   cargo bench -p switchyard-e2e --bench verify -- --rows 100000 --no-harperdb

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_client::OpsClient;
use switchyard_e2e::loopback::LoopbackNode;
use switchyard_studio::topology;
use switchyard_studio::verify::{self, Member, Verdict};

const PW: &str = "bench-pw";
const BATCH: u64 = 1_000;
/// Records per page of the anchor's scan.
const SCAN_PAGE: u64 = 10_000;

fn record(i: u64) -> Value {
    json!({"id": i, "device": format!("edge-{:02}", i % 16), "v": i as f64 * 0.5, "ok": !i.is_multiple_of(7)})
}

async fn ok(c: &OpsClient, op: Value) -> Value {
    c.call(&op).await.unwrap_or_else(|e| panic!("{e}: {}", op.to_string().chars().take(200).collect::<String>()))
}

async fn count(c: &OpsClient) -> u64 {
    ok(c, json!({"operation": "describe_table", "database": "bench", "table": "sensor"})).await["record_count"].as_u64().unwrap_or(0)
}

/// Verifies as `Studio::verify` does once the instances answered: the topology, then the run.
async fn verify_once(a: &LoopbackNode, b: &LoopbackNode, members: &[Member]) -> (f64, verify::VerifyReport) {
    let t = Instant::now();
    let observed = futures_util::future::join_all([a, b].map(|n| async move { topology::observe(n.spec(), &n.client()).await })).await;
    let view = topology::build(&observed);
    let (report, _) = verify::verify(members, &["bench:sensor".to_string()], &view, &tokio_util::sync::CancellationToken::new(), &|_| {}).await;
    (t.elapsed().as_secs_f64() * 1000.0, report)
}

/// The anchor: both tables paged by key and compared record by record; answers the keys that
/// differ (at most `rows + 1` pages per node).
async fn scan_compare(a: &OpsClient, b: &OpsClient, rows: u64) -> (f64, usize) {
    let t = Instant::now();
    let mut differ = 0;
    let mut after: i64 = -1;
    for _ in 0..=rows / SCAN_PAGE + 1 {
        let op = json!({"operation": "search_by_conditions", "database": "bench", "table": "sensor", "get_attributes": ["*"],
            "sort": {"attribute": "id"}, "limit": SCAN_PAGE, "conditions": [{"search_attribute": "id", "search_type": "greater_than", "search_value": after}]});
        let (pa, pb) = tokio::join!(ok(a, op.clone()), ok(b, op));
        let (pa, pb) = (pa.as_array().cloned().unwrap_or_default(), pb.as_array().cloned().unwrap_or_default());
        // Same keys in order (the bench differs by content only), so records compare pairwise.
        differ += pa.iter().zip(&pb).filter(|(x, y)| x != y).count() + pa.len().abs_diff(pb.len());
        match pa.last().and_then(|r| r["id"].as_i64()) {
            Some(last) if pa.len() as u64 == SCAN_PAGE => after = last,
            _ => return (t.elapsed().as_secs_f64() * 1000.0, differ),
        }
    }
    panic!("the scan did not end within its pages");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.iter().position(|a| a == "--rows").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let (a, b) = (LoopbackNode::start("a", PW).await?, LoopbackNode::start("b", PW).await?);
    let (ca, cb) = (a.client(), b.client());
    for c in [&ca, &cb] {
        ok(c, json!({"operation": "create_table", "database": "bench", "table": "sensor", "primary_key": "id"})).await;
    }
    ok(&cb, json!({"operation": "add_node", "name": "a", "host": "127.0.0.1", "port": a.port, "authorization": {"username": "admin", "password": PW},
        "subscriptions": [{"channel": "bench:sensor", "subscribe": true}]})).await;
    eprintln!("filling a with {rows} records; b pulls them");
    let bodies: Vec<Vec<u8>> = (0..rows)
        .step_by(BATCH as usize)
        .map(|i| json!({"operation": "insert", "database": "bench", "table": "sensor", "records": (i..(i + BATCH).min(rows)).map(record).collect::<Vec<_>>()}).to_string().into_bytes())
        .collect();
    for body in bodies {
        let r = ca.send_bytes(body, "application/json").await?;
        anyhow::ensure!(r.status == 200, "insert: {}", r.text);
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while count(&cb).await < rows {
        anyhow::ensure!(Instant::now() < deadline, "b did not receive {rows} records in 10 minutes");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let members = [Member { id: "id-a".into(), name: "a".into(), client: ca.clone(), digests: true }, Member { id: "id-b".into(), name: "b".into(), client: cb.clone(), digests: true }];

    eprintln!("verifying identical tables");
    let mut same = Vec::new();
    for _ in 0..11 {
        let (ms, r) = verify_once(&a, &b, &members).await;
        assert_eq!(r.verdict, Verdict::InSync, "{}", r.summary);
        same.push(ms);
    }
    let (scan_same_ms, d) = scan_compare(&ca, &cb, rows).await;
    assert_eq!(d, 0);

    // Ten records differ: b stops pulling and changes ten of a's records.
    ok(&cb, json!({"operation": "remove_node", "name": "a"})).await;
    let changed: Vec<Value> = (0..10).map(|i| json!({"id": i * (rows / 10) + 7, "v": "changed on b"})).collect();
    ok(&cb, json!({"operation": "update", "database": "bench", "table": "sensor", "records": changed})).await;
    eprintln!("verifying ten differing records");
    let mut ten = Vec::new();
    for _ in 0..5 {
        let (ms, r) = verify_once(&a, &b, &members).await;
        assert_eq!((r.verdict, r.channels[0].rows.len()), (Verdict::Differs, 10), "{}", r.summary);
        ten.push(ms);
    }
    let (scan_ten_ms, d) = scan_compare(&ca, &cb, rows).await;
    assert_eq!(d, 10);

    let harperdb = if args.iter().any(|a| a == "--no-harperdb") { None } else { Some(harperdb_scan(100_000).await?) };

    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())).unwrap_or_default();
    println!("\n## Verify — {} records on two nodes ({} cores, {cpu})", rows, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("\n| measure | Verify (digests) | scan and compare by key (anchor) | anchor ÷ Verify |");
    println!("|---|---:|---:|---:|");
    let (s, t) = (median(same), median(ten));
    println!("| identical tables, to the answer (ms, median of 11) | {s:.1} | {scan_same_ms:.0} | {:.0}× |", scan_same_ms / s);
    println!("| 10 differing records found and listed (ms, median of 5) | {t:.1} | {scan_ten_ms:.0} | {:.0}× |", scan_ten_ms / t);
    if let Some((rows, ms)) = harperdb {
        println!("\nHarperDB 4.7 and switchyard-node, {rows} identical records each, verified by scanning (median of 3): {ms:.0} ms");
    }
    Ok(())
}

/// A HarperDB and a switchyard-node filled with the same `rows` records, verified as the studio
/// does with a HarperDB member (every record read and compared); the median of 3, in ms.
async fn harperdb_scan(rows: u64) -> anyhow::Result<(u64, f64)> {
    let hdb = switchyard_e2e::harperdb::HarperDb::start().await?;
    let hc = hdb.client()?.with_kind(switchyard_client::ServerKind::HarperDb);
    let node = LoopbackNode::start("sy", PW).await?;
    let sc = node.client();
    for c in [&hc, &sc] {
        ok(c, json!({"operation": "create_table", "database": "bench", "table": "sensor", "primary_key": "id"})).await;
    }
    eprintln!("filling HarperDB and a node with {rows} records each");
    for i in (0..rows).step_by(BATCH as usize) {
        let op = json!({"operation": "insert", "database": "bench", "table": "sensor", "records": (i..(i + BATCH).min(rows)).map(record).collect::<Vec<_>>()});
        ok(&hc, op.clone()).await;
        ok(&sc, op).await;
    }
    let members = [Member { id: "h".into(), name: "hdb".into(), client: hc, digests: false }, Member { id: "s".into(), name: "sy".into(), client: sc, digests: true }];
    let view = topology::TopologyView { nodes: vec![], edges: vec![], flows: vec![], warnings: vec![] };
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let (r, _) = verify::verify(&members, &["bench:sensor".to_string()], &view, &tokio_util::sync::CancellationToken::new(), &|_| {}).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.verdict, Verdict::InSync, "{}", r.summary);
    }
    Ok((rows, median(times)))
}
