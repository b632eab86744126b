//! The factory scenario's load and its proof: readings written on each edge instance in batches
//! at the rate the user sets (never faster), a share of them out of range and written to
//! `sensor_data` too (what headquarters subscribes to), and the check that headquarters holds
//! every out-of-range reading the edges wrote, each once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_client::OpsClient;
use switchyard_protocol::ops::{SearchByValue, WriteRecords};
use switchyard_protocol::Operation;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::words::now_ms;

pub const DATABASE: &str = "factory";
/// Every reading, aged out locally (the table's expiration).
pub const RAW: &str = "sensor_raw";
/// Out-of-range readings: what headquarters subscribes to.
pub const DATA: &str = "sensor_data";
/// Configuration headquarters publishes to the edges.
pub const CONFIG: &str = "config";

/// The most a generator may be asked to write, per edge and second.
pub const MAX_RATE: u32 = 50_000;
/// How often a generator writes a batch.
const TICK: Duration = Duration::from_millis(100);

/// One sensor reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// `<edge>-<sequence>`: unique across edges and runs of one generator.
    pub id: String,
    pub edge: String,
    pub machine: String,
    pub sensor: String,
    /// °C; normal readings are 50–75.
    pub temperature: f64,
    /// bar; normal readings are 2–6.
    pub pressure: f64,
    /// When it was read (ms since the epoch).
    pub ts: f64,
    pub out_of_range: bool,
}

/// Makes readings: a fixed share out of range (hotter than 95 °C or above 8 bar).
pub struct Sensors {
    rng: StdRng,
    edge: String,
    run: String,
    next: u64,
    out_of_range_per_mille: u32,
}

impl Sensors {
    pub fn new(edge: &str, run: &str, out_of_range_per_mille: u32, seed: u64) -> Sensors {
        Sensors { rng: StdRng::seed_from_u64(seed), edge: edge.to_string(), run: run.to_string(), next: 0, out_of_range_per_mille: out_of_range_per_mille.min(1000) }
    }

    pub fn read(&mut self, now_ms: f64) -> Reading {
        self.next += 1;
        let machine = self.rng.gen_range(1..=8);
        let out_of_range = self.rng.gen_range(0..1000) < self.out_of_range_per_mille;
        let (mut temperature, mut pressure) = (self.rng.gen_range(50.0..75.0), self.rng.gen_range(2.0..6.0));
        if out_of_range {
            if self.rng.gen_bool(0.5) {
                temperature = self.rng.gen_range(95.0..120.0);
            } else {
                pressure = self.rng.gen_range(8.0..10.0);
            }
        }
        let round = |x: f64| (x * 10.0).round() / 10.0;
        Reading {
            id: format!("{}-{}-{}", self.edge, self.run, self.next),
            edge: self.edge.clone(),
            machine: format!("press-{machine}"),
            sensor: format!("press-{machine}/{}", ["temperature", "pressure", "vibration"][self.rng.gen_range(0..3)]),
            temperature: round(temperature),
            pressure: round(pressure),
            ts: now_ms,
            out_of_range,
        }
    }
}

/// What one edge's generator has done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EdgeLoad {
    pub edge: String,
    /// Readings written to `sensor_raw`.
    pub written: f64,
    /// Of those, out of range, written to `sensor_data` as well.
    pub out_of_range: f64,
    /// Batches the edge refused or did not answer (not retried: the readings were not taken).
    pub failed_batches: f64,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The generator's state, for the Cluster view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoadStats {
    /// Readings asked for, per edge and second.
    pub rate: f64,
    pub running: bool,
    pub edges: Vec<EdgeLoad>,
}

/// Writes readings on every edge until stopped.
pub struct Generator {
    stop: CancellationToken,
    loads: Arc<Mutex<Vec<EdgeLoad>>>,
    /// The out-of-range readings written, per edge (what headquarters must hold).
    sent: Arc<Mutex<Vec<Vec<String>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    rate: u32,
}


impl Generator {
    /// Starts writing `rate` readings a second on each edge (`(name, client)`), in batches every
    /// 100 ms, `out_of_range_per_mille` of them out of range.
    pub fn start(edges: Vec<(String, OpsClient)>, rate: u32, out_of_range_per_mille: u32) -> Result<Generator> {
        if rate == 0 || rate > MAX_RATE {
            return Err(Error::Invalid(format!("the rate is readings per second per edge, from 1 to {MAX_RATE}")));
        }
        if edges.is_empty() {
            return Err(Error::Invalid("the generator needs at least one edge".into()));
        }
        let stop = CancellationToken::new();
        let loads = Arc::new(Mutex::new(edges.iter().map(|(n, _)| EdgeLoad { edge: n.clone(), ..Default::default() }).collect::<Vec<_>>()));
        let sent = Arc::new(Mutex::new(vec![Vec::new(); edges.len()]));
        let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
        let tasks = edges
            .into_iter()
            .enumerate()
            .map(|(i, (name, client))| {
                let sensors = Sensors::new(&name, &run, out_of_range_per_mille, rand::random());
                tokio::spawn(write_on(i, client, sensors, rate, loads.clone(), sent.clone(), stop.clone()))
            })
            .collect();
        Ok(Generator { stop, loads, sent, tasks, rate })
    }

    pub fn stats(&self) -> LoadStats {
        LoadStats { rate: self.rate as f64, running: !self.stop.is_cancelled(), edges: self.loads.lock().unwrap_or_else(|p| p.into_inner()).clone() }
    }

    /// Stops writing; answers once every batch in flight has been answered.
    pub async fn stop(&mut self) -> LoadStats {
        self.stop.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        self.stats()
    }

    /// The ids of the out-of-range readings written so far, all edges.
    pub fn out_of_range_ids(&self) -> Vec<String> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).iter().flatten().cloned().collect()
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One edge's loop: each tick, the readings the rate allows since the start, less those
/// written (so a slow edge is never made up for by writing faster than asked).
async fn write_on(i: usize, client: OpsClient, mut sensors: Sensors, rate: u32, loads: Arc<Mutex<Vec<EdgeLoad>>>, sent: Arc<Mutex<Vec<Vec<String>>>>, stop: CancellationToken) {
    let started = Instant::now();
    let mut taken: u64 = 0;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        let allowed = (started.elapsed().as_secs_f64() * rate as f64).floor() as u64;
        let n = allowed.saturating_sub(taken);
        if n == 0 {
            continue;
        }
        taken += n;
        let now = now_ms();
        let readings: Vec<Reading> = (0..n).map(|_| sensors.read(now)).collect();
        let hot: Vec<&Reading> = readings.iter().filter(|r| r.out_of_range).collect();
        let records = |rs: &mut dyn Iterator<Item = &Reading>| rs.filter_map(|r| serde_json::to_value(r).ok()).collect::<Vec<Value>>();
        let raw = Operation::Insert(WriteRecords { database: DATABASE.into(), table: RAW.into(), records: records(&mut readings.iter()) });
        let mut result = client.run(&raw).await.map(|_| ());
        if result.is_ok() && !hot.is_empty() {
            let data = Operation::Insert(WriteRecords { database: DATABASE.into(), table: DATA.into(), records: records(&mut hot.iter().copied()) });
            result = client.run(&data).await.map(|_| ());
        }
        let mut l = loads.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => {
                // Back and writing: an error of an earlier batch is history (failed_batches
                // keeps the count), not the edge's state.
                l[i].last_error = None;
                l[i].written += n as f64;
                l[i].out_of_range += hot.len() as f64;
                sent.lock().unwrap_or_else(|p| p.into_inner())[i].extend(hot.iter().map(|r| r.id.clone()));
            }
            Err(e) => {
                l[i].failed_batches += 1.0;
                l[i].last_error = Some(e.to_string());
            }
        }
    }
}

/// The scenario's instances once they are up with their tables, and the links to make (shown
/// as link plans before anything is wired).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FactorySetup {
    /// Instance ids of edge-1 and edge-2.
    pub edges: Vec<String>,
    pub hq: String,
    /// Names of instances that existed and were reused.
    pub reused: Vec<String>,
    /// The plans of its links (`factory:sensor_data` edge → hq and `factory:config` hq → edge,
    /// one link per edge), to show; `factory_apply` applies them, `factory_drop` drops them.
    pub plans: Vec<crate::links::LinkPlan>,
}

/// The scenario's tables on one instance, made where missing: `sensor_raw` (aged out after
/// `raw_expiration_s`), `sensor_data` and `config`.
pub async fn make_tables(client: &OpsClient, raw_expiration_s: f64) -> Result<()> {
    use crate::browse::Browse;
    let tree = client.tree().await?;
    let db = tree.iter().find(|d| d.name == DATABASE);
    if db.is_none() {
        client.new_database(DATABASE).await?;
    }
    for (table, expiration) in [(RAW, Some(raw_expiration_s)), (DATA, None), (CONFIG, None)] {
        if db.is_some_and(|d| d.tables.iter().any(|t| t.name == table)) {
            continue;
        }
        client.new_table(&crate::types::NewTable { database: DATABASE.into(), table: table.into(), primary_key: "id".into(), expiration }).await?;
    }
    Ok(())
}

/// The link of one edge to hq: its readings' out-of-range share flows to hq, hq's configuration
/// flows back.
pub fn link_request(edge: &str, hq: &str) -> crate::links::LinkRequest {
    use crate::links::{Direction, LinkChannel, LinkRequest};
    LinkRequest {
        a: edge.to_string(),
        b: hq.to_string(),
        channels: vec![
            LinkChannel { channel: format!("{DATABASE}:{DATA}"), direction: Direction::AToB },
            LinkChannel { channel: format!("{DATABASE}:{CONFIG}"), direction: Direction::BToA },
        ],
        b_dials: false,
        relay_origins: Vec::new(),
    }
}

/// Whether headquarters holds every out-of-range reading the edges wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Arrival {
    pub expected: f64,
    pub arrived: f64,
    /// Some of the readings that did not arrive (at most 20).
    pub missing: Vec<String>,
    /// In words, for the user: "12,408 of 12,408 readings arrived, none twice".
    pub summary: String,
}

/// Checks `hq`'s `sensor_data` for the readings `ids` (each a key: a reading is held once or not
/// at all).
pub async fn check_arrival(hq: &OpsClient, ids: &[String]) -> Result<Arrival> {
    let rows: Vec<Value> = hq
        .run_as(&Operation::SearchByValue(SearchByValue::every(DATABASE, DATA, "id", &["id"])))
        .await?;
    let held: HashSet<&str> = rows.iter().filter_map(|r| r.get("id").and_then(Value::as_str)).collect();
    let missing: Vec<String> = ids.iter().filter(|id| !held.contains(id.as_str())).cloned().collect();
    let arrived = ids.len() - missing.len();
    let n = |x: usize| crate::words::grouped(x as u64);
    let reading = if ids.len() == 1 { "reading" } else { "readings" };
    let summary = if missing.is_empty() {
        format!("{} of {} {reading} arrived, none twice", n(arrived), n(ids.len()))
    } else {
        format!("{} of {} {reading} arrived; {} missing", n(arrived), n(ids.len()), n(missing.len()))
    };
    Ok(Arrival { expected: ids.len() as f64, arrived: arrived as f64, missing: missing.into_iter().take(20).collect(), summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_realistic_unique_and_out_of_range_at_the_share_asked() {
        let mut s = Sensors::new("edge-1", "r", 50, 7);
        let readings: Vec<Reading> = (0..10_000).map(|_| s.read(1.0)).collect();
        let ids: HashSet<&str> = readings.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 10_000);
        let hot = readings.iter().filter(|r| r.out_of_range).count();
        assert!((400..600).contains(&hot), "{hot} of 10,000 out of range at 5 %");
        for r in &readings {
            let normal = (50.0..=75.0).contains(&r.temperature) && (2.0..=6.0).contains(&r.pressure);
            assert_eq!(!normal, r.out_of_range, "{r:?}");
            assert!(r.machine.starts_with("press-") && r.sensor.starts_with(&r.machine) && r.edge == "edge-1");
        }
    }
}
