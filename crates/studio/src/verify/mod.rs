//! Verify and Repair: proving that nodes hold the same table (their digests are equal), finding
//! the records that differ when they do not, and setting each to the state that won by the
//! replication rule. `compare` judges, `run` asks the nodes, `repair` plans and applies.

pub mod compare;
mod repair;
mod run;
mod scan;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

pub use repair::{RepairPlan, RepairStep, Repairs};
pub use run::{verify, Held, Member, Verified};

/// What to verify: some channels across some registered instances (two or more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    pub instances: Vec<String>,
    /// `database:table`, each.
    pub channels: Vec<String>,
    /// A name for this run, to cancel it by (`verify_cancel`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// A channel's (or a whole verification's) outcome, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Equal digests: the same records at the same versions on every node.
    InSync,
    /// They differ only by writes replication is still bringing.
    InFlight,
    /// Records differ that replication will not bring.
    Differs,
    /// A node could not be asked (or does not hold the table).
    Failed,
}

/// One node of a channel's verification, as its digest found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VerifyNode {
    pub id: String,
    pub name: String,
    /// Records it holds.
    pub count: f64,
    /// What it had applied of each origin when read: `origin #log id`.
    pub watermark: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CellState {
    Live,
    Deleted,
    Absent,
}

/// One node's state of a differing key. Versions are text: they pass 2^53.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub state: CellState,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// When the write was made (ms since the epoch).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<f64>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Value>,
}

/// A key the nodes do not hold alike: each node's cell (in the nodes' order), the winner by the
/// replication rule, the nodes behind it, and whether replication is still bringing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiffRow {
    pub key: Value,
    pub cells: Vec<Cell>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<u32>,
    pub behind: Vec<u32>,
    pub in_flight: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How a channel was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// The nodes' table digests, then the records of the buckets that differ.
    Digests,
    /// Every record of every node read by key (a member keeps no digest: HarperDB).
    Scan,
}

/// One channel across the nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChannelReport {
    pub channel: String,
    pub method: Method,
    pub verdict: Verdict,
    pub nodes: Vec<VerifyNode>,
    /// Buckets (of 256) whose digests differ.
    pub buckets_differing: u32,
    /// Records read to compare, all nodes together: those of the differing buckets (digests),
    /// or every record (scan).
    pub scanned: f64,
    /// Keys found differing (all of them, also past `rows`).
    pub differing: f64,
    pub in_flight: f64,
    /// The differing keys shown, at most `ROWS_SHOWN`.
    pub rows: Vec<DiffRow>,
    /// The listing stopped at its bound: more may differ than `differing` says.
    pub truncated: bool,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ChannelReport {
    /// A channel's report before anything was compared: failed until a verdict is reached.
    pub fn new(channel: &str, method: Method) -> ChannelReport {
        ChannelReport {
            channel: channel.to_string(),
            method,
            verdict: Verdict::Failed,
            nodes: Vec::new(),
            buckets_differing: 0,
            scanned: 0.0,
            differing: 0.0,
            in_flight: 0.0,
            rows: Vec::new(),
            truncated: false,
            error: None,
        }
    }
}

/// A verification: every channel's report, and the verdict of the worst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// What a repair plan is made from.
    pub id: String,
    /// When it finished (ms since the epoch).
    pub at: f64,
    pub instances: Vec<String>,
    pub verdict: Verdict,
    pub channels: Vec<ChannelReport>,
    /// Passes made: differences in flight are checked again, a few times.
    pub passes: u32,
    /// In words: "in sync: 1,000 records as of …" or "3 records differ".
    pub summary: String,
    /// How long it took (ms).
    pub took_ms: f64,
}

/// Differing keys shown (and repairable) per channel in one verification.
pub const ROWS_SHOWN: usize = 1_000;
