//! The tail as the window shows it, kept in the studio: a ring of the transactions shown, the
//! buffer while paused (which says exactly what it dropped), the filter applied to what is held
//! and to what arrives, and the messages-per-second history. The window is handed the counts and
//! only the rows on its screen (`TailUpdate`), a few times a second, however fast records come:
//! taking every record into the webview cost it a third of a core at 20,000 records/s and its
//! main thread the frames the tail is meant to keep (BENCHMARKS.md).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use tokio_util::sync::CancellationToken;

use crate::tail::{Tail, TailEvent, TailRecord};
use crate::words::now_ms;

/// Records held for the list (a transaction counts its records); older ones leave the ring.
/// Counted in records, not transactions: a tail of batches of 100 holds 500 of them.
pub const SHOWN_CAP: u64 = 50_000;
/// Records held while paused; past it, arrivals are dropped and counted.
pub const PAUSE_CAP: u64 = 100_000;
/// Seconds of messages-per-second history.
pub const RATE_SECONDS: usize = 60;
/// Notices kept (gaps, refusals, reconnects); the window is handed the last `NOTICES_SHOWN`.
const NOTICES_KEPT: usize = 200;
const NOTICES_SHOWN: usize = 3;
/// Keys a line shows of a batch; the rest are counted.
pub const SHOWN_KEYS: usize = 8;
/// Characters of a line's payload preview: more than the widest data column shows.
pub const PREVIEW_CHARS: usize = 160;
/// Characters of a batch's full key list (a line's tooltip).
const ALL_KEYS_CHARS: usize = 2_000;
/// Rows a window may ask for at once (a screen and its margins).
pub const PORT_MAX: u32 = 400;
/// How often the window is handed what changed: a busy tail's list is redrawn four times a
/// second, which reads as live and leaves the window's main thread free in between.
pub const TAIL_SHOW: std::time::Duration = std::time::Duration::from_millis(250);

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
    fn is_empty(&self) -> bool {
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

/// A transaction held: the record and what the list and the filters read of it.
struct Row {
    seq: u64,
    record: TailRecord,
    /// Records in the transaction (ids of a delete); at least 1.
    count: u64,
    /// The keys, as text; made when first read (a line drawn, a key filter).
    keys: OnceLock<String>,
}

impl Row {
    fn keys(&self, primary_key: Option<&str>) -> &str {
        self.keys.get_or_init(|| keys_of(&self.record, primary_key))
    }
}

/// The keys of a record: the ids of a delete, or each record's primary key.
pub(crate) fn keys_of(r: &TailRecord, primary_key: Option<&str>) -> String {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(r.data.get()) else { return String::new() };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let keys: Vec<String> = if r.operation == "delete" {
        items.iter().map(text).collect()
    } else {
        items.iter().map(|rec| match (rec, primary_key) {
            (Value::Object(o), Some(pk)) => o.get(pk).map(text).unwrap_or_default(),
            _ => String::new(),
        }).collect()
    };
    keys.join(", ")
}

/// Records in a transaction's data (an array; anything else counts as one).
fn records_in(r: &TailRecord) -> u64 {
    match serde_json::from_str::<Vec<serde::de::IgnoredAny>>(r.data.get()) {
        Ok(items) => items.len().max(1) as u64,
        Err(_) => 1,
    }
}

/// `text` cut to `max` characters, an ellipsis added when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The first records of a transaction as JSON, cut to `PREVIEW_CHARS`.
fn preview(r: &TailRecord) -> String {
    cut(r.data.get(), PREVIEW_CHARS)
}

/// A tail's state: what it holds, shows, and buffers. Pure: events and the user's actions in,
/// updates out; the studio's relay task feeds it and hands its updates to the window.
pub struct TailSession {
    /// Per channel, its table's primary key (keys are shown without one when unknown).
    primary_keys: Vec<(String, String)>,
    rows: VecDeque<Arc<Row>>,
    held: u64,
    /// The rows that pass the filter, in arrival order; `None` while nothing is filtered
    /// (then `rows` is the list).
    visible: Option<VecDeque<Arc<Row>>>,
    filter: TailFilter,
    paused: bool,
    buffer: Vec<Arc<Row>>,
    buffered: u64,
    dropped: Option<Dropped>,
    connection: Connection,
    /// The operations this tail's records can carry.
    operations: Vec<String>,
    notices: VecDeque<TailNotice>,
    /// Since when the tail has been reconnecting (arrival time, ms), while it is.
    away_since: Option<f64>,
    /// The log id of the newest transaction received: where a reconnect resumes after.
    newest_id: Option<i64>,
    not_exported: Vec<String>,
    rate: [u32; RATE_SECONDS],
    rate_second: i64,
    received: u64,
    next_seq: u64,
    port: TailPort,
    version: u64,
    /// Changed since the last update handed out.
    changed: bool,
}

impl TailSession {
    /// A session of a tail whose records carry `operations` (what its filter offers).
    pub fn new(primary_keys: Vec<(String, String)>, operations: &[&str]) -> Self {
        TailSession {
            primary_keys,
            operations: operations.iter().map(|o| o.to_string()).collect(),
            rows: VecDeque::new(),
            held: 0,
            visible: None,
            filter: TailFilter::default(),
            paused: false,
            buffer: Vec::new(),
            buffered: 0,
            dropped: None,
            connection: Connection::Opening,
            notices: VecDeque::new(),
            away_since: None,
            newest_id: None,
            not_exported: Vec::new(),
            rate: [0; RATE_SECONDS],
            rate_second: 0,
            received: 0,
            next_seq: 1,
            port: TailPort { order: Order::Newest, first: 0, count: 0 },
            version: 0,
            changed: true,
        }
    }

    fn primary_key(&self, channel: &str) -> Option<&str> {
        self.primary_keys.iter().find(|(c, _)| c == channel).map(|(_, k)| k.as_str())
    }

    fn matches(&self, r: &Row) -> bool {
        let f = &self.filter;
        if !f.channel.is_empty() && r.record.channel != f.channel {
            return false;
        }
        if !f.operation.is_empty() && r.record.operation != f.operation {
            return false;
        }
        if !f.key.is_empty() && !r.keys(self.primary_key(&r.record.channel)).contains(&f.key) {
            return false;
        }
        if !f.text.is_empty() {
            let t = f.text.to_lowercase();
            if !r.record.data.get().to_lowercase().contains(&t) && !r.record.origin.to_lowercase().contains(&t) {
                return false;
            }
        }
        true
    }

    fn notice(&mut self, n: TailNotice) {
        self.notices.push_back(n);
        while self.notices.len() > NOTICES_KEPT {
            self.notices.pop_front();
        }
    }

    fn said(&mut self, text: String) {
        self.notice(TailNotice::Said { text });
    }

    /// The notice of the reconnect the tail is live again after, while what it missed is told.
    fn reconnected(&mut self) -> Option<(&mut u64, &mut bool)> {
        match self.notices.back_mut() {
            Some(TailNotice::Reconnected { healed, gap, .. }) => Some((healed, gap)),
            _ => None,
        }
    }

    fn count_rate(&mut self, n: u32, now_ms: f64) {
        let second = (now_ms / 1000.0).floor() as i64;
        let behind = second - self.rate_second;
        if behind > 0 {
            let shift = (behind as usize).min(RATE_SECONDS);
            self.rate.rotate_left(shift);
            for v in &mut self.rate[RATE_SECONDS - shift..] {
                *v = 0;
            }
            self.rate_second = second;
        }
        self.rate[RATE_SECONDS - 1] = self.rate[RATE_SECONDS - 1].saturating_add(n);
    }

    /// Moves the rate history to `now_ms` (a quiet tail's chart falls to zero); true when that
    /// changed what the chart shows.
    pub fn tick(&mut self, now_ms: f64) -> bool {
        let before = self.rate;
        self.count_rate(0, now_ms);
        let moved = before != self.rate;
        self.changed |= moved;
        moved
    }

    /// Adds rows to what is shown, keeping the ring (at most SHOWN_CAP records, unless one
    /// transaction alone is larger) and the filtered list in step.
    fn show(&mut self, rows: impl IntoIterator<Item = Arc<Row>>) {
        for row in rows {
            self.held += row.count;
            if self.visible.is_some() && self.matches(&row) {
                if let Some(v) = self.visible.as_mut() {
                    v.push_back(row.clone());
                }
            }
            self.rows.push_back(row);
        }
        while self.held > SHOWN_CAP && self.rows.len() > 1 {
            let Some(out) = self.rows.pop_front() else { break };
            self.held -= out.count;
            if let Some(v) = self.visible.as_mut() {
                if v.front().is_some_and(|f| f.seq == out.seq) {
                    v.pop_front();
                }
            }
        }
    }

    /// Takes a batch of a tail's events (arrived at `now_ms`).
    pub fn receive(&mut self, events: impl IntoIterator<Item = TailEvent>, now_ms: f64) {
        let mut arrived: Vec<Arc<Row>> = Vec::new();
        for e in events {
            match e {
                TailEvent::Record(record) => {
                    let count = records_in(&record);
                    self.newest_id = Some(self.newest_id.map_or(record.id, |n| n.max(record.id)));
                    arrived.push(Arc::new(Row { seq: self.next_seq, record, count, keys: OnceLock::new() }));
                    self.next_seq += 1;
                }
                TailEvent::Live => {
                    if let Some(since) = self.away_since.take() {
                        // The attempts that failed are history now: one notice says it is back.
                        self.notices.retain(|n| !matches!(n, TailNotice::Reconnecting { .. }));
                        let away_ms = (now_ms - since).max(0.0);
                        self.notice(TailNotice::Reconnected { away_ms, resumed_after: self.newest_id, healed: 0, gap: false });
                    }
                    self.connection = Connection::Live;
                }
                TailEvent::Reconnecting { error, .. } => {
                    self.connection = Connection::Reconnecting;
                    self.away_since.get_or_insert(now_ms);
                    self.notice(TailNotice::Reconnecting { error });
                }
                TailEvent::Healed { channel, count } => {
                    if let Some((healed, _)) = self.reconnected() {
                        *healed += u64::from(count);
                    } else {
                        let what = if count == 1 { "1 transaction missed while disconnected was".to_string() } else { format!("{} transactions missed while disconnected were", crate::words::grouped(count.into())) };
                        self.said(format!("{channel}: {what} read from the log"));
                    }
                }
                TailEvent::Gap { channel, after, before, reason } => {
                    if let Some((_, gap)) = self.reconnected() {
                        *gap = true;
                    }
                    let before = before.map(|b| format!(" and before #{b}")).unwrap_or_default();
                    self.said(format!("{channel}: transactions after #{after}{before} are missing — {reason}"));
                }
                TailEvent::Refused { channel, reason } => self.said(format!("{channel}: {reason}")),
                TailEvent::NotExported { channel } => {
                    self.said(format!("{channel}: HarperDB publishes nothing of this table until a component exports it"));
                    if !self.not_exported.contains(&channel) {
                        self.not_exported.push(channel);
                    }
                }
                TailEvent::Failed { reason } => {
                    self.connection = Connection::Failed;
                    self.said(format!("Stopped: {reason}"));
                }
            }
        }
        self.changed = true;
        self.received += arrived.len() as u64;
        self.count_rate(arrived.len() as u32, now_ms);
        if arrived.is_empty() {
            return;
        }
        if !self.paused {
            self.show(arrived);
            return;
        }
        // Paused: held below the cap (in records); past it, counted exactly.
        for row in arrived {
            if self.dropped.is_none() && self.buffered + row.count <= PAUSE_CAP {
                self.buffered += row.count;
                self.buffer.push(row);
                continue;
            }
            let (id, ts) = (row.record.id, row.record.arrived);
            self.dropped = Some(match self.dropped {
                Some(d) => Dropped { count: d.count + 1, last_id: id, last_ts: ts, ..d },
                None => Dropped { count: 1, first_id: id, last_id: id, first_ts: ts, last_ts: ts },
            });
        }
    }

    /// The tail stopped (by the user, or for good); what it received stays.
    pub fn stopped(&mut self) {
        if self.connection != Connection::Failed {
            self.connection = Connection::Idle;
        }
        self.changed = true;
    }

    pub fn pause(&mut self) {
        if !self.paused {
            self.paused = true;
            self.buffer.clear();
            self.buffered = 0;
            self.dropped = None;
            self.changed = true;
        }
    }

    /// Shows what arrived while paused, and says what the buffer dropped.
    pub fn resume(&mut self) {
        if !self.paused {
            return;
        }
        self.paused = false;
        let buffer = std::mem::take(&mut self.buffer);
        self.show(buffer);
        self.buffered = 0;
        if let Some(dropped) = self.dropped {
            self.notice(TailNotice::Dropped { dropped, cap: PAUSE_CAP });
        }
        self.changed = true;
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.held = 0;
        if let Some(v) = self.visible.as_mut() {
            v.clear();
        }
        self.buffer.clear();
        self.buffered = 0;
        self.dropped = None;
        self.notices.clear();
        self.not_exported.clear();
        self.received = 0;
        self.changed = true;
    }

    pub fn dismiss_notices(&mut self) {
        self.notices.clear();
        self.changed = true;
    }

    /// Shows only what passes `filter`, of what is held and of what arrives.
    pub fn set_filter(&mut self, filter: TailFilter) {
        self.filter = filter;
        self.visible = None;
        if !self.filter.is_empty() {
            let visible = self.rows.iter().filter(|r| self.matches(r)).cloned().collect();
            self.visible = Some(visible);
        }
        self.changed = true;
    }

    pub fn set_port(&mut self, port: TailPort) {
        let port = TailPort { count: port.count.min(PORT_MAX), ..port };
        if port != self.port {
            self.port = port;
            self.changed = true;
        }
    }

    fn list(&self) -> &VecDeque<Arc<Row>> {
        self.visible.as_ref().unwrap_or(&self.rows)
    }

    pub fn act(&mut self, action: TailAction) {
        match action {
            TailAction::Pause => self.pause(),
            TailAction::Resume => self.resume(),
            TailAction::Clear => self.clear(),
            TailAction::DismissNotices => self.dismiss_notices(),
            TailAction::Filter { filter } => self.set_filter(filter),
            TailAction::Port { port } => self.set_port(port),
        }
    }

    /// Whether anything changed since the last update.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// What the window shows now.
    pub fn update(&mut self) -> TailUpdate {
        self.version += 1;
        self.changed = false;
        let list = self.list();
        let n = list.len();
        let first = (self.port.first as usize).min(n);
        let last = (first + self.port.count as usize).min(n);
        let lines = (first..last)
            .filter_map(|i| match self.port.order {
                Order::Newest => list.get(n - 1 - i),
                Order::Oldest => list.get(i),
            })
            .map(|r| self.line(r))
            .collect();
        let last_notices = self.notices.len().saturating_sub(NOTICES_SHOWN)..;
        TailUpdate {
            version: self.version,
            connection: self.connection,
            operations: self.operations.clone(),
            received: self.received,
            rows: self.rows.len() as u64,
            held: self.held,
            shown: n as u64,
            paused: self.paused,
            buffered: self.buffered,
            dropped: self.dropped,
            shown_cap: SHOWN_CAP,
            pause_cap: PAUSE_CAP,
            notices: self.notices.range(last_notices).cloned().collect(),
            not_exported: self.not_exported.clone(),
            rate: self.rate.to_vec(),
            port: self.port,
            lines,
        }
    }

    fn line(&self, r: &Row) -> TailLine {
        let keys = r.keys(self.primary_key(&r.record.channel));
        let (shown, all) = if r.count as usize > SHOWN_KEYS {
            let end = keys.match_indices(", ").nth(SHOWN_KEYS - 1).map(|(at, _)| at).unwrap_or(keys.len());
            (format!("{} …", &keys[..end]), Some(cut(keys, ALL_KEYS_CHARS)))
        } else {
            (keys.to_string(), None)
        };
        let rec = &r.record;
        TailLine {
            seq: r.seq,
            id: rec.id,
            arrived: rec.arrived,
            channel: rec.channel.clone(),
            operation: rec.operation.clone(),
            keys: shown,
            count: r.count.min(u32::MAX.into()) as u32,
            all_keys: all,
            origin: rec.origin.clone(),
            origin_id: rec.origin_id,
            preview: preview(rec),
        }
    }

    /// The transaction shown as `seq`, while it is held.
    pub fn record(&self, seq: u64) -> Option<TailRecord> {
        let at = self.rows.binary_search_by_key(&seq, |r| r.seq).ok()?;
        self.rows.get(at).map(|r| r.record.clone())
    }

    /// What an export writes: the filtered list, oldest first (shared, not copied).
    pub fn exported(&self) -> Vec<TailRecordRef> {
        self.list().iter().map(|r| TailRecordRef(r.clone())).collect()
    }
}

/// A held transaction, shared with the session while an export writes it.
pub struct TailRecordRef(Arc<Row>);

impl TailRecordRef {
    pub fn record(&self) -> &TailRecord {
        &self.0.record
    }
}

/// Events taken from a tail at once.
const FEED_MAX: usize = 5000;

/// A session's lock (a panic while it was held leaves a state still worth showing).
pub fn lock(session: &Mutex<TailSession>) -> MutexGuard<'_, TailSession> {
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// The ticks at which a window is handed what changed (a late tick is not made up for).
pub(crate) fn show_every() -> tokio::time::Interval {
    let mut every = tokio::time::interval(TAIL_SHOW);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// Feeds `tail`'s events into `session` and hands `sink` what changed every `TAIL_SHOW`, until
/// the tail ends, `stop` fires, or `sink` answers false; then stops the tail and hands the last
/// update (the session says it stopped).
pub async fn feed(mut tail: Tail, session: Arc<Mutex<TailSession>>, stop: CancellationToken, mut sink: impl FnMut(TailUpdate) -> bool) {
    let mut every = show_every();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            e = tail.next() => {
                let Some(e) = e else { break };
                batch.push(e);
                tail.drain(FEED_MAX, &mut batch);
                lock(&session).receive(batch.drain(..), now_ms());
            }
            _ = every.tick() => {
                let update = {
                    let mut s = lock(&session);
                    s.tick(now_ms());
                    s.changed().then(|| s.update())
                };
                if update.is_some_and(|u| !sink(u)) {
                    break;
                }
            }
        }
    }
    tail.stop();
    let last = {
        let mut s = lock(&session);
        s.stopped();
        s.update()
    };
    sink(last);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tail::TailSource;

    fn rec(id: i64, channel: &str, operation: &str, data: Value) -> TailEvent {
        TailEvent::Record(TailRecord {
            id,
            channel: channel.into(),
            origin: "edge-1".into(),
            origin_id: id,
            operation: operation.into(),
            user: None,
            ts: 1000.0 + id as f64,
            arrived: 2000.0 + id as f64,
            source: TailSource::Live,
            data: serde_json::value::to_raw_value(&data).expect("json"),
        })
    }

    fn dog(id: i64) -> TailEvent {
        rec(id, "dev:dog", "insert", serde_json::json!([{ "id": id, "name": format!("dog {id}") }]))
    }

    fn session() -> TailSession {
        let mut s = TailSession::new(vec![("dev:dog".into(), "id".into())], crate::tail::OPERATIONS);
        s.set_port(TailPort { order: Order::Newest, first: 0, count: 10 });
        s
    }

    fn ids(u: &TailUpdate) -> Vec<i64> {
        u.lines.iter().map(|l| l.id).collect()
    }

    #[test]
    fn the_port_answers_its_rows_in_either_order() {
        let mut s = session();
        s.receive((1..=30).map(dog), 0.0);
        let u = s.update();
        assert_eq!((u.received, u.rows, u.shown, u.held), (30, 30, 30, 30));
        assert_eq!(ids(&u), (21..=30).rev().collect::<Vec<_>>());
        s.set_port(TailPort { order: Order::Oldest, first: 25, count: 10 });
        assert_eq!(ids(&s.update()), vec![26, 27, 28, 29, 30]);
        s.set_port(TailPort { order: Order::Newest, first: 40, count: 10 });
        assert!(s.update().lines.is_empty());
    }

    #[test]
    fn a_line_shows_its_keys_preview_and_origin() {
        let mut s = session();
        let batch: Vec<Value> = (1..=12).map(|k| serde_json::json!({ "id": k, "name": "x".repeat(20) })).collect();
        s.receive([rec(7, "dev:dog", "upsert", Value::Array(batch)), rec(8, "dev:dog", "delete", serde_json::json!(["a", 2]))], 0.0);
        let u = s.update();
        assert_eq!(u.held, 14);
        let (delete, batch) = (&u.lines[0], &u.lines[1]);
        assert_eq!((delete.keys.as_str(), delete.count, delete.all_keys.as_deref()), ("a, 2", 2, None));
        assert_eq!(batch.keys, "1, 2, 3, 4, 5, 6, 7, 8 …");
        assert_eq!(batch.all_keys.as_deref(), Some("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"));
        assert_eq!(batch.preview.chars().count(), PREVIEW_CHARS + 1);
        assert!(batch.preview.ends_with('…') && batch.preview.starts_with(r#"[{"id":1,"#), "{}", batch.preview);
        assert_eq!((batch.origin.as_str(), batch.origin_id), ("edge-1", 7));
    }

    #[test]
    fn the_ring_keeps_at_most_its_cap_of_records() {
        let mut s = session();
        let hundred = |id: i64| rec(id, "dev:dog", "insert", Value::Array((0..100).map(|k| serde_json::json!({ "id": id * 1000 + k })).collect()));
        s.receive((1..=600).map(hundred), 0.0);
        let u = s.update();
        assert_eq!((u.rows, u.held, u.received), (500, SHOWN_CAP, 600));
        assert_eq!(u.lines.last().map(|l| l.id), Some(591));
        s.set_port(TailPort { order: Order::Oldest, first: 0, count: 1 });
        assert_eq!(ids(&s.update()), vec![101]);
    }

    #[test]
    fn pausing_buffers_below_the_cap_and_counts_exactly_what_it_dropped() {
        let mut s = session();
        s.receive((1..=5).map(dog), 0.0);
        s.pause();
        s.receive((6..=10).map(dog), 0.0);
        let u = s.update();
        assert_eq!((u.shown, u.buffered, u.paused, u.dropped), (5, 5, true, None));
        s.resume();
        let u = s.update();
        assert_eq!((u.shown, u.buffered, u.paused), (10, 0, false));
        assert!(u.notices.is_empty());

        s.pause();
        let big = |id: i64| rec(id, "dev:dog", "insert", Value::Array((0..1000).map(|k| serde_json::json!({ "id": k })).collect()));
        s.receive((11..=112).map(big), 0.0);
        let u = s.update();
        assert_eq!(u.buffered, PAUSE_CAP);
        let dropped = u.dropped.expect("dropped");
        assert_eq!((dropped.count, dropped.first_id, dropped.last_id, dropped.first_ts, dropped.last_ts), (2, 111, 112, 2111.0, 2112.0));
        s.resume();
        let u = s.update();
        assert_eq!(u.notices, vec![TailNotice::Dropped { dropped, cap: PAUSE_CAP }]);
        assert_eq!(u.received, 112);
    }

    #[test]
    fn a_filter_applies_to_what_is_held_and_to_arrivals_and_hides_nothing_of_the_counts() {
        let mut s = session();
        s.receive((1..=10).map(dog), 0.0);
        s.receive([rec(11, "dev:cat", "delete", serde_json::json!([5]))], 0.0);
        s.set_filter(TailFilter { key: "1".into(), ..Default::default() });
        let u = s.update();
        assert_eq!((u.shown, u.rows), (2, 11));
        assert_eq!(ids(&u), vec![10, 1]);
        s.receive((12..=13).map(dog), 0.0);
        assert_eq!(ids(&s.update()), vec![13, 12, 10, 1]);
        s.set_filter(TailFilter { text: "DOG 1".into(), operation: "insert".into(), ..Default::default() });
        assert_eq!(ids(&s.update()), vec![13, 12, 10, 1]);
        s.set_filter(TailFilter { channel: "dev:cat".into(), ..Default::default() });
        let u = s.update();
        assert_eq!((ids(&u), u.shown, u.rows), (vec![11], 1, 13));
        s.set_filter(TailFilter::default());
        assert_eq!(s.update().shown, 13);
    }

    #[test]
    fn a_filtered_list_follows_the_ring_as_it_turns() {
        let mut s = session();
        s.set_filter(TailFilter { operation: "delete".into(), ..Default::default() });
        let big = |id: i64, op: &str| rec(id, "dev:dog", op, Value::Array((0..10_000).map(|k| serde_json::json!(k)).collect()));
        s.receive([big(1, "delete"), big(2, "insert"), big(3, "delete"), big(4, "insert"), big(5, "insert"), big(6, "delete")], 0.0);
        let u = s.update();
        assert_eq!((u.rows, u.shown), (5, 2));
        assert_eq!(ids(&u), vec![6, 3]);
    }

    #[test]
    fn events_become_notices_and_the_connection_state() {
        let mut s = session();
        assert_eq!(s.update().connection, Connection::Opening);
        s.receive([TailEvent::Live], 0.0);
        assert_eq!(s.update().connection, Connection::Live);
        s.receive([TailEvent::Reconnecting { error: "closed".into(), retry_in_ms: 500 }, TailEvent::Healed { channel: "dev:dog".into(), count: 1200 }], 0.0);
        s.receive([TailEvent::Gap { channel: "dev:dog".into(), after: 4, before: Some(9), reason: "pruned".into() }, TailEvent::NotExported { channel: "dev:cat".into() }], 0.0);
        let u = s.update();
        assert_eq!(u.connection, Connection::Reconnecting);
        let said: Vec<String> = u.notices.iter().map(|n| match n { TailNotice::Said { text } => text.clone(), other => format!("{other:?}") }).collect();
        assert_eq!(said, vec![
            "dev:dog: 1,200 transactions missed while disconnected were read from the log".to_string(),
            "dev:dog: transactions after #4 and before #9 are missing — pruned".to_string(),
            "dev:cat: HarperDB publishes nothing of this table until a component exports it".to_string(),
        ]);
        assert_eq!(u.not_exported, vec!["dev:cat".to_string()]);
        s.receive([TailEvent::Failed { reason: "bad password".into() }], 0.0);
        s.stopped();
        assert_eq!(s.update().connection, Connection::Failed);
        s.dismiss_notices();
        assert!(s.update().notices.is_empty());
    }

    #[test]
    fn a_reconnect_retires_its_attempts_and_says_where_it_resumed_and_what_it_missed() {
        let mut s = session();
        s.receive([TailEvent::Live], 0.0);
        s.receive((1..=3).map(dog), 1_000.0);
        s.receive([TailEvent::Reconnecting { error: "cannot reach".into(), retry_in_ms: 500 }], 2_000.0);
        s.receive([TailEvent::Reconnecting { error: "cannot reach".into(), retry_in_ms: 1000 }], 2_500.0);
        assert_eq!(s.update().notices.len(), 2, "each attempt is said while it lasts");
        s.receive([TailEvent::Live], 5_000.0);
        let u = s.update();
        assert_eq!(u.connection, Connection::Live);
        assert_eq!(u.notices, vec![TailNotice::Reconnected { away_ms: 3_000.0, resumed_after: Some(3), healed: 0, gap: false }], "the stale attempts are gone");
        // Away again; this time what it missed is read from the log, and some of it is lost.
        s.receive([TailEvent::Reconnecting { error: "closed".into(), retry_in_ms: 500 }], 6_000.0);
        s.receive([TailEvent::Live, TailEvent::Healed { channel: "dev:dog".into(), count: 40 }], 6_500.0);
        s.receive([TailEvent::Gap { channel: "dev:dog".into(), after: 43, before: None, reason: "too many".into() }], 6_600.0);
        let u = s.update();
        assert!(matches!(&u.notices[1], TailNotice::Reconnected { healed: 40, gap: true, resumed_after: Some(3), .. }), "{:?}", u.notices);
        assert!(matches!(&u.notices[2], TailNotice::Said { text } if text.contains("after #43")), "the gap is said: {:?}", u.notices);
        assert!(!u.notices.iter().any(|n| matches!(n, TailNotice::Reconnecting { .. })));
    }

    #[test]
    fn the_rate_counts_records_per_second_and_falls_to_zero() {
        let mut s = session();
        s.receive((1..=3).map(dog), 10_000.0);
        s.receive((4..=5).map(dog), 10_500.0);
        s.receive((6..=6).map(dog), 11_200.0);
        let u = s.update();
        assert_eq!(u.rate[RATE_SECONDS - 2..], [5, 1]);
        assert!(!s.changed());
        assert!(s.tick(12_000.0));
        assert_eq!(s.update().rate[RATE_SECONDS - 3..], [5, 1, 0]);
        assert!(!s.tick(12_500.0));
        assert!(s.tick(200_000.0));
        assert!(s.update().rate.iter().all(|&r| r == 0));
    }

    #[test]
    fn a_record_is_read_back_by_its_seq_while_held_and_clear_forgets_all() {
        let mut s = session();
        s.receive((1..=3).map(dog), 0.0);
        let seq = s.update().lines[0].seq;
        assert_eq!(s.record(seq).map(|r| r.id), Some(3));
        assert_eq!(s.exported().iter().map(|r| r.record().id).collect::<Vec<_>>(), vec![1, 2, 3]);
        s.clear();
        let u = s.update();
        assert_eq!((u.rows, u.shown, u.received, u.lines.len()), (0, 0, 0, 0));
        assert!(s.record(seq).is_none());
        assert!(u.version > 1);
    }
}
