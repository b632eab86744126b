//! Channel fan-out benchmark: one publisher → 50 subscribers on one channel, switchyard-node and
//! the stock socketcluster-server (v20, `shared/bench/sc-fanout/server.js`) side by side in one
//! run. Each server is pinned to CPU 0 and the load generator to CPU 1, as `run-anchor.sh` does.
//! Both are driven by the same Rust generator (`switchyard_e2e::fanout`, runs alternating); the
//! stock JS generator (`fanout.js --client raw`) is run against the stock server too, to tie
//! this run to the anchor in DESIGN.md.
//!
//! On switchyard-node every publish is a durable insert into `bench.fanout` (fsync'd, logged,
//! delivered as the committed transaction); the run checks that every one was stored.
//!
//!   make sc-fanout && cargo build --release -p switchyard-node
//!   cargo bench -p switchyard-e2e --bench fanout [-- --runs 3 --subs 50 --msgs 20000 --window 10 --only-ours]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::fanout::{median, run, FanoutConfig, FanoutReport};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A server process in its own process group, ended with it.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `cmd`; its output goes to `target/fanout-bench/<name>.log` (a pipe nobody reads
    /// would stall the server once full).
    fn spawn(mut cmd: Command, port: u16, name: &str) -> Result<Server> {
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let logs = root().join("target/fanout-bench");
        std::fs::create_dir_all(&logs)?;
        let log = std::fs::File::create(logs.join(format!("{name}.log")))?;
        let child = cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn().context("starting a server")?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("the server did not listen on {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Server { child, port })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

fn sc_dir() -> Result<PathBuf> {
    let dir = root().join(".cache/sc-fanout");
    if !dir.join("node_modules/socketcluster-server").exists() {
        bail!("socketcluster-server is not installed in {} (run `make sc-fanout`)", dir.display());
    }
    Ok(dir)
}

fn start_socketcluster_server() -> Result<Server> {
    let [port] = switchyard_testkit::free_ports()?;
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", "node", "server.js"]).current_dir(sc_dir()?).env("PORT", port.to_string()).env("LIFETIME_MS", "900000");
    Server::spawn(cmd, port, "socketcluster-server")
}

const PASSWORD: &str = "fanout-bench-pw";

async fn start_switchyard(data: &Path) -> Result<(Server, OpsClient)> {
    let bin = root().join("target/release/switchyard-node");
    if !bin.exists() {
        bail!("{} is missing (run `cargo build --release -p switchyard-node`)", bin.display());
    }
    let [port] = switchyard_testkit::free_ports()?;
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0"]).arg(&bin).arg("--data").arg(data).args(["--port", &port.to_string(), "--node-name", "fanout"]);
    cmd.args(["--admin-user", "admin", "--admin-password", PASSWORD]);
    let server = Server::spawn(cmd, port, "switchyard-node")?;
    let client = OpsClient::new(format!("http://127.0.0.1:{port}"), Credentials::basic("admin", PASSWORD))?;
    client.call(&json!({"operation": "create_database", "database": "bench"})).await?;
    Ok((server, client))
}

/// The stock JS generator against a server; its one JSON line.
fn js_generator(port: u16, pid: u32, subs: u64, msgs: u64, window: u64) -> Result<Value> {
    let out = Command::new("taskset")
        .args(["-c", "1", "node", "fanout.js", "--client", "raw"])
        .args(["--port", &port.to_string(), "--server-pid", &pid.to_string()])
        .args(["--subs", &subs.to_string(), "--msgs", &msgs.to_string(), "--window", &window.to_string()])
        .current_dir(sc_dir()?)
        .stderr(Stdio::inherit())
        .output()
        .context("running fanout.js")?;
    let line = BufReader::new(&out.stdout[..]).lines().map_while(Result::ok).find(|l| l.starts_with('{'));
    match line {
        Some(l) if out.status.success() => Ok(serde_json::from_str(&l)?),
        _ => bail!("fanout.js failed ({}): {}", out.status, String::from_utf8_lossy(&out.stdout)),
    }
}

fn line(label: &str, r: &FanoutReport) {
    eprintln!(
        "  {label:<22} {:>9.0} deliveries/s {:>7.0} publishes/s  p50 {:>6.0} µs  p90 {:>6.0} µs  p99 {:>6.0} µs  max {:>7.0} µs  server CPU {:>3.0} %  generator CPU {:>3.0} %",
        r.deliveries_per_sec,
        r.publishes_per_sec,
        r.p50_us,
        r.p90_us,
        r.p99_us,
        r.max_us,
        r.server_cpu_pct.unwrap_or(f64::NAN),
        r.generator_cpu_pct.unwrap_or(f64::NAN)
    );
}

fn check(label: &str, r: &FanoutReport) -> Result<()> {
    if r.delivered != r.expected || !r.complete_in_order {
        bail!("{label}: {} of {} deliveries, in order and once each: {}", r.delivered, r.expected, r.complete_in_order);
    }
    Ok(())
}

async fn bench() -> Result<()> {
    let runs = arg("--runs", 3);
    let subs = arg("--subs", 50);
    let msgs = arg("--msgs", 20_000);
    let window = arg("--window", 10);
    // `--only-ours`: switchyard-node alone, for profiling it (`perf record -p <pid>`).
    let only_ours = std::env::args().any(|a| a == "--only-ours");
    let date = std::env::var("BENCH_DATE").unwrap_or_else(|_| "today".into());
    let data = tempfile::tempdir()?;
    let sc = start_socketcluster_server()?;
    let (node, client) = start_switchyard(data.path()).await?;
    let cfg = |port| FanoutConfig { subs: subs as usize, msgs, window, ..FanoutConfig::new(port) };

    let (mut ours, mut theirs, mut js) = (Vec::new(), Vec::new(), Vec::new());
    for i in 1..=runs {
        eprintln!("run {i} of {runs}: {subs} subscribers, {msgs} messages (+1000 warm-up), window {window}");
        if !only_ours {
            let r = run(FanoutConfig { server_pid: Some(sc.child.id()), ..cfg(sc.port) }).await.context("socketcluster-server")?;
            check("socketcluster-server", &r)?;
            line("socketcluster-server", &r);
            theirs.push(r);
        }

        let _ = client.call(&json!({"operation": "drop_table", "database": "bench", "table": "fanout"})).await;
        client.call(&json!({"operation": "create_table", "database": "bench", "table": "fanout", "primary_key": "seq"})).await?;
        let login = Some(("admin".to_string(), PASSWORD.to_string()));
        let r = run(FanoutConfig { server_pid: Some(node.child.id()), login, ..cfg(node.port) }).await.context("switchyard-node")?;
        check("switchyard-node", &r)?;
        let stored = client.call(&json!({"operation": "describe_table", "database": "bench", "table": "fanout"})).await?["record_count"].as_u64();
        if stored != Some(msgs + 1000) {
            bail!("switchyard-node stored {stored:?} of {} published records", msgs + 1000);
        }
        line("switchyard-node", &r);
        ours.push(r);

        if only_ours {
            continue;
        }
        let j = js_generator(sc.port, sc.child.id(), subs, msgs, window)?;
        eprintln!("  fanout.js → sc-server  {j}");
        js.push(j);
    }
    if only_ours {
        return Ok(()); // a profiling run: no comparison to print
    }

    let m = |rs: &[FanoutReport], f: fn(&FanoutReport) -> f64| median(rs.iter().map(f).collect());
    let mj = |k: &str| median(js.iter().filter_map(|j| j.pointer(k).and_then(Value::as_f64)).collect());
    let (od, td) = (m(&ours, |r| r.deliveries_per_sec), m(&theirs, |r| r.deliveries_per_sec));
    println!("\n### {date} — fan-out, 1 publisher → {subs} subscribers, {msgs} messages, window {window} (median of {runs} runs)\n");
    println!("| measure | switchyard-node | socketcluster-server | switchyard ÷ socketcluster |");
    println!("|---|---:|---:|---:|");
    println!("| deliveries/s (Rust generator) | {od:.0} | {td:.0} | {:.2}× |", od / td);
    println!("| publishes/s | {:.0} | {:.0} | {:.2}× |", m(&ours, |r| r.publishes_per_sec), m(&theirs, |r| r.publishes_per_sec), m(&ours, |r| r.publishes_per_sec) / m(&theirs, |r| r.publishes_per_sec));
    for (name, f) in [("p50", (|r: &FanoutReport| r.p50_us) as fn(&FanoutReport) -> f64), ("p90", |r| r.p90_us), ("p99", |r| r.p99_us), ("max", |r| r.max_us)] {
        let (o, t) = (m(&ours, f) / 1000.0, m(&theirs, f) / 1000.0);
        println!("| latency {name} (ms) | {o:.2} | {t:.2} | {:.2}× |", t / o);
    }
    let cpu = |rs: &[FanoutReport]| m(rs, |r| r.server_cpu_pct.unwrap_or(f64::NAN));
    println!("| server CPU (% of one core) | {:.0} | {:.0} | — |", cpu(&ours), cpu(&theirs));
    let gen = |rs: &[FanoutReport]| m(rs, |r| r.generator_cpu_pct.unwrap_or(f64::NAN));
    println!("| generator CPU (% of one core) | {:.0} | {:.0} | — |", gen(&ours), gen(&theirs));
    println!(
        "| stock fanout.js → socketcluster-server: deliveries/s, p50 / p99 (ms) | — | {:.0}, {:.2} / {:.2} | — |",
        mj("/deliveriesPerSec"),
        mj("/latencyUs/p50") / 1000.0,
        mj("/latencyUs/p99") / 1000.0
    );
    drop(node);
    drop(sc);
    Ok(())
}

fn main() -> Result<()> {
    // The generator on CPU 1, every thread of it (the servers are started on CPU 0).
    let pinned = Command::new("taskset").args(["-a", "-p", "-c", "1", &std::process::id().to_string()]).stdout(Stdio::null()).status();
    if !pinned.map(|s| s.success()).unwrap_or(false) {
        bail!("taskset (util-linux) could not pin the generator to CPU 1");
    }
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(bench())
}
