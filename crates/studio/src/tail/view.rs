//! The tail's shapes across IPC: what the window asks (filter, port, actions) and what it is
//! handed (a `TailUpdate` with its lines, notices and connection state).

use serde::{Deserialize, Serialize};
use ts_rs::TS;


/// Which transactions the list shows; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailFilter {
    pub channel: String,
    pub operation: String,
    /// Part of a key written or deleted.
    pub key: String,
    /// Part of the payload or the origin, in any case.
    pub text: String,
}

impl TailFilter {
    pub(super) fn is_empty(&self) -> bool {
        self.channel.is_empty() && self.operation.is_empty() && self.key.is_empty() && self.text.is_empty()
    }
}

/// What arrived while paused past the buffer's cap and was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    #[ts(type = "number")]
    pub count: u64,
    #[ts(type = "number")]
    pub first_id: i64,
    #[ts(type = "number")]
    pub last_id: i64,
    /// Arrival times (ms since the epoch) of the first and the last dropped.
    pub first_ts: f64,
    pub last_ts: f64,
}

/// Something the tail tells the user besides records.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TailNotice {
    Said { text: String },
    /// The connection ended; the tail is trying again. Retired once it is live again.
    Reconnecting { error: String },
    /// Live again after a reconnect: how long it was away, after which transaction it resumed,
    /// and what it missed meanwhile (read from the log, or a gap), filled in as that is known.
    Reconnected {
        #[serde(rename = "awayMs")]
        #[ts(rename = "awayMs")]
        away_ms: f64,
        #[serde(rename = "resumedAfter", skip_serializing_if = "Option::is_none")]
        #[ts(rename = "resumedAfter", optional, type = "number")]
        resumed_after: Option<i64>,
        /// Transactions missed while away that were read from the log.
        #[ts(type = "number")]
        healed: u64,
        /// Some of what it missed could not be read: the gap is said in its own notice.
        gap: bool,
    },
    /// Told on resume: what the pause buffer could not keep (its times told in the user's zone).
    Dropped {
        dropped: Dropped,
        #[ts(type = "number")]
        cap: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    Opening,
    Live,
    Reconnecting,
    Failed,
    /// Stopped by the user; what was received stays shown.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    #[default]
    Newest,
    Oldest,
}

/// The rows a window shows: `count` rows from `first`, of the filtered list in `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailPort {
    pub order: Order,
    pub first: u32,
    pub count: u32,
}

/// A transaction as the list draws it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailLine {
    /// Its place in this tail's arrival order (stable while it is held; `tail_record` reads it).
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub id: i64,
    pub arrived: f64,
    pub channel: String,
    pub operation: String,
    /// The first `SHOWN_KEYS` keys, "…" after them when there are more (`count` says how many).
    pub keys: String,
    /// Records in the transaction (keys of a delete).
    pub count: u32,
    /// Every key, when the line shows only the first (cut at a few thousand characters).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_keys: Option<String>,
    pub origin: String,
    #[ts(type = "number")]
    pub origin_id: i64,
    /// The first records as JSON, cut to `PREVIEW_CHARS` (with an ellipsis when cut).
    pub preview: String,
}

/// What the window shows of a tail: the counts, the state, and the rows of its port.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailUpdate {
    /// Grows with every change; a window keeps the highest it has seen (pushed updates and
    /// answers to its actions may cross).
    #[ts(type = "number")]
    pub version: u64,
    pub connection: Connection,
    /// The operations this tail's records can carry (by the server's kind): what the operation
    /// filter offers.
    pub operations: Vec<String>,
    /// Transactions received since the tail opened or was cleared.
    #[ts(type = "number")]
    pub received: u64,
    /// Transactions in the ring, and the records they hold (at most `shownCap`).
    #[ts(type = "number")]
    pub rows: u64,
    #[ts(type = "number")]
    pub held: u64,
    /// Transactions in the ring that pass the filter.
    #[ts(type = "number")]
    pub shown: u64,
    pub paused: bool,
    /// Records in the pause buffer (at most `pauseCap`).
    #[ts(type = "number")]
    pub buffered: u64,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<Dropped>,
    #[ts(type = "number")]
    pub shown_cap: u64,
    #[ts(type = "number")]
    pub pause_cap: u64,
    /// The last notices, oldest first.
    pub notices: Vec<TailNotice>,
    /// Channels a HarperDB instance publishes nothing of until a component exports them.
    pub not_exported: Vec<String>,
    /// Records per second over the last minute, oldest first (the last second still counting).
    pub rate: Vec<u32>,
    pub port: TailPort,
    /// The port's rows (fewer at the list's end).
    pub lines: Vec<TailLine>,
}

/// What the user does to an open tail.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TailAction {
    Pause,
    Resume,
    Clear,
    DismissNotices,
    Filter { filter: TailFilter },
    /// The rows the window shows now (a scroll, a resize, the order).
    Port { port: TailPort },
}

/// An export written.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailExported {
    pub path: String,
    /// Transactions written (one line each).
    #[ts(type = "number")]
    pub count: u64,
}
