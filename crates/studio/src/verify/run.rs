//! Asking the nodes: digests of each channel in parallel, the records of the buckets that
//! differ, the states of the keys that differ; checked again while differences are in flight.
//!
//! Invariants: every loop is bounded (pages per node, passes); a node that cannot be asked
//! fails its channel with the reason, never counts as in sync; nothing is written.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_client::OpsClient;
use switchyard_protocol::ops::{RecordState, TableDigest};
use switchyard_protocol::Channel;

use super::compare::{self, Reach};
use super::{ChannelReport, Method, Verdict, VerifyNode, VerifyReport, ROWS_SHOWN};
use crate::topology::TopologyView;
use tokio_util::sync::CancellationToken;
use crate::words;

/// Records one page of a bucket listing carries.
const PAGE: u32 = 20_000;
/// Records listed per node and channel at most (the listing reports `truncated` past it).
const SCAN_MAX: usize = 1_000_000;
/// Passes while differences are in flight, and the pause between them.
const PASSES: u32 = 4;
const RECHECK: Duration = Duration::from_millis(400);

/// One instance taking part: its registry id and name, and a client to it.
#[derive(Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub client: OpsClient,
    /// It keeps table digests (a switchyard-node); without, the channel is verified by scanning.
    pub digests: bool,
}

/// What a verification found, kept for planning its repair: per channel, the members and
/// each differing key's states with its winner.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub channels: Vec<VerifiedChannel>,
}

#[derive(Debug, Clone)]
pub struct VerifiedChannel {
    pub channel: Channel,
    /// (instance id, name), in the report's order.
    pub members: Vec<(String, String)>,
    pub rows: Vec<VerifiedRow>,
}

#[derive(Debug, Clone)]
pub struct VerifiedRow {
    pub key: Value,
    pub held: Held,
    pub winner: Option<usize>,
}

/// What each member held of a differing key, in the members' order.
#[derive(Debug, Clone)]
pub enum Held {
    /// Read with record_states (switchyard-nodes): versions, origins, tombstones.
    States(Vec<RecordState>),
    /// Read as records (a verification by scanning): the record, or none.
    Records(Vec<Option<serde_json::Map<String, Value>>>),
}

impl VerifiedRow {
    pub fn scanned(key: Value, records: Vec<Option<serde_json::Map<String, Value>>>, winner: Option<usize>) -> VerifiedRow {
        VerifiedRow { key, held: Held::Records(records), winner }
    }
}

/// Who writes reach whom on each channel, from the canvas's model: by the registered origin's
/// flow, or (an origin not registered here) by the node having applied its writes before.
struct FlowReach<'a> {
    reach: Option<&'a BTreeMap<String, Vec<String>>>,
    by_node_name: &'a HashMap<String, String>,
    members: &'a [Member],
    watermarks: Vec<Vec<String>>,
}

impl Reach for FlowReach<'_> {
    fn reaches(&self, origin: &str, node: usize) -> bool {
        match self.by_node_name.get(origin) {
            Some(id) => self.reach.and_then(|r| r.get(id)).is_some_and(|to| to.contains(&self.members[node].id)),
            None => self.watermarks[node].iter().any(|o| o == origin),
        }
    }
}

/// Verifies each channel across the members, checking again (a few times) while the only
/// differences are in flight.
pub async fn verify(members: &[Member], channels: &[String], view: &TopologyView, cancel: &CancellationToken, progress: &(dyn Fn(f64) + Sync)) -> (VerifyReport, Verified) {
    let started = Instant::now();
    let by_node_name: HashMap<String, String> = view.nodes.iter().filter_map(|n| n.node_name.clone().map(|nn| (nn, n.id.clone()))).collect();
    let mut reports: Vec<Option<(ChannelReport, VerifiedChannel)>> = vec![None; channels.len()];
    let mut passes = 0;
    while passes < PASSES {
        if passes > 0 {
            tokio::time::sleep(RECHECK).await;
        }
        passes += 1;
        let todo: Vec<usize> = (0..channels.len()).filter(|i| reports[*i].as_ref().is_none_or(|(r, _)| r.verdict == Verdict::InFlight)).collect();
        let done = if members.iter().all(|m| m.digests) {
            let runs = todo.iter().map(|i| {
                let reach = view.flows.iter().find(|f| f.channel == channels[*i]).map(|f| &f.reach);
                verify_channel(members, &channels[*i], reach, &by_node_name)
            });
            futures_util::future::join_all(runs).await
        } else {
            // Scanned one channel after the other: each already reads every member at once.
            let mut done = Vec::with_capacity(todo.len());
            for (n, i) in todo.iter().enumerate() {
                let share = |f: f64| progress((n as f64 + f) / todo.len() as f64);
                done.push(super::scan::scan_channel(members, &channels[*i], cancel, &share).await);
            }
            done
        };
        for (i, r) in todo.into_iter().zip(done) {
            reports[i] = Some(r);
        }
        if reports.iter().flatten().all(|(r, _)| r.verdict != Verdict::InFlight) {
            break;
        }
    }
    let (channel_reports, verified): (Vec<ChannelReport>, Vec<VerifiedChannel>) = reports.into_iter().flatten().unzip();
    let verdict = channel_reports.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Failed);
    let report = VerifyReport {
        id: uuid::Uuid::new_v4().simple().to_string(),
        at: words::now_ms(),
        instances: members.iter().map(|m| m.id.clone()).collect(),
        verdict,
        summary: summary(&channel_reports),
        channels: channel_reports,
        passes,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    (report, Verified { channels: verified })
}

fn summary(reports: &[ChannelReport]) -> String {
    let failed: Vec<&ChannelReport> = reports.iter().filter(|r| r.verdict == Verdict::Failed).collect();
    if let Some(f) = failed.first() {
        return format!("could not verify {}: {}", f.channel, f.error.as_deref().unwrap_or("no answer"));
    }
    let differing: f64 = reports.iter().map(|r| r.differing).sum();
    let in_flight: f64 = reports.iter().map(|r| r.in_flight).sum();
    let more = if reports.iter().any(|r| r.truncated) { " or more" } else { "" };
    if differing == 0.0 {
        let records: f64 = reports.iter().filter_map(|r| r.nodes.first()).map(|n| n.count).sum();
        return format!("in sync: {} {}", words::grouped(records as u64), plural(records));
    }
    let diverged = differing - in_flight;
    match (diverged > 0.0, in_flight > 0.0) {
        (true, true) => format!("{}{more} {} differ, {} more in flight", words::grouped(diverged as u64), plural(diverged), words::grouped(in_flight as u64)),
        (true, false) => format!("{}{more} {} differ", words::grouped(diverged as u64), plural(diverged)),
        _ => format!("{} {} in flight (replication is still bringing them)", words::grouped(in_flight as u64), plural(in_flight)),
    }
}

fn plural(n: f64) -> &'static str {
    if n == 1.0 {
        "record"
    } else {
        "records"
    }
}

fn failed(channel: &str, nodes: Vec<VerifyNode>, error: String, parsed: Option<Channel>, members: &[Member]) -> (ChannelReport, VerifiedChannel) {
    let report = ChannelReport { nodes, error: Some(error), ..ChannelReport::new(channel, Method::Digests) };
    let channel = parsed.unwrap_or(Channel { database: String::new(), table: String::new() });
    (report, VerifiedChannel { channel, members: members.iter().map(|m| (m.id.clone(), m.name.clone())).collect(), rows: Vec::new() })
}

async fn verify_channel(members: &[Member], channel: &str, reach: Option<&BTreeMap<String, Vec<String>>>, by_node_name: &HashMap<String, String>) -> (ChannelReport, VerifiedChannel) {
    let parsed: Channel = match channel.parse() {
        Ok(c) => c,
        Err(e) => return failed(channel, Vec::new(), e, None, members),
    };
    let (db, table) = (parsed.database.as_str(), parsed.table.as_str());
    let digests = futures_util::future::join_all(members.iter().map(|m| m.client.table_digest(db, table))).await;
    let mut got: Vec<TableDigest> = Vec::with_capacity(members.len());
    for (m, d) in members.iter().zip(digests) {
        match d {
            Ok(d) => got.push(d),
            Err(e) => return failed(channel, Vec::new(), format!("{}: {e}", m.name), Some(parsed), members),
        }
    }
    let nodes: Vec<VerifyNode> = members
        .iter()
        .zip(&got)
        .map(|(m, d)| VerifyNode {
            id: m.id.clone(),
            name: m.name.clone(),
            count: d.count as f64,
            watermark: d.watermark.iter().map(|w| format!("{} #{}", w.origin, w.id)).collect(),
        })
        .collect();
    let refs: Vec<&TableDigest> = got.iter().collect();
    let buckets = compare::differing_buckets(&refs);
    let members_named = members.iter().map(|m| (m.id.clone(), m.name.clone())).collect();
    let mut report = ChannelReport { verdict: Verdict::InSync, nodes, buckets_differing: buckets.len() as u32, ..ChannelReport::new(channel, Method::Digests) };
    // Equal buckets (counts and sums) are equal tables: the totals follow from them.
    if buckets.is_empty() {
        return (report, VerifiedChannel { channel: parsed, members: members_named, rows: Vec::new() });
    }
    // The differing buckets' records on every node, in one pass each.
    let listings = futures_util::future::join_all(members.iter().map(|m| list(&m.client, db, table, buckets.clone()))).await;
    let mut lists = Vec::with_capacity(members.len());
    for (m, l) in members.iter().zip(listings) {
        match l {
            Ok((records, truncated)) => {
                report.scanned += records.len() as f64;
                report.truncated |= truncated;
                lists.push(compare::listing(records));
            }
            Err(e) => return failed(channel, report.nodes, format!("{}: {e}", m.name), Some(parsed), members),
        }
    }
    let mut keys = compare::differing_keys(&lists);
    report.differing = keys.len() as f64;
    if keys.is_empty() {
        // The digests were read before the listings: the tables moved in between.
        report.verdict = Verdict::InFlight;
        return (report, VerifiedChannel { channel: parsed, members: members_named, rows: Vec::new() });
    }
    if keys.len() > ROWS_SHOWN {
        keys.truncate(ROWS_SHOWN);
    }
    let answers = futures_util::future::join_all(members.iter().map(|m| m.client.record_states(db, table, keys.clone()))).await;
    let mut states = Vec::with_capacity(members.len());
    for (m, a) in members.iter().zip(answers) {
        match a {
            Ok(a) => states.push(a.keys),
            Err(e) => return failed(channel, report.nodes, format!("{}: {e}", m.name), Some(parsed), members),
        }
    }
    let by_key = match compare::states_in_order(&keys, &states) {
        Ok(rows) => rows,
        Err(e) => return failed(channel, report.nodes, e, Some(parsed), members),
    };
    let reach = FlowReach { reach, by_node_name, members, watermarks: got.iter().map(|d| d.watermark.iter().map(|w| w.origin.clone()).collect()).collect() };
    let marks: Vec<&[switchyard_protocol::ops::OriginMark]> = got.iter().map(|d| d.watermark.as_slice()).collect();
    let mut verified = Vec::with_capacity(keys.len());
    for (key, row) in keys.into_iter().zip(by_key) {
        let judged = compare::judge(key.clone(), &row, &marks, &reach);
        // A key listed as differing can have become equal since (a write that arrived).
        if judged.behind.is_empty() && judged.winner.is_some() {
            report.differing -= 1.0;
            continue;
        }
        verified.push(VerifiedRow { key, held: Held::States(row.into_iter().cloned().collect()), winner: judged.winner.map(|w| w as usize) });
        report.in_flight += judged.in_flight as u8 as f64;
        report.rows.push(judged);
    }
    // Nothing left differing (it arrived meanwhile), or only writes in flight: checked again.
    let only_in_flight = report.rows.iter().all(|r| r.in_flight) && !report.truncated && report.rows.len() as f64 == report.differing;
    report.verdict = if report.differing == 0.0 || only_in_flight { Verdict::InFlight } else { Verdict::Differs };
    (report, VerifiedChannel { channel: parsed, members: members_named, rows: verified })
}

/// Every record of these buckets on one node, page by page; `true` when it stopped at SCAN_MAX.
async fn list(client: &OpsClient, db: &str, table: &str, buckets: Vec<u16>) -> switchyard_client::Result<(Vec<switchyard_protocol::ops::DigestRecord>, bool)> {
    let mut all = Vec::new();
    let mut after: Option<Value> = None;
    for _ in 0..=SCAN_MAX / PAGE as usize {
        let page = client.digest_records(db, table, buckets.clone(), after.take(), PAGE).await?;
        let more = page.more;
        after = page.records.last().map(|r| r.key.clone());
        all.extend(page.records);
        if !more || after.is_none() {
            return Ok((all, false));
        }
        if all.len() >= SCAN_MAX {
            break;
        }
    }
    Ok((all, true))
}
