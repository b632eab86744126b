//! Convergence: table digests, the records of their buckets, single keys' states and repairs.

use serde::{Deserialize, Serialize};
use serde_json::Value;


/// table_digest: a table's digest, every bucket with its count and hash, and the watermark it
/// reflects (Switchyard only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDigestRequest {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
}

/// table_digest_records: the records of some buckets of a table's digest (read in one pass), in
/// key order, from after `after`, at most `limit` (Switchyard only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestRecordsRequest {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub buckets: Vec<u16>,
    /// The last key of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// record_states: how a node holds some keys of a table, deleted ones included (Switchyard
/// only): what Verify shows side by side and decides the winner from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordStatesRequest {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub keys: Vec<Value>,
}

/// repair_records: sets keys of a table to the state that won elsewhere, each only if the node
/// still holds what the repair was planned against (Switchyard only, super users).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepairRecordsRequest {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub repairs: Vec<RecordRepair>,
}

/// One key's repair: from `expected` (as the plan saw it) to `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRepair {
    pub key: Value,
    pub expected: RecordMark,
    pub set: RecordState,
}

/// One bucket of a table digest: how many records it holds and the sum of their hashes
/// (32 hex digits; equal buckets hold equal records, whatever order they were written in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketDigest {
    pub count: u64,
    pub digest: String,
}

/// How far a node has applied one origin's writes on the table's channel: every write of
/// `origin` up to log id `id` and version `version` is here. For the node itself, `version` is
/// its clock when the digest was read (every write it made is here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginMark {
    pub origin: String,
    pub id: i64,
    pub version: i64,
}

/// table_digest's answer, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDigest {
    pub node: String,
    pub database: String,
    pub table: String,
    /// Records in the table (the sum of the buckets' counts).
    pub count: u64,
    /// The whole table's digest: the sum of the buckets' (32 hex digits).
    pub digest: String,
    /// Every bucket, by number (`TableDigest::BUCKETS` of them).
    pub buckets: Vec<BucketDigest>,
    pub watermark: Vec<OriginMark>,
}

impl TableDigest {
    /// Buckets per table digest.
    pub const BUCKETS: usize = 256;
}

/// One record as a digest bucket lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecord {
    pub bucket: u16,
    pub key: Value,
    pub version: i64,
    pub origin: String,
    /// Its hash in the bucket's digest (32 hex digits).
    pub hash: String,
}

/// How a node holds one key: a record (its document as stored), a tombstone, or nothing.
/// `version` and `origin` are what last-writer-wins orders by; `updated` is the write's time
/// (milliseconds since the epoch), for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    Live { version: i64, origin: String, updated: f64, record: serde_json::Map<String, Value> },
    Deleted { version: i64, origin: String, updated: f64 },
    Absent,
}

impl RecordState {
    /// What orders it (absent is below every write).
    pub fn mark(&self) -> RecordMark {
        match self {
            RecordState::Live { version, origin, .. } => RecordMark::Live { version: *version, origin: origin.clone() },
            RecordState::Deleted { version, origin, .. } => RecordMark::Deleted { version: *version, origin: origin.clone() },
            RecordState::Absent => RecordMark::Absent,
        }
    }
}

/// A key's state without its document: what a repair expects to find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordMark {
    Live { version: i64, origin: String },
    Deleted { version: i64, origin: String },
    Absent,
}

impl RecordMark {
    /// The (version, origin) last-writer-wins compares; `None` for absent.
    pub fn order(&self) -> Option<(i64, &str)> {
        match self {
            RecordMark::Live { version, origin } | RecordMark::Deleted { version, origin } => Some((*version, origin.as_str())),
            RecordMark::Absent => None,
        }
    }
}

/// One key as record_states answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyState {
    pub key: Value,
    #[serde(flatten)]
    pub state: RecordState,
}

/// record_states' answer, in the order the keys were asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordStates {
    pub node: String,
    pub keys: Vec<KeyState>,
}

/// repair_records' answer: how many keys were set, and the keys left alone because the node no
/// longer held what the repair expected (verify again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    pub node: String,
    pub repaired: u64,
    pub changed: Vec<Value>,
}

/// table_digest_records' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecords {
    pub node: String,
    pub buckets: Vec<u16>,
    pub records: Vec<DigestRecord>,
    /// Whether the buckets hold more after the last record listed (ask again with `after`).
    pub more: bool,
}
