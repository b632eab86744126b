//! Replication benchmark, switchyard-node and HarperDB 4.7 side by side in one run. Two nodes
//! each; B receives A's writes on dev:bench. Measured the same way for both, by polling B over
//! the Operations API: latency insert on A → visible on B (200 single-record inserts), end-to-end
//! throughput of 20k records in batches of 500, and catch-up of a 50k backlog after B restarts
//! (from B's start command to the last record present, asked once a millisecond so that the
//! polling does not take a core of two from the nodes; all records verified afterwards). In the
//! same run, the physical limit of a replicated write on this machine (two `fdatasync`s on the
//! same disk and a loopback round trip), each latency also given as a ratio to it; and, for
//! switchyard-node, one write's path in stages, timed by SocketCluster subscribers on A and B
//! (A committed, A acknowledged, B committed) without the polling's load on B.
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
use switchyard_sc::{Endpoint, Options, Subscriber, SubscriberConfig, SubscriberEvent};

#[derive(Debug, Default)]
struct Results {
    latency_median_ms: f64,
    latency_p95_ms: f64,
    throughput_rps: f64,
    catchup_s: f64,
    /// Of the catch-up: B's start, until it answers.
    catchup_start_s: f64,
}

/// Restarts B; resolves once B answers again.
type Restart<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = OpsClient> + 'a>> + 'a>;

async fn visible(b: &OpsClient, id: &Value, deadline: Instant) -> Instant {
    visible_every(b, id, deadline, Duration::ZERO).await
}

/// `visible`, asking B at most once per `every`: a long wait polled back to back would take
/// a core of the two from the nodes it measures.
async fn visible_every(b: &OpsClient, id: &Value, deadline: Instant, every: Duration) -> Instant {
    let q = json!({"operation": "search_by_id", "database": "dev", "table": "bench", "ids": [id], "get_attributes": ["id"]});
    loop {
        if let Ok(v) = b.call(&q).await {
            if v.as_array().is_some_and(|a| !a.is_empty()) {
                return Instant::now();
            }
        }
        assert!(Instant::now() < deadline, "record {id} never reached B");
        if !every.is_zero() {
            tokio::time::sleep(every).await;
        }
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

async fn measure(label: &str, already: u64, a: &OpsClient, mut b: OpsClient, mut stop_b: impl FnMut(), mut restart_b: Restart<'_>) -> Results {
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
    (r.latency_median_ms, r.latency_p95_ms) = spread(&lat);

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
    r.catchup_start_s = started.elapsed().as_secs_f64();
    visible_every(&b, &json!(149_999), Instant::now() + Duration::from_secs(300), Duration::from_millis(1)).await;
    r.catchup_s = started.elapsed().as_secs_f64();
    let expected = already + 220 + 20_000 + 50_000;
    let got = count(&b).await;
    assert_eq!(got, expected, "[{label}] B has {got} records, expected {expected}");
    r
}

/// One write's path through switchyard-node, per write in ms from the request on A: committed
/// on A (its live feed has it), acknowledged by A (durable), committed on B (B's live feed).
#[derive(Debug, Default)]
struct Path {
    a_commit: Vec<f64>,
    a_ack: Vec<f64>,
    b_commit: Vec<f64>,
}

/// A subscriber to dev:bench on `node`, once it is live.
async fn subscribed(node: &RunningNode) -> Subscriber {
    let config = SubscriberConfig {
        endpoint: Endpoint::plain("127.0.0.1", node.addr.port()),
        credentials: Some(("admin".into(), "bench-pw".into())),
        channels: vec![("dev:bench".into(), None)],
        options: Options::default(),
    };
    let mut s = Subscriber::start(config, None);
    match tokio::time::timeout(Duration::from_secs(10), s.next()).await {
        Ok(Some(SubscriberEvent::Connected)) => s,
        other => panic!("subscribing to dev:bench: {other:?}"),
    }
}

/// When `s` delivers the transaction that wrote record `id`.
async fn delivered(s: &mut Subscriber, id: u64) -> Instant {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), s.next()).await {
            Ok(Some(SubscriberEvent::Transaction(t))) => {
                let at = Instant::now();
                let records: Vec<Value> = t.records.as_ref().and_then(|r| serde_json::from_str(r.get()).ok()).expect("a transaction with records");
                if records.iter().any(|r| r["id"] == id) {
                    return at;
                }
            }
            other => panic!("record {id} was not delivered: {other:?}"),
        }
    }
}

/// 220 single inserts on A (the first 20 warm up), each timed at A's feed, A's answer and B's
/// feed, one at a time.
async fn write_path(node_a: &RunningNode, node_b: &RunningNode, a: &OpsClient) -> Path {
    let (mut on_a, mut on_b) = (subscribed(node_a).await, subscribed(node_b).await);
    let mut path = Path::default();
    for i in 0..220u64 {
        let id = 3_000_000 + i;
        let sent = Instant::now();
        let insert = async {
            a.call(&json!({"operation": "insert", "database": "dev", "table": "bench", "records": [{"id": id, "v": i}]})).await.expect("insert on A");
            Instant::now()
        };
        let (acked, a_at, b_at) = tokio::join!(insert, delivered(&mut on_a, id), delivered(&mut on_b, id));
        if i >= 20 {
            let ms = |t: Instant| (t - sent).as_secs_f64() * 1000.0;
            path.a_commit.push(ms(a_at));
            path.a_ack.push(ms(acked));
            path.b_commit.push(ms(b_at));
        }
    }
    path
}

/// Median and p95 of `v`.
fn spread(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() * 95 / 100])
}

async fn boot(dir: &std::path::Path, name: &str) -> anyhow::Result<RunningNode> {
    Ok(switchyard_testkit::launch_in(dir, name, 0, |c| c.admin_password = Some("bench-pw".into())).await.0)
}

async fn switchyard() -> anyhow::Result<(Results, Path)> {
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
    let path = write_path(&node_a, &node_b, &a).await;
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
    let r = measure("switchyard-node", path.a_ack.len() as u64 + 20, &a, b, stop, restart).await;
    let last_b = node_b.borrow_mut().take();
    if let Some(n) = last_b {
        n.stop().await;
    }
    node_a.stop().await;
    Ok((r, path))
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
    let r = measure("HarperDB 4.7", 0, &a, b, stop, restart).await;
    Ok(r)
}

/// The durability and the network a replicated write cannot do without, measured in the same
/// run on the same disk and loopback: `fdatasync` of a 4 KiB write (median, p95; ms) and a
/// 64-byte TCP round trip on 127.0.0.1 (median; ms).
struct PhysicalLimit {
    fsync_median_ms: f64,
    fsync_p95_ms: f64,
    /// An fsync after a 2 ms pause, as a lone write pays it (on a virtual disk, an fsync right
    /// after another is far cheaper than one after a pause).
    fsync_spaced_median_ms: f64,
    rtt_median_ms: f64,
}

impl PhysicalLimit {
    /// A write made durable on A, carried to B, made durable there: two fsyncs and a round trip.
    fn latency_ms(&self) -> f64 {
        2.0 * self.fsync_median_ms + self.rtt_median_ms
    }

    /// The same for a lone write, whose fsyncs each come after a pause.
    fn spaced_latency_ms(&self) -> f64 {
        2.0 * self.fsync_spaced_median_ms + self.rtt_median_ms
    }

    /// A lone write visible on B: durable on A (one fsync) and carried over; B shows it at its
    /// commit and acknowledges it after its own fsync.
    fn spaced_visible_ms(&self) -> f64 {
        self.fsync_spaced_median_ms + self.rtt_median_ms
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
    // `n` overwrites of one of 16 blocks, each synced and timed (ms), `pause` before each.
    let mut timed_syncs = |n: usize, pause: Duration| -> std::io::Result<Vec<f64>> {
        let mut times = Vec::with_capacity(n);
        for i in 0..n {
            std::thread::sleep(pause);
            file.seek(std::io::SeekFrom::Start((i % 16) as u64 * 4096))?;
            file.write_all(&block)?;
            let t = Instant::now();
            file.sync_data()?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(times)
    };
    let syncs = timed_syncs(SYNCS, Duration::ZERO)?;
    let spaced = timed_syncs(SYNCS / 2, Duration::from_millis(2))?;
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
    let (fsync_median_ms, fsync_p95_ms) = spread(&syncs);
    Ok(PhysicalLimit { fsync_median_ms, fsync_p95_ms, fsync_spaced_median_ms: spread(&spaced).0, rtt_median_ms: spread(&trips).0 })
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
    let (ours, path) = switchyard().await?;
    let theirs = if with_hdb { Some(harperdb().await?) } else { None };
    let t = theirs.as_ref();
    let rows = [
        ("latency insert on A → visible on B, median (ms)", ours.latency_median_ms, t.map(|r| r.latency_median_ms), false, 2),
        ("latency insert on A → visible on B, p95 (ms)", ours.latency_p95_ms, t.map(|r| r.latency_p95_ms), false, 2),
        ("throughput, 20k records in batches of 500 (records/s)", ours.throughput_rps, t.map(|r| r.throughput_rps), true, 0),
        ("catch-up, 50k backlog after B restarts (s)", ours.catchup_s, t.map(|r| r.catchup_s), false, 2),
        ("of which B's start, until it answers (s)", ours.catchup_start_s, t.map(|r| r.catchup_start_s), false, 3),
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
    println!("| fdatasync after a 2 ms pause (what a lone write pays), median | {:.3} |", limit.fsync_spaced_median_ms);
    println!("| limit of a replicated write: 2 fsyncs + a round trip | {:.3} |", limit.latency_ms());
    println!("| the same for a lone write (fsyncs after a pause) | {:.3} |", limit.spaced_latency_ms());
    println!("| a lone write visible on B: A's fsync + a round trip (B shows it at commit) | {:.3} |", limit.spaced_visible_ms());
    println!("| switchyard latency median ÷ limit (back-to-back fsyncs; lone-write visible) | {:.1}×; {:.1}× |", ours.latency_median_ms / limit.latency_ms(), ours.latency_median_ms / limit.spaced_visible_ms());
    if let Some(t) = t {
        println!("| HarperDB latency median ÷ limit (back-to-back fsyncs; lone-write visible) | {:.1}×; {:.1}× |", t.latency_median_ms / limit.latency_ms(), t.latency_median_ms / limit.spaced_visible_ms());
    }
    let hop: Vec<f64> = path.b_commit.iter().zip(&path.a_ack).map(|(b, a)| b - a).collect();
    let stages = [
        ("request on A → committed on A (A's live feed)", spread(&path.a_commit)),
        ("request on A → acknowledged by A (on disk)", spread(&path.a_ack)),
        ("request on A → committed on B (B's live feed)", spread(&path.b_commit)),
        ("acknowledged by A → committed on B (stream wake, log read, frame, loopback, B's apply)", spread(&hop)),
    ];
    println!("\n| one write's path in switchyard-node, 200 single inserts, same run | median ms | p95 ms |\n|---|---:|---:|");
    for (name, (median, p95)) in stages {
        println!("| {name} | {median:.3} | {p95:.3} |");
    }
    println!("| visible on B by polling search_by_id (the latency row above) | {:.3} | {:.3} |", ours.latency_median_ms, ours.latency_p95_ms);
    Ok(())
}
