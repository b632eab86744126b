//! Replication benchmark, switchyard-node and HarperDB 4.7 side by side in one run. Two nodes
//! each; B receives A's writes on dev:bench. Measured the same way for both, by polling B over
//! the Operations API: latency insert on A → visible on B (200 single-record inserts), end-to-end
//! throughput of 20k records in batches of 500, and catch-up of a 50k backlog after B restarts
//! (from B's start command to the last record present; all records verified afterwards). In the
//! same run, the physical limit of a replicated write on this machine (two `fdatasync`s on the
//! same disk and a loopback round trip), each latency also given as a ratio to it.
//!
//!   cargo bench -p switchyard-e2e --bench replication                 # both (make harperdb first)
//!   cargo bench -p switchyard-e2e --bench replication -- --no-harperdb

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::harperdb::HarperDb;
use switchyard_node::RunningNode;

#[derive(Debug, Default)]
struct Results {
    latency_median_ms: f64,
    latency_p95_ms: f64,
    throughput_rps: f64,
    catchup_s: f64,
}

/// Restarts B; resolves once B answers again.
type Restart<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = OpsClient> + 'a>> + 'a>;

async fn visible(b: &OpsClient, id: &Value, deadline: Instant) -> Instant {
    let q = json!({"operation": "search_by_id", "database": "dev", "table": "bench", "ids": [id], "get_attributes": ["id"]});
    loop {
        if let Ok(v) = b.call(&q).await {
            if v.as_array().is_some_and(|a| !a.is_empty()) {
                return Instant::now();
            }
        }
        assert!(Instant::now() < deadline, "record {id} never reached B");
    }
}

async fn count(b: &OpsClient) -> u64 {
    let v = b.call(&json!({"operation": "sql", "sql": "SELECT COUNT(*) AS n FROM dev.bench"})).await.expect("count on B");
    v[0]["n"].as_u64().unwrap_or(0)
}

fn batch_body(from: u64, n: u64) -> Vec<u8> {
    let records: Vec<Value> = (from..from + n).map(|i| json!({"id": i, "device": format!("edge-{}", i % 16), "v": i as f64 * 0.5})).collect();
    json!({"operation": "insert", "database": "dev", "table": "bench", "records": records}).to_string().into_bytes()
}

async fn measure(label: &str, a: &OpsClient, mut b: OpsClient, mut stop_b: impl FnMut(), mut restart_b: Restart<'_>) -> Results {
    let mut r = Results::default();
    eprintln!("[{label}] latency: 200 single inserts");
    let mut lat = Vec::with_capacity(200);
    for i in 0..220u64 {
        let id = json!(1_000_000 + i);
        let sent = Instant::now();
        a.call(&json!({"operation": "insert", "database": "dev", "table": "bench", "records": [{"id": id, "v": i}]})).await.expect("insert on A");
        let seen = visible(&b, &id, sent + Duration::from_secs(30)).await;
        if i >= 20 {
            lat.push((seen - sent).as_secs_f64() * 1000.0); // the first 20 warm up
        }
    }
    lat.sort_by(f64::total_cmp);
    r.latency_median_ms = lat[lat.len() / 2];
    r.latency_p95_ms = lat[lat.len() * 95 / 100];

    eprintln!("[{label}] throughput: 20k records in batches of 500");
    let bodies: Vec<Vec<u8>> = (0..40).map(|k| batch_body(k * 500, 500)).collect();
    let started = Instant::now();
    for body in bodies {
        let resp = a.send_bytes(body, "application/json").await.expect("insert on A");
        assert_eq!(resp.status, 200, "{}", resp.text);
    }
    let done = visible(&b, &json!(19_999), Instant::now() + Duration::from_secs(120)).await;
    r.throughput_rps = 20_000.0 / (done - started).as_secs_f64();

    eprintln!("[{label}] catch-up: 50k written while B is down");
    stop_b();
    for k in 0..100 {
        let resp = a.send_bytes(batch_body(100_000 + k * 500, 500), "application/json").await.expect("insert on A");
        assert_eq!(resp.status, 200, "{}", resp.text);
    }
    let started = Instant::now();
    b = restart_b().await;
    visible(&b, &json!(149_999), Instant::now() + Duration::from_secs(300)).await;
    r.catchup_s = started.elapsed().as_secs_f64();
    let expected = 220 + 20_000 + 50_000;
    let got = count(&b).await;
    assert_eq!(got, expected, "[{label}] B has {got} records, expected {expected}");
    r
}

async fn boot(dir: &std::path::Path, name: &str) -> anyhow::Result<RunningNode> {
    Ok(switchyard_testkit::launch_in(dir, name, 0, |c| c.admin_password = Some("bench-pw".into())).await.0)
}

async fn switchyard() -> anyhow::Result<Results> {
    let (da, db) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node_a = boot(da.path(), "a").await?;
    let node_b = boot(db.path(), "b").await?;
    let creds = || Credentials::basic("admin", "bench-pw");
    let a = OpsClient::new(node_a.url(), creds())?;
    let b = OpsClient::new(node_b.url(), creds())?;
    a.create_table("dev", "bench", "id").await?;
    b.call(&json!({"operation": "add_node", "name": "a", "host": "127.0.0.1", "port": node_a.addr.port(),
        "authorization": {"username": "admin", "password": "bench-pw"}, "subscriptions": [{"channel": "dev:bench", "subscribe": true}]}))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.describe_table("dev", "bench").await.is_err() {
        assert!(Instant::now() < deadline, "the link did not come up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let node_b = std::cell::RefCell::new(Some(node_b));
    let rt = tokio::runtime::Handle::current();
    let stop = || {
        if let Some(n) = node_b.borrow_mut().take() {
            tokio::task::block_in_place(|| rt.block_on(n.stop()));
        }
    };
    let restart: Restart = Box::new(|| {
        let db = db.path().to_path_buf();
        let slot = &node_b;
        Box::pin(async move {
            let n = boot(&db, "b").await.expect("B restarts");
            let c = OpsClient::new(n.url(), Credentials::basic("admin", "bench-pw")).expect("client");
            *slot.borrow_mut() = Some(n);
            c
        })
    });
    let r = measure("switchyard-node", &a, b, stop, restart).await;
    let last_b = node_b.borrow_mut().take();
    if let Some(n) = last_b {
        n.stop().await;
    }
    node_a.stop().await;
    Ok(r)
}

async fn harperdb() -> anyhow::Result<Results> {
    let hdb_a = HarperDb::start_named("localhost").await?;
    let hdb_b = std::cell::RefCell::new(HarperDb::start_named("127.0.0.1").await?);
    let a = hdb_a.client()?;
    let b = hdb_b.borrow().client()?;
    a.create_table("dev", "bench", "id").await?;
    let port = hdb_b.borrow().replication_port;
    let added = a
        .call(&json!({"operation": "add_node", "hostname": "127.0.0.1", "url": format!("wss://127.0.0.1:{port}"), "verify_tls": false,
            "authorization": {"username": "admin", "password": "bench-admin-pw"}}))
        .await?;
    anyhow::ensure!(!added.to_string().contains("but there was an error"), "HarperDB add_node failed: {added}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        a.call(&json!({"operation": "upsert", "database": "dev", "table": "bench", "records": [{"id": -1}]})).await?;
        let seen = b.call(&json!({"operation": "search_by_id", "database": "dev", "table": "bench", "ids": [-1], "get_attributes": ["id"]})).await;
        if seen.is_ok_and(|v| v.as_array().is_some_and(|x| !x.is_empty())) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "HarperDB replication did not come up within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.call(&json!({"operation": "delete", "database": "dev", "table": "bench", "ids": [-1]})).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stop = || hdb_b.borrow_mut().stop();
    let restart: Restart = Box::new(|| {
        let slot = &hdb_b;
        // The benchmark is sequential: nothing else borrows B while it restarts.
        #[allow(clippy::await_holding_refcell_ref)]
        Box::pin(async move {
            let mut h = slot.borrow_mut();
            h.start_again().await.expect("HarperDB B restarts");
            h.client().expect("client")
        })
    });
    let r = measure("HarperDB 4.7", &a, b, stop, restart).await;
    Ok(r)
}

/// The durability and the network a replicated write cannot do without, measured in the same
/// run on the same disk and loopback: `fdatasync` of a 4 KiB write (median, p95; ms) and a
/// 64-byte TCP round trip on 127.0.0.1 (median; ms).
struct PhysicalLimit {
    fsync_median_ms: f64,
    fsync_p95_ms: f64,
    rtt_median_ms: f64,
}

impl PhysicalLimit {
    /// A write made durable on A, carried to B, made durable there: two fsyncs and a round trip.
    fn latency_ms(&self) -> f64 {
        2.0 * self.fsync_median_ms + self.rtt_median_ms
    }
}

async fn physical_limit() -> anyhow::Result<PhysicalLimit> {
    use std::io::{Seek, Write};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SYNCS: usize = 200;
    const TRIPS: usize = 1000;
    let dir = tempfile::tempdir()?;
    let mut file = std::fs::File::create(dir.path().join("fsync-probe"))?;
    let block = [7u8; 4096];
    let mut syncs = Vec::with_capacity(SYNCS);
    for i in 0..SYNCS {
        file.seek(std::io::SeekFrom::Start((i % 16) as u64 * 4096))?;
        file.write_all(&block)?;
        let t = Instant::now();
        file.sync_data()?;
        syncs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    syncs.sort_by(f64::total_cmp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let mut buf = [0u8; 64];
        for _ in 0..TRIPS {
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut c = tokio::net::TcpStream::connect(addr).await?;
    c.set_nodelay(true)?;
    let mut buf = [1u8; 64];
    let mut trips = Vec::with_capacity(TRIPS);
    for _ in 0..TRIPS {
        let t = Instant::now();
        c.write_all(&buf).await?;
        c.read_exact(&mut buf).await?;
        trips.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    echo.await??;
    trips.sort_by(f64::total_cmp);
    Ok(PhysicalLimit { fsync_median_ms: syncs[SYNCS / 2], fsync_p95_ms: syncs[SYNCS * 95 / 100], rtt_median_ms: trips[TRIPS / 2] })
}

fn ratio(ours: f64, theirs: Option<f64>, higher_better: bool) -> String {
    match theirs {
        Some(t) if ours > 0.0 && t > 0.0 => format!("{:.1}×", if higher_better { ours / t } else { t / ours }),
        _ => "—".into(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let with_hdb = !std::env::args().any(|a| a == "--no-harperdb");
    let limit = physical_limit().await?;
    let ours = switchyard().await?;
    let theirs = if with_hdb { Some(harperdb().await?) } else { None };
    let t = theirs.as_ref();
    let rows = [
        ("latency insert on A → visible on B, median (ms)", ours.latency_median_ms, t.map(|r| r.latency_median_ms), false, 2),
        ("latency insert on A → visible on B, p95 (ms)", ours.latency_p95_ms, t.map(|r| r.latency_p95_ms), false, 2),
        ("throughput, 20k records in batches of 500 (records/s)", ours.throughput_rps, t.map(|r| r.throughput_rps), true, 0),
        ("catch-up, 50k backlog after B restarts (s)", ours.catchup_s, t.map(|r| r.catchup_s), false, 2),
    ];
    println!("\n## Replication — {} ({} cores)", std::env::var("BENCH_DATE").unwrap_or_else(|_| "today".into()),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("\n| measure | switchyard-node | HarperDB 4.7 | switchyard ÷ HarperDB |");
    println!("|---|---:|---:|---:|");
    for (name, o, h, higher, d) in rows {
        let theirs = h.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "—".into());
        println!("| {name} | {o:.d$} | {theirs} | {} |", ratio(o, h, higher));
    }
    println!("\n| the physical limit, same run | ms |\n|---|---:|");
    println!("| fdatasync of a 4 KiB write, median / p95 | {:.3} / {:.3} |", limit.fsync_median_ms, limit.fsync_p95_ms);
    println!("| TCP round trip on loopback, 64 bytes, median | {:.3} |", limit.rtt_median_ms);
    println!("| limit of a replicated write: 2 fsyncs + a round trip | {:.3} |", limit.latency_ms());
    println!("| switchyard latency median ÷ limit | {:.1}× |", ours.latency_median_ms / limit.latency_ms());
    if let Some(t) = t {
        println!("| HarperDB latency median ÷ limit | {:.1}× |", t.latency_median_ms / limit.latency_ms());
    }
    Ok(())
}
