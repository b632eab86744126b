//! The live tail of channels on one instance: a short window of recent transactions read from
//! the node's log, then live ones over the shared SocketCluster client, with no duplicate and no
//! hole at the seam. Across reconnects the subscriber resumes from the last transaction shown;
//! when the node cannot resume that far, the missed entries are read from its log
//! (`read_transaction_log`), and what cannot be read is reported as a gap, never hidden.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_protocol::ops::ReadTransactionLog;
use switchyard_protocol::Operation;
use switchyard_client::OpsClient;
use switchyard_protocol::sc::Transaction;
use switchyard_protocol::Channel;
use switchyard_sc::{Endpoint, Options, Subscriber, SubscriberConfig, SubscriberEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

/// The operations a switchyard-node tail's transactions carry.
pub const OPERATIONS: &[&str] = &["insert", "update", "upsert", "delete"];

use crate::error::{Error, Result};
use crate::words::now_ms;

/// What to tail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailRequest {
    /// `database:table` channels.
    pub channels: Vec<String>,
    /// Recent transactions shown first, per channel (0: live ones only).
    pub window: u32,
    /// Transactions read from the log at most to heal one gap; more is reported as a gap.
    pub heal_max: u32,
    /// Starts after this log id instead of the window: every transaction since (up to
    /// `heal_max`, the rest reported as a gap), then live ones.
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
}

impl TailRequest {
    pub fn new(channels: Vec<String>) -> Self {
        TailRequest { channels, window: 100, heal_max: 20_000, from: None }
    }
}

/// One transaction as the tail shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TailRecord {
    /// The position in the tailed node's log.
    #[ts(type = "number")]
    pub id: i64,
    pub channel: String,
    /// Where the write happened, and its id there: the same on every node it reaches.
    pub origin: String,
    #[ts(type = "number")]
    pub origin_id: i64,
    pub operation: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Commit time at the origin (ms since the epoch).
    pub ts: f64,
    /// When it reached the studio (ms since the epoch).
    pub arrived: f64,
    /// How it reached the tail.
    pub source: TailSource,
    /// The records written, or the keys deleted.
    #[ts(type = "JsonValue")]
    pub data: Box<RawValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TailSource {
    /// The opening window, read from the log.
    Window,
    /// Delivered live.
    Live,
    /// Read from the log to heal a gap after a reconnect.
    Healed,
}

/// What a tail reports.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TailEvent {
    Record(TailRecord),
    /// Subscribed (again) and live.
    Live,
    /// The connection ended; the next attempt is in `retryInMs`.
    Reconnecting {
        error: String,
        #[serde(rename = "retryInMs")]
        #[ts(rename = "retryInMs", type = "number")]
        retry_in_ms: u64,
    },
    /// Transactions missed while disconnected were read from the log.
    Healed { channel: String, count: u32 },
    /// Transactions on `channel` after log id `after` and before `before` (when known) are not
    /// shown: the log could not give them.
    Gap {
        channel: String,
        #[ts(type = "number")]
        after: i64,
        #[ts(optional, type = "number")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<i64>,
        reason: String,
    },
    /// The node refused a channel (no such table, no permission); it is not asked again.
    Refused { channel: String, reason: String },
    /// HarperDB publishes nothing of this table: no component exports it (the studio can, once
    /// the user agrees). It is not asked again by this tail.
    NotExported { channel: String },
    /// The tail stopped for a reason retrying cannot fix.
    Failed { reason: String },
}

/// A running tail; dropping it stops it.
pub struct Tail {
    events: mpsc::Receiver<TailEvent>,
    stop: CancellationToken,
}

impl Tail {
    /// Starts tailing; events follow on `next`. `ops` reads the node's log (the window and
    /// healing), `endpoint` and `credentials` reach its SocketCluster endpoint.
    pub fn start(ops: OpsClient, endpoint: Endpoint, credentials: (String, String), request: TailRequest) -> Result<Tail> {
        if request.channels.is_empty() {
            return Err(Error::Invalid("choose at least one channel to tail".into()));
        }
        for c in &request.channels {
            c.parse::<Channel>().map_err(Error::Invalid)?;
        }
        let (tx, rx) = mpsc::channel(4096);
        let stop = CancellationToken::new();
        tokio::spawn(run(ops, endpoint, credentials, request, tx, stop.clone()));
        Ok(Tail { events: rx, stop })
    }

    /// A tail whose events come from `events`, stopped through `stop`.
    pub(crate) fn from_parts(events: mpsc::Receiver<TailEvent>, stop: CancellationToken) -> Tail {
        Tail { events, stop }
    }

    /// The next event; `None` once the tail has stopped.
    pub async fn next(&mut self) -> Option<TailEvent> {
        self.events.recv().await
    }

    /// The events already waiting, up to `max`, without waiting (for batching).
    pub fn drain(&mut self, max: usize, into: &mut Vec<TailEvent>) {
        while into.len() < max {
            match self.events.try_recv() {
                Ok(e) => into.push(e),
                Err(_) => break,
            }
        }
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}


fn record(t: Transaction, source: TailSource) -> Option<TailRecord> {
    let data = match (t.records, t.ids) {
        (Some(r), _) => r,
        (None, Some(ids)) => serde_json::value::to_raw_value(&ids).ok()?,
        (None, None) => return None,
    };
    Some(TailRecord {
        id: t.id,
        channel: t.channel,
        origin: t.origin,
        origin_id: t.origin_id,
        operation: t.operation,
        user: t.user,
        ts: t.ts,
        arrived: now_ms(),
        source,
        data,
    })
}

/// Reads log entries of `channel` after `after` (ascending), at most `max`; `desc` reads the
/// last `max` instead (answered ascending).
async fn read_log(ops: &OpsClient, channel: &str, after: Option<i64>, max: u32, desc: bool) -> Result<Vec<Transaction>> {
    let c: Channel = channel.parse().map_err(Error::Invalid)?;
    let op = Operation::ReadTransactionLog(ReadTransactionLog {
        database: c.database,
        table: c.table,
        search_type: None,
        from: after.map(|a| a as f64),
        to: None,
        limit: Some(max.clamp(1, 10_000) as u64),
        order: desc.then(|| "desc".to_string()),
    });
    let mut entries: Vec<Transaction> = ops.run_as(&op).await?;
    entries.sort_by_key(|t| t.id);
    Ok(entries)
}

/// Per channel: the last log id shown. Live transactions wait in the subscriber's queue while
/// the log is read, and are then shown only when they follow what was read.
#[derive(Default)]
struct ChannelState {
    shown: Option<i64>,
}

async fn run(ops: OpsClient, endpoint: Endpoint, credentials: (String, String), request: TailRequest, out: mpsc::Sender<TailEvent>, stop: CancellationToken) {
    let config = SubscriberConfig {
        endpoint,
        credentials: Some(credentials),
        channels: request.channels.iter().map(|c| (c.clone(), None)).collect(),
        options: Options::default(),
    };
    let mut sub = Subscriber::start(config, None);
    let mut channels: HashMap<String, ChannelState> = request.channels.iter().map(|c| (c.clone(), ChannelState::default())).collect();
    let mut opened = false;
    loop {
        let event = tokio::select! {
            e = sub.next() => e,
            _ = stop.cancelled() => return,
        };
        let Some(event) = event else { return };
        let sent = match event {
            SubscriberEvent::Connected => {
                if !opened {
                    // Subscribed live first, then the window read: whatever commits between the
                    // two is in both, and shown once.
                    opened = true;
                    if let Some(from) = request.from {
                        for name in &request.channels {
                            let state = channels.entry(name.clone()).or_default();
                            let read = tokio::select! {
                                r = heal(&ops, name, from, request.heal_max) => r,
                                _ = stop.cancelled() => return,
                            };
                            let (entries, complete) = match read {
                                Ok(r) => r,
                                Err(e) => {
                                    let gap = TailEvent::Gap { channel: name.clone(), after: from, before: None, reason: format!("the transactions since #{from} could not be read: {e}") };
                                    if out.send(gap).await.is_err() {
                                        return;
                                    }
                                    continue;
                                }
                            };
                            let last_read = entries.last().map(|t| t.id).unwrap_or(from);
                            sub.seen(name, last_read);
                            for t in entries {
                                if !show(state, t, TailSource::Window, &out).await {
                                    return;
                                }
                            }
                            if !complete {
                                let reason = format!("more than {} transactions follow #{from}; the rest was not read", request.heal_max);
                                if out.send(TailEvent::Gap { channel: name.clone(), after: last_read, before: None, reason }).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    for name in request.channels.iter().filter(|_| request.window > 0 && request.from.is_none()) {
                        let window = tokio::select! {
                            w = read_log(&ops, name, None, request.window, true) => w,
                            _ = stop.cancelled() => return,
                        };
                        let state = channels.entry(name.clone()).or_default();
                        match window {
                            Ok(entries) => {
                                // A reconnect resumes after the window even when no live
                                // transaction came yet (they all committed before the subscribe).
                                if let Some(last) = entries.iter().map(|t| t.id).max() {
                                    sub.seen(name, last);
                                }
                                for t in entries {
                                    if !show(state, t, TailSource::Window, &out).await {
                                        return;
                                    }
                                }
                            }
                            Err(e) => {
                                let gap = TailEvent::Gap { channel: name.clone(), after: 0, before: None, reason: format!("the recent transactions could not be read: {e}") };
                                if out.send(gap).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
                out.send(TailEvent::Live).await
            }
            SubscriberEvent::Transaction(t) => {
                let Some(state) = channels.get_mut(&t.channel) else { continue };
                if !show(state, t, TailSource::Live, &out).await {
                    return;
                }
                continue;
            }
            SubscriberEvent::Unresumable { channel, after, .. } => {
                // Live again from now; what lies between `after` and the first live one is read
                // from the log.
                let state = channels.entry(channel.clone()).or_default();
                let healed = tokio::select! {
                    r = heal(&ops, &channel, after, request.heal_max) => r,
                    _ = stop.cancelled() => return,
                };
                let state_shown = state.shown;
                match healed {
                    Ok((entries, complete)) => {
                        let count = entries.len() as u32;
                        let last_read = entries.last().map(|t| t.id).unwrap_or(after);
                        sub.seen(&channel, last_read);
                        // Said first, so that what follows reads as the healed part.
                        if out.send(TailEvent::Healed { channel: channel.clone(), count }).await.is_err() {
                            return;
                        }
                        for t in entries {
                            if !show(state, t, TailSource::Healed, &out).await {
                                return;
                            }
                        }
                        if complete {
                            continue;
                        }
                        let reason = format!("more than {} transactions were missed; the rest was not read", request.heal_max);
                        out.send(TailEvent::Gap { channel, after: last_read, before: None, reason }).await
                    }
                    Err(e) => {
                        let reason = format!("the missed transactions could not be read: {e}");
                        out.send(TailEvent::Gap { channel, after: state_shown.unwrap_or(after), before: None, reason }).await
                    }
                }
            }
            SubscriberEvent::Disconnected { error, retry_in } => out.send(TailEvent::Reconnecting { error: error.to_string(), retry_in_ms: retry_in.as_millis() as u64 }).await,
            SubscriberEvent::Refused { channel, error } => out.send(TailEvent::Refused { channel, reason: error.to_string() }).await,
            SubscriberEvent::KickedOut { channel, message } => {
                out.send(TailEvent::Refused { channel, reason: message.unwrap_or_else(|| "the node ended the subscription".into()) }).await
            }
            SubscriberEvent::Failed(e) => {
                let _ = out.send(TailEvent::Failed { reason: e.to_string() }).await;
                return;
            }
            SubscriberEvent::Publication { .. } => continue,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Reads what follows `after` on `channel`, page by page, at most `max` entries; answers them and
/// whether that was everything (up to the log's head when read).
async fn heal(ops: &OpsClient, channel: &str, after: i64, max: u32) -> Result<(Vec<Transaction>, bool)> {
    const PAGE: u32 = 1000;
    let mut got: Vec<Transaction> = Vec::new();
    let mut from = after;
    loop {
        let want = PAGE.min(max.saturating_sub(got.len() as u32));
        if want == 0 {
            return Ok((got, false));
        }
        let page = read_log(ops, channel, Some(from), want, false).await?;
        let n = page.len() as u32;
        if let Some(last) = page.last() {
            from = last.id;
        }
        got.extend(page);
        if n < want {
            return Ok((got, true));
        }
    }
}

/// Shows a transaction unless it was shown already (the seam of the window and live ones, a
/// heal overlapping live ones). Answers false when nobody listens any more.
async fn show(state: &mut ChannelState, t: Transaction, source: TailSource, out: &mpsc::Sender<TailEvent>) -> bool {
    if state.shown.is_some_and(|s| t.id <= s) {
        return true;
    }
    state.shown = Some(t.id);
    match record(t, source) {
        Some(r) => out.send(TailEvent::Record(r)).await.is_ok(),
        None => true,
    }
}
