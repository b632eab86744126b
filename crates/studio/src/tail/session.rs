//! The tail as the window shows it, kept in the studio: a ring of the transactions shown, the
//! buffer while paused (which says exactly what it dropped), the filter applied to what is held
//! and to what arrives, and the messages-per-second history. The window is handed the counts and
//! only the rows on its screen (`TailUpdate`), a few times a second, however fast records come:
//! taking every record into the webview cost it a third of a core at 20,000 records/s and its
//! main thread the frames the tail is meant to keep (BENCHMARKS.md).


use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};


use super::socket::{TailEvent, TailRecord};
use super::row::{cut, preview, records_in, Row, TailRecordRef};
use super::view::*;

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
pub use super::row::PREVIEW_CHARS;
/// Characters of a batch's full key list (a line's tooltip).
const ALL_KEYS_CHARS: usize = 2_000;
/// Rows a window may ask for at once (a screen and its margins).
pub const PORT_MAX: u32 = 400;

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
}

// What the window is handed: its screenful of lines, a record, an export.
#[path = "session_screen.rs"]
mod screen;

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
