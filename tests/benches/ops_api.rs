//! Operations API benchmark, switchyard-node and HarperDB 4.7 side by side in one run:
//! insert 100k small records in batches of 500 over HTTP; search_by_conditions page 1, page at
//! offset 90k and by key at 90k on the 100k-row table; describe_table at 100k and at 1M rows;
//! switchyard-node's table digest and ten buckets' records at 1M rows.
//!
//!   cargo bench -p switchyard-e2e --bench ops_api                 # both servers (make harperdb first)
//!   cargo bench -p switchyard-e2e --bench ops_api -- --no-harperdb
//!   cargo bench -p switchyard-e2e --bench ops_api -- --harperdb-1m  # also fill HarperDB to 1M (slow)

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_client::OpsClient;
use switchyard_e2e::harperdb::HarperDb;

const BATCH: u64 = 500;

#[derive(Default, Debug)]
struct Results {
    insert_100k_rps: f64,
    page1_ms: f64,
    offset_90k_ms: f64,
    keyset_90k_ms: f64,
    describe_100k_ms: f64,
    describe_1m_ms: Option<f64>,
    insert_1m_rps: Option<f64>,
    /// switchyard-node only (HarperDB keeps no digest).
    digest_1m_ms: Option<f64>,
    bucket_1m_ms: Option<f64>,
}

fn record(i: u64) -> Value {
    json!({"id": i, "device": format!("edge-{:02}", i % 16), "v": i as f64 * 0.5, "ok": !i.is_multiple_of(7)})
}

async fn call(c: &OpsClient, op: Value) -> Value {
    match c.call(&op).await {
        Ok(v) => v,
        Err(e) => panic!("benchmark request failed: {e}\nrequest: {}", op.to_string().chars().take(300).collect::<String>()),
    }
}

/// Inserts ids [from, to) in batches; returns records per second. Request bodies are built
/// before the clock starts so the load generator's JSON work is not counted as the server's.
async fn fill(c: &OpsClient, from: u64, to: u64) -> f64 {
    let bodies: Vec<(u64, Vec<u8>)> = (from..to)
        .step_by(BATCH as usize)
        .map(|i| {
            let end = (i + BATCH).min(to);
            let records: Vec<Value> = (i..end).map(record).collect();
            let op = json!({"operation": "insert", "database": "bench", "table": "sensor", "records": records});
            (end - i, op.to_string().into_bytes())
        })
        .collect();
    let started = Instant::now();
    for (n, body) in bodies {
        let r = c.send_bytes(body, "application/json").await.expect("insert request");
        assert_eq!(r.status, 200, "insert answered {}", r.text);
        let inserted = r.body["inserted_hashes"].as_array().map(Vec::len).unwrap_or(0) as u64;
        assert_eq!(inserted, n, "insert answered {}", r.text);
    }
    (to - from) as f64 / started.elapsed().as_secs_f64()
}

/// Median wall time of `runs` calls, in ms; every answer is checked by `check`.
async fn median_ms(c: &OpsClient, runs: usize, op: Value, check: impl Fn(&Value)) -> f64 {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let v = call(c, op.clone()).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        check(&v);
    }
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn first_id(v: &Value) -> u64 {
    v[0]["id"].as_u64().unwrap_or(u64::MAX)
}

async fn measure(label: &str, c: &OpsClient, million: bool, digests: bool) -> Results {
    eprintln!("[{label}] creating bench.sensor");
    let _ = c.call(&json!({"operation": "drop_database", "database": "bench"})).await;
    call(c, json!({"operation": "create_database", "database": "bench"})).await;
    call(c, json!({"operation": "create_table", "database": "bench", "table": "sensor", "primary_key": "id"})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut r = Results::default();
    eprintln!("[{label}] inserting 100k records in batches of {BATCH}");
    r.insert_100k_rps = fill(c, 0, 100_000).await;
    let search = |offset: Option<u64>, cond: Value| {
        let mut op = json!({"operation": "search_by_conditions", "database": "bench", "table": "sensor",
            "get_attributes": ["*"], "sort": {"attribute": "id"}, "limit": 100, "conditions": [cond]});
        if let Some(o) = offset {
            op["offset"] = json!(o);
        }
        op
    };
    let from_zero = json!({"search_attribute": "id", "search_type": "greater_than_equal", "search_value": 0});
    r.page1_ms = median_ms(c, 21, search(None, from_zero.clone()), |v| assert_eq!(first_id(v), 0)).await;
    r.offset_90k_ms = median_ms(c, 11, search(Some(90_000), from_zero), |v| assert_eq!(first_id(v), 90_000)).await;
    let after = json!({"search_attribute": "id", "search_type": "greater_than", "search_value": 89_999});
    r.keyset_90k_ms = median_ms(c, 21, search(None, after), |v| assert_eq!(first_id(v), 90_000)).await;
    let describe = json!({"operation": "describe_table", "database": "bench", "table": "sensor"});
    r.describe_100k_ms = median_ms(c, 21, describe.clone(), |v| assert_eq!(v["record_count"], 100_000)).await;
    if million {
        eprintln!("[{label}] filling to 1M records");
        r.insert_1m_rps = Some(fill(c, 100_000, 1_000_000).await);
        r.describe_1m_ms = Some(median_ms(c, 21, describe, |v| assert_eq!(v["record_count"], 1_000_000)).await);
        if digests {
            let digest = json!({"operation": "table_digest", "database": "bench", "table": "sensor"});
            r.digest_1m_ms = Some(median_ms(c, 21, digest, |v| assert_eq!(v["count"], 1_000_000)).await);
            // Ten buckets (as ten differing records would name) hold about 10 × 1M / 256 records.
            let buckets = json!({"operation": "table_digest_records", "database": "bench", "table": "sensor", "buckets": (0..10).map(|i| i * 25).collect::<Vec<u16>>()});
            r.bucket_1m_ms = Some(median_ms(c, 11, buckets, |v| assert!(v["records"].as_array().is_some_and(|a| a.len() > 30_000), "ten buckets' records")).await);
        }
    }
    r
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "—".into())
}

/// How many times better switchyard is: higher-is-better rates divide, times invert.
fn ratio(ours: Option<f64>, theirs: Option<f64>, higher_better: bool) -> String {
    match (ours, theirs) {
        (Some(o), Some(t)) if o > 0.0 && t > 0.0 => format!("{:.1}×", if higher_better { o / t } else { t / o }),
        _ => "—".into(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let with_hdb = !args.iter().any(|a| a == "--no-harperdb");
    let hdb_million = args.iter().any(|a| a == "--harperdb-1m");

    let dir = tempfile::tempdir()?;
    let (node, ours_client) = switchyard_testkit::launch_in(dir.path(), "bench", 0, |c| c.admin_password = Some("bench-pw".into())).await;
    let ours = measure("switchyard-node", &ours_client, true, true).await;
    node.stop().await;

    let theirs = if with_hdb {
        let hdb = HarperDb::start().await?;
        let r = measure("HarperDB 4.7", &hdb.client()?, hdb_million, false).await;
        drop(hdb);
        Some(r)
    } else {
        None
    };

    let t = theirs.as_ref();
    /// (measure, switchyard, HarperDB, higher is better, decimals)
    type Row<'a> = (&'a str, Option<f64>, Option<f64>, bool, usize);
    let rows: Vec<Row> = vec![
        ("insert 100k, batches of 500 (records/s)", Some(ours.insert_100k_rps), t.map(|r| r.insert_100k_rps), true, 0),
        ("search_by_conditions page 1, 100 rows (ms)", Some(ours.page1_ms), t.map(|r| r.page1_ms), false, 2),
        ("search_by_conditions offset 90k, 100 rows (ms)", Some(ours.offset_90k_ms), t.map(|r| r.offset_90k_ms), false, 2),
        ("search_by_conditions id > 89999, 100 rows (ms)", Some(ours.keyset_90k_ms), t.map(|r| r.keyset_90k_ms), false, 2),
        ("describe_table at 100k rows (ms)", Some(ours.describe_100k_ms), t.map(|r| r.describe_100k_ms), false, 2),
        ("insert 100k→1M, batches of 500 (records/s)", ours.insert_1m_rps, t.and_then(|r| r.insert_1m_rps), true, 0),
        ("describe_table at 1M rows (ms)", ours.describe_1m_ms, t.and_then(|r| r.describe_1m_ms), false, 2),
        ("table_digest at 1M rows, 256 buckets (ms)", ours.digest_1m_ms, None, false, 2),
        ("table_digest_records, 10 buckets at 1M rows (~39k records) (ms)", ours.bucket_1m_ms, None, false, 2),
    ];
    println!("\n## Operations API — {} ({} cores, {})", std::env::var("BENCH_DATE").unwrap_or_else(|_| "today".into()),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    println!("\n| measure | switchyard-node | HarperDB 4.7 | switchyard ÷ HarperDB |");
    println!("|---|---:|---:|---:|");
    for (name, o, h, higher, digits) in rows {
        println!("| {name} | {} | {} | {} |", fmt(o, digits), fmt(h, digits), ratio(o, h, higher));
    }
    Ok(())
}
