//! The same channel tailed on several nodes, lined up in the studio: one row per transaction,
//! keyed by where it was written (origin, origin id), with when it reached each node. A
//! transaction that has not reached a node `GRACE_MS` after it first arrived anywhere is flagged
//! missing there, and unflagged if it arrives later. Bounded to `COMPARE_CAP` rows; the window
//! is handed the counts and only the rows on its screen, like the one-node tail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::feed::show_every;
use super::row::keys_of;
use super::session::PORT_MAX;
use super::view::Connection;
use super::{lock, Tail, TailEvent};
use crate::words::now_ms;

/// Transactions lined up at most; older ones leave.
pub const COMPARE_CAP: usize = 20_000;
/// How long a transaction may take to reach every node before it counts as missing (ms).
pub const GRACE_MS: f64 = 5_000.0;

/// Where a transaction stands on one node.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Presence {
    /// Arrived, `delayMs` after its commit at the origin.
    Arrived {
        #[serde(rename = "delayMs")]
        #[ts(rename = "delayMs")]
        delay_ms: f64,
    },
    /// Not yet, within the grace period.
    Pending,
    /// Not arrived `forMs` after it first arrived elsewhere (past the grace period).
    Missing {
        #[serde(rename = "forMs")]
        #[ts(rename = "forMs")]
        for_ms: f64,
    },
}

/// One transaction across the nodes, as the list draws it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CrossingLine {
    pub origin: String,
    #[ts(type = "number")]
    pub origin_id: i64,
    pub operation: String,
    pub keys: String,
    /// Per node, in the order of `CompareUpdate::nodes`.
    pub presence: Vec<Presence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CompareNode {
    /// The instance's id.
    pub id: String,
    pub connection: Connection,
    /// Transactions held that are missing on this node now.
    #[ts(type = "number")]
    pub missing: u64,
    /// The node's last notice (a refusal, a gap, why it stopped), when any.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// What the window shows of a comparison: each node's state and the rows of its port, newest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CompareUpdate {
    #[ts(type = "number")]
    pub version: u64,
    pub nodes: Vec<CompareNode>,
    /// Transactions held.
    #[ts(type = "number")]
    pub rows: u64,
    pub grace_ms: f64,
    /// The place of the first of `lines` (newest first), and how many were asked for.
    pub first: u32,
    pub count: u32,
    pub lines: Vec<CrossingLine>,
}

struct Crossing {
    origin: String,
    origin_id: i64,
    operation: String,
    keys: String,
    /// Commit time at the origin, and when it first arrived anywhere (ms).
    ts: f64,
    first: f64,
    /// Per node: when it arrived there.
    arrived: Vec<Option<f64>>,
}

/// A comparison's state: events of each node's tail in, updates out.
pub struct CompareSession {
    nodes: Vec<String>,
    primary_key: Option<String>,
    rows: VecDeque<Crossing>,
    /// (origin, origin id) → the row's place counted from the first row ever held.
    index: HashMap<(String, i64), u64>,
    evicted: u64,
    connection: Vec<Connection>,
    notice: Vec<Option<String>>,
    first: u32,
    count: u32,
    version: u64,
    changed: bool,
    /// When the last update was made (ms since the epoch).
    shown_at: f64,
}

impl CompareSession {
    pub fn new(nodes: Vec<String>, primary_key: Option<String>) -> Self {
        let n = nodes.len();
        CompareSession {
            nodes,
            primary_key,
            rows: VecDeque::new(),
            index: HashMap::new(),
            evicted: 0,
            connection: vec![Connection::Opening; n],
            notice: vec![None; n],
            first: 0,
            count: 0,
            version: 0,
            changed: true,
            shown_at: 0.0,
        }
    }

    /// Takes a batch of events of the tail on node `node` (its place in `nodes`).
    pub fn receive(&mut self, node: usize, events: impl IntoIterator<Item = TailEvent>) {
        if node >= self.nodes.len() {
            return;
        }
        let width = self.nodes.len();
        for e in events {
            self.changed = true;
            let r = match e {
                TailEvent::Record(r) => r,
                TailEvent::Live => {
                    self.connection[node] = Connection::Live;
                    continue;
                }
                TailEvent::Reconnecting { error, .. } => {
                    self.connection[node] = Connection::Reconnecting;
                    self.notice[node] = Some(error);
                    continue;
                }
                TailEvent::Failed { reason } => {
                    self.connection[node] = Connection::Failed;
                    self.notice[node] = Some(reason);
                    continue;
                }
                TailEvent::Gap { reason, .. } | TailEvent::Refused { reason, .. } => {
                    self.notice[node] = Some(reason);
                    continue;
                }
                TailEvent::Healed { .. } => continue,
                TailEvent::NotExported { channel } => {
                    self.notice[node] = Some(format!("{channel} is not exported by a component"));
                    continue;
                }
            };
            let key = (r.origin.clone(), r.origin_id);
            if let Some(&at) = self.index.get(&key) {
                if let Some(row) = self.rows.get_mut((at - self.evicted) as usize) {
                    row.arrived[node].get_or_insert(r.arrived);
                }
                continue;
            }
            let mut arrived = vec![None; width];
            arrived[node] = Some(r.arrived);
            let keys = keys_of(&r, self.primary_key.as_deref());
            self.index.insert(key, self.evicted + self.rows.len() as u64);
            self.rows.push_back(Crossing { origin: r.origin, origin_id: r.origin_id, operation: r.operation, keys, ts: r.ts, first: r.arrived, arrived });
        }
        while self.rows.len() > COMPARE_CAP {
            let Some(out) = self.rows.pop_front() else { break };
            self.index.remove(&(out.origin, out.origin_id));
            self.evicted += 1;
        }
    }

    /// The node's tail ended.
    pub fn stopped(&mut self, node: usize) {
        if let Some(c) = self.connection.get_mut(node) {
            if *c != Connection::Failed {
                *c = Connection::Idle;
            }
            self.changed = true;
        }
    }

    /// The rows the window shows: `count` from `first`, newest first.
    pub fn set_port(&mut self, first: u32, count: u32) {
        let count = count.min(PORT_MAX);
        if (first, count) != (self.first, self.count) {
            (self.first, self.count) = (first, count);
            self.changed = true;
        }
    }

    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Whether the clock alone changed what the last update showed: a row that was pending on
    /// a node then is missing there at `now`.
    pub fn due(&self, now: f64) -> bool {
        self.rows
            .iter()
            .rev()
            .take_while(|r| r.first + GRACE_MS >= self.shown_at)
            .any(|r| r.first + GRACE_MS < now && r.arrived.iter().any(Option::is_none))
    }

    fn presence(r: &Crossing, node: usize, now: f64) -> Presence {
        match r.arrived[node] {
            Some(at) => Presence::Arrived { delay_ms: (at - r.ts).max(0.0).round() },
            None if now - r.first > GRACE_MS => Presence::Missing { for_ms: now - r.first },
            None => Presence::Pending,
        }
    }

    /// What the window shows at `now` (ms since the epoch).
    pub fn update(&mut self, now: f64) -> CompareUpdate {
        self.version += 1;
        self.changed = false;
        self.shown_at = now;
        let mut missing = vec![0u64; self.nodes.len()];
        for r in &self.rows {
            if now - r.first > GRACE_MS {
                for (m, a) in missing.iter_mut().zip(&r.arrived) {
                    *m += u64::from(a.is_none());
                }
            }
        }
        let n = self.rows.len();
        let first = (self.first as usize).min(n);
        let last = (first + self.count as usize).min(n);
        let lines = (first..last)
            .filter_map(|i| self.rows.get(n - 1 - i))
            .map(|r| CrossingLine {
                origin: r.origin.clone(),
                origin_id: r.origin_id,
                operation: r.operation.clone(),
                keys: r.keys.clone(),
                presence: (0..self.nodes.len()).map(|node| Self::presence(r, node, now)).collect(),
            })
            .collect();
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, id)| CompareNode { id: id.clone(), connection: self.connection[i], missing: missing[i], notice: self.notice[i].clone() })
            .collect();
        CompareUpdate { version: self.version, nodes, rows: n as u64, grace_ms: GRACE_MS, first: self.first, count: self.count, lines }
    }
}

/// Feeds each node's tail (`tails[i]` is node i's) into `session` and hands `sink` the update
/// every `TAIL_SHOW` (`super::feed`) when anything changed or a row turned missing,
/// until `stop` fires, every tail ended, or `sink` answers false.
pub async fn feed(tails: Vec<Tail>, session: Arc<Mutex<CompareSession>>, stop: CancellationToken, mut sink: impl FnMut(CompareUpdate) -> bool) {
    const FEED_MAX: usize = 5000;
    let (tx, mut rx) = mpsc::channel::<(usize, Option<TailEvent>)>(4096);
    for (node, mut tail) in tails.into_iter().enumerate() {
        let (tx, stop) = (tx.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let e = tokio::select! {
                    e = tail.next() => e,
                    _ = stop.cancelled() => return,
                };
                let ended = e.is_none();
                if tx.send((node, e)).await.is_err() || ended {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut every = show_every();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            got = rx.recv_many(&mut batch, FEED_MAX) => {
                if got == 0 {
                    break;
                }
                let mut s = lock(&session);
                for (node, e) in batch.drain(..) {
                    match e {
                        Some(e) => s.receive(node, [e]),
                        None => s.stopped(node),
                    }
                }
            }
            _ = every.tick() => {
                let now = now_ms();
                let update = {
                    let mut s = lock(&session);
                    (s.changed() || s.due(now)).then(|| s.update(now))
                };
                if update.is_some_and(|u| !sink(u)) {
                    break;
                }
            }
        }
    }
    stop.cancel();
    let last = {
        let mut s = lock(&session);
        for node in 0..s.nodes.len() {
            s.stopped(node);
        }
        s.update(now_ms())
    };
    sink(last);
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
