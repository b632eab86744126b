//! A fan-out load generator for servers speaking the SocketCluster protocol v2, on the shared
//! client (switchyard-sc): the Rust twin of
//! `shared/bench/sc-fanout/fanout.js` (one publisher and N subscribers on one channel, one
//! clock, closed-loop window, warm-up excluded, bounded by message count and a deadline).
//!
//! It is written in Rust because the JS generator saturates its own core near 140k deliveries/s,
//! below what the servers can do. Two differences from the JS one, both for switchyard-node:
//! it can log in (`login` procedure) before subscribing, and it reads the published payload
//! either as the publication's data (plain brokers) or inside a transaction's `records`
//! (switchyard-node stores a publish and delivers the committed transaction).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use switchyard_protocol::sc::{self, name, Publication};
use switchyard_sc::{DirectSocket, Endpoint, Options};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct FanoutConfig {
    pub port: u16,
    pub channel: String,
    pub subs: usize,
    pub msgs: u64,
    pub warmup: u64,
    /// At most this many messages in flight: published − delivered / subs.
    pub window: u64,
    /// `(user, password)` for the `login` procedure, or none.
    pub login: Option<(String, String)>,
    /// Bytes of padding in each payload (~100-byte payloads with 48, as fanout.js).
    pub pad: usize,
    pub deadline: Duration,
    /// Server process whose CPU share is reported.
    pub server_pid: Option<u32>,
}

impl FanoutConfig {
    pub fn new(port: u16) -> Self {
        FanoutConfig {
            port,
            channel: "bench:fanout".into(),
            subs: 50,
            msgs: 20_000,
            warmup: 1_000,
            window: 10,
            login: None,
            pad: 48,
            deadline: Duration::from_secs(120),
            server_pid: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FanoutReport {
    /// Deliveries of measured messages, over all subscribers.
    pub delivered: u64,
    pub expected: u64,
    pub seconds: f64,
    pub publishes_per_sec: f64,
    pub deliveries_per_sec: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub server_cpu_pct: Option<f64>,
    /// This process's CPU share over the run (the generator; 100 = one core).
    pub generator_cpu_pct: Option<f64>,
    /// Every subscriber received every message exactly once, in publish order.
    pub complete_in_order: bool,
}

struct Shared {
    epoch: Instant,
    /// Deliveries of all messages (warm-up included), over all subscribers.
    received: AtomicU64,
    wake: Notify,
    /// Receive time of the last measured delivery, in ns since `epoch`.
    last_measured_ns: AtomicU64,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// A payload as published, or a switchyard transaction carrying it in `records`.
#[derive(Deserialize)]
struct Delivered {
    seq: Option<u64>,
    t: Option<String>,
    #[serde(default)]
    records: Vec<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    seq: u64,
    t: String,
}

/// What the publisher sends: a sequence number, the send time (ns since the run's epoch) and
/// padding.
#[derive(Serialize)]
struct Sent<'a> {
    seq: u64,
    t: String,
    pad: &'a str,
}

/// A connection through the shared client (read directly: each subscriber parses its frames
/// once, in place), logged in when the run logs in.
async fn connect(cfg: &FanoutConfig) -> Result<DirectSocket> {
    // A 16 KiB read chunk, as the server uses: the library zeroes the chunk before each read.
    let options = Options { read_chunk: 16 * 1024, ..Options::default() };
    let mut socket = DirectSocket::connect(&Endpoint::plain("127.0.0.1", cfg.port), &options).await?;
    if let Some((user, password)) = &cfg.login {
        socket.login(user, password).await?;
    }
    Ok(socket)
}

/// A frame as a subscriber reads it, borrowed from the frame's text:
/// `{"event":"#publish","data":{"channel":…,"data":…}}`.
#[derive(Deserialize)]
struct PublishPacket<'a> {
    #[serde(borrow)]
    event: Option<&'a str>,
    data: Option<Publication<Delivered>>,
}

/// What one subscriber saw: latencies of measured messages (µs) and whether the sequence
/// numbers came exactly once and in order.
struct SubscriberLog {
    latencies_us: Vec<f32>,
    next_seq: u64,
    in_order: bool,
}

async fn subscriber(mut socket: DirectSocket, shared: Arc<Shared>, cfg: Arc<FanoutConfig>, total: u64) -> Result<SubscriberLog> {
    let mut log = SubscriberLog { latencies_us: Vec::with_capacity(cfg.msgs as usize), next_seq: 0, in_order: true };
    while log.next_seq < total {
        let text = socket.next_text().await.with_context(|| format!("a subscriber after {} messages", log.next_seq))?;
        let parsed: Vec<PublishPacket> = if text.starts_with('[') {
            serde_json::from_str(&text).unwrap_or_default()
        } else {
            serde_json::from_str(&text).map(|p| vec![p]).unwrap_or_default()
        };
        for p in parsed {
            let (Some(name::PUBLISH), Some(Publication { data: delivered, .. })) = (p.event, p.data) else { continue };
            let now = shared.now_ns();
            let payloads = match (delivered.seq, delivered.t) {
                (Some(seq), Some(t)) => vec![Payload { seq, t }],
                _ => delivered.records,
            };
            for payload in payloads {
                if payload.seq != log.next_seq {
                    log.in_order = false;
                }
                log.next_seq = log.next_seq.max(payload.seq + 1);
                if payload.seq >= cfg.warmup {
                    let sent: u64 = payload.t.parse().unwrap_or(now);
                    log.latencies_us.push(now.saturating_sub(sent) as f32 / 1000.0);
                    shared.last_measured_ns.fetch_max(now, Ordering::Relaxed);
                }
                // The publisher's window moves once per `subs` deliveries: wake it only then.
                if (shared.received.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(cfg.subs as u64) {
                    shared.wake.notify_one();
                }
            }
        }
    }
    socket.close().await;
    Ok(log)
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split(' ').collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Runs one fan-out measurement. Fails if the deadline passes before every delivery arrived.
pub async fn run(cfg: FanoutConfig) -> Result<FanoutReport> {
    let cfg = Arc::new(cfg);
    let total = cfg.warmup + cfg.msgs;
    let shared = Arc::new(Shared { epoch: Instant::now(), received: AtomicU64::new(0), wake: Notify::new(), last_measured_ns: AtomicU64::new(0) });
    let mut subs = Vec::with_capacity(cfg.subs);
    for i in 0..cfg.subs {
        let mut socket = connect(&cfg).await.with_context(|| format!("subscriber {i}"))?;
        socket.subscribe(&cfg.channel, None).await.with_context(|| format!("subscriber {i}"))?;
        subs.push(tokio::spawn(subscriber(socket, shared.clone(), cfg.clone(), total)));
    }
    let mut publisher = connect(&cfg).await.context("publisher")?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pad = "x".repeat(cfg.pad);
    let cpu0 = cfg.server_pid.and_then(cpu_ticks);
    let self0 = cpu_ticks(std::process::id());
    let wall0 = Instant::now();
    let deadline = wall0 + cfg.deadline;
    let mut first_measured_ns = 0;
    let publish = async {
        for seq in 0..total {
            // Closed loop: published − delivered / subs stays below the window.
            loop {
                let wait = shared.wake.notified();
                if seq.saturating_sub(shared.received.load(Ordering::Relaxed) / cfg.subs as u64) < cfg.window {
                    break;
                }
                wait.await;
            }
            if seq & 63 == 0 {
                tokio::task::yield_now().await;
            }
            let t = shared.now_ns();
            if seq == cfg.warmup {
                first_measured_ns = t;
            }
            // Fire and forget, as fanout.js publishes: an event without a cid.
            let data = Sent { seq, t: t.to_string(), pad: &pad };
            publisher.send_frame(sc::event(name::PUBLISH, &Publication { channel: cfg.channel.clone(), data })).await?;
        }
        // Keep reading the publisher (answering its pings) until every delivery is in.
        while shared.received.load(Ordering::Relaxed) < total * cfg.subs as u64 {
            let wait = shared.wake.notified();
            if shared.received.load(Ordering::Relaxed) >= total * cfg.subs as u64 {
                break;
            }
            tokio::select! {
                _ = wait => {}
                r = publisher.next_text() => { r.context("the publisher")?; }
            }
        }
        anyhow::Ok(())
    };
    match tokio::time::timeout_at(deadline.into(), publish).await {
        Ok(r) => r?,
        Err(_) => bail!(
            "deadline of {:?} passed with {} of {} deliveries",
            cfg.deadline,
            shared.received.load(Ordering::Relaxed),
            total * cfg.subs as u64
        ),
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu1 = cfg.server_pid.and_then(cpu_ticks);
    let self1 = cpu_ticks(std::process::id());
    publisher.close().await;

    let mut latencies: Vec<f32> = Vec::with_capacity((cfg.msgs as usize) * cfg.subs);
    let mut complete_in_order = true;
    for s in subs {
        let log = s.await.context("subscriber task")??;
        complete_in_order &= log.in_order && log.next_seq == total;
        latencies.extend(log.latencies_us);
    }
    latencies.sort_by(f32::total_cmp);
    let q = |p: f64| latencies.get(((p * latencies.len() as f64) as usize).min(latencies.len().saturating_sub(1))).map_or(f64::NAN, |v| *v as f64);
    let seconds = (shared.last_measured_ns.load(Ordering::Relaxed).saturating_sub(first_measured_ns)) as f64 / 1e9;
    let delivered = latencies.len() as u64;
    let ticks = |a: Option<u64>, b: Option<u64>| Some((b? - a?) as f64);
    Ok(FanoutReport {
        delivered,
        expected: cfg.msgs * cfg.subs as u64,
        seconds,
        publishes_per_sec: cfg.msgs as f64 / seconds,
        deliveries_per_sec: delivered as f64 / seconds,
        p50_us: q(0.5),
        p90_us: q(0.9),
        p99_us: q(0.99),
        max_us: latencies.last().map_or(f64::NAN, |v| *v as f64),
        // /proc ticks are 1/100 s.
        server_cpu_pct: ticks(cpu0, cpu1).map(|t| t / wall),
        generator_cpu_pct: ticks(self0, self1).map(|t| t / wall),
        complete_in_order,
    })
}

/// Median of a few runs' values.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}
