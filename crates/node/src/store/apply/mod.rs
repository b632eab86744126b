//! The storage side of replication, as a receiver: a peer's entries applied idempotently, in
//! order, with last-writer-wins by exact version, in one transaction with the peer's position,
//! in two round trips to SQLite whatever the batch holds (read, then write and commit).

mod plan;
mod record;
mod script;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::digest::{self, Changes};
use super::value::key_text;
use super::{LogEntry, Store, TableMeta};
use crate::error::{Error, Result};
use plan::Received;
use script::Source;

/// One entry received from a peer.
#[derive(Debug, Deserialize)]
pub struct RemoteEntry {
    pub origin: String,
    pub origin_id: i64,
    pub operation: String,
    pub ts: f64,
    /// The write's version at its origin: required (an entry without one cannot be ordered, and
    /// is refused rather than given a default).
    pub version: i64,
    /// Kept as the sender's text: logged as is, parsed once for applying.
    #[serde(default)]
    pub records: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub ids: Option<Vec<Value>>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    /// Entries written (and logged, so forwarded further).
    pub applied: usize,
    /// Entries seen before (another path, or a replay) and skipped.
    pub duplicates: usize,
}

/// Resolves once a commit made without an fsync is on disk (or with why it may not be).
pub struct OnDisk(tokio::sync::oneshot::Receiver<Result<()>>);

impl std::future::Future for OnDisk {
    type Output = Result<()>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<()>> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| r.unwrap_or_else(|_| Err(Error::Internal("the durability barrier went away".into()))))
    }
}

impl Store {
    /// Makes sure the table a channel needs exists, with the given primary key.
    pub async fn ensure_table(&self, database: &str, table: &str, primary_key: &str) -> Result<()> {
        match self.table(database, table) {
            Ok(_) => Ok(()),
            Err(Error::NotFound(_)) => match self.create_table(database, table, primary_key, None, None).await {
                Ok(_) => Ok(()),
                // Created meanwhile by another writer: what counts is that it exists now.
                Err(e) => self.table(database, table).map(|_| ()).map_err(|_| e),
            },
            Err(e) => Err(e),
        }
    }

    /// Applies entries from `peer` on `channel` and records `upto` as the position, all in one
    /// transaction. Each applied entry is logged with its original origin, so it flows on.
    /// `from` is where the batch continues from in the peer's log: a batch starting after the
    /// position stored for the peer would skip what lies between (and its entries would then
    /// mark the skipped ones as seen), so it is refused with `Error::Gap` and nothing is written.
    ///
    /// `relay` names the limited user a peer pushed the batch as (None for a trusted peer: a
    /// super or cluster user, or a peer this node dials): its entries are checked against, and
    /// move, that path's positions only (see migration 0007).
    ///
    /// The transaction skips SQLite's fsync (`synchronous = NORMAL`, as the group commit does):
    /// what it wrote is visible and announced at commit, and this answers once the durability
    /// barrier has synced it, so the peer is acknowledged only what is on disk here, while a
    /// reader here does not wait for the disk.
    pub async fn apply_remote(&self, peer: &str, channel: &str, entries: Vec<RemoteEntry>, from: i64, upto: i64, relay: Option<&str>) -> Result<Applied> {
        let (result, on_disk) = self.apply_remote_unsynced(peer, channel, entries, from, upto, relay).await?;
        on_disk.await?;
        Ok(result)
    }

    /// `apply_remote` without waiting for the disk: answers once committed (visible, announced),
    /// with what resolves once that commit is on disk. A receiver can apply its next batch
    /// meanwhile; commits reach the disk in order, so an ack sent as each resolves is exact.
    pub async fn apply_remote_unsynced(&self, peer: &str, channel: &str, entries: Vec<RemoteEntry>, from: i64, upto: i64, relay: Option<&str>) -> Result<(Applied, OnDisk)> {
        let parsed: switchyard_protocol::Channel = channel.parse().map_err(Error::BadRequest)?;
        // The unsynced connection: its commit is queued on the barrier while the turn is held.
        let mut w = self.unsynced_writer().await?;
        let meta = self.table(&parsed.database, &parsed.table)?;
        let source = Source { peer, channel, relay };
        let mut txn = w.script_txn();
        let (applied, log, learnt) = match self.apply_segments(txn.conn(), meta, &source, entries, from, upto).await {
            Ok(done) => {
                txn.ended();
                done
            }
            Err(e) => {
                txn.rollback().await;
                return Err(e);
            }
        };
        if let Some(next) = learnt {
            self.replace_meta(next);
        }
        let logged: Vec<LogEntry> = log
            .iter()
            .map(|e| LogEntry {
                id: e.id,
                origin: &e.origin,
                origin_id: e.origin_id,
                channel,
                operation: &e.operation,
                user: None,
                ts: e.ts,
                version: e.version,
                records: &e.payload,
            })
            .collect();
        let (synced, on_disk) = tokio::sync::oneshot::channel();
        self.announce_unsynced(
            &logged,
            Box::new(move |r| {
                let _ = synced.send(r);
            }),
        );
        Ok((applied, OnDisk(on_disk)))
    }

    /// Applies the batch in one transaction, segment by segment (about SEGMENT_BYTES of records
    /// each, whole entries): each segment is parsed, read (the first read opens the
    /// transaction), planned against what the segments before it wrote, and written (the last
    /// write commits); the next segment is parsed while SQLite writes this one. A batch of a few
    /// entries is one segment: two round trips. Answers what was applied, the log entries
    /// appended and the table's next metadata, if it learnt attributes.
    async fn apply_segments(
        &self,
        conn: &mut sqlx::SqliteConnection,
        mut meta: Arc<TableMeta>,
        source: &Source<'_>,
        entries: Vec<RemoteEntry>,
        from: i64,
        upto: i64,
    ) -> Result<(Applied, Vec<plan::LogRow>, Option<TableMeta>)> {
        let mut applied = Applied::default();
        let mut log = Vec::new();
        let mut learnt = None;
        // Digest and count move once for the whole batch, in its last segment.
        let mut changes = Changes::default();
        let (mut count, mut last_ts) = (0i64, None);
        let mut segments = segments(entries).into_iter();
        let last = segments.len() - 1;
        // Parsing needs the table's primary key only, which learning attributes never changes.
        let keyed = meta.clone();
        let parse = |segment: Vec<RemoteEntry>| -> Vec<Received> { segment.into_iter().map(|e| Received::parse(&keyed, &self.node_name, e)).collect() };
        let mut next = segments.next().map(parse);
        let mut i = 0;
        while let Some(received) = next.take() {
            let mut found = {
                let mut origins: Vec<&str> = Vec::new();
                let mut keys: Vec<&Value> = Vec::new();
                let mut named = HashSet::new();
                for r in &received {
                    if r.entry.origin != self.node_name && !origins.contains(&r.entry.origin.as_str()) {
                        origins.push(&r.entry.origin);
                    }
                    keys.extend(r.keys().into_iter().filter(|k| named.insert(key_text(k))));
                }
                // The last segment reads the digest parts the whole batch may touch.
                let mut parts = BTreeSet::new();
                if i == last {
                    parts.extend(changes.parts().remove(&meta.id).unwrap_or_default());
                    parts.extend(named.iter().map(|kt| digest::part_of(digest::bucket_of(kt))));
                }
                script::read(conn, &meta, source, &origins, &keys, i == 0, &parts).await?
            };
            if i == 0 && from > found.peer_at {
                return Err(Error::Gap { channel: source.channel.to_string(), at: found.peer_at, from });
            }
            let stored_parts = (i == last).then(|| std::mem::take(&mut found.parts));
            let mut planned = plan::plan(&meta, &self.node_name, received, found, |v| self.clock.observe(v))?;
            changes.absorb(std::mem::take(&mut planned.changes));
            count += planned.count_delta;
            last_ts = planned.last_ts.or(last_ts);
            applied.applied += planned.applied;
            applied.duplicates += planned.duplicates;
            let finish = match stored_parts {
                Some(stored) => Some(script::Finish {
                    upto,
                    count: (applied.applied > 0).then_some((count, last_ts)),
                    parts: std::mem::take(&mut changes).merged(&stored)?,
                }),
                None => None,
            };
            // The write starts on SQLite's thread, and this one parses the next segment meanwhile.
            let written = {
                let mut write = std::pin::pin!(script::write(conn, &meta, source, &planned, finish));
                let started = std::future::poll_fn(|cx| std::task::Poll::Ready(std::future::Future::poll(write.as_mut(), cx))).await;
                next = segments.next().map(parse);
                match started {
                    std::task::Poll::Ready(w) => w,
                    std::task::Poll::Pending => write.await,
                }
            };
            if let Some(learnt_meta) = written? {
                meta = Arc::new(learnt_meta.clone());
                learnt = Some(learnt_meta);
            }
            log.extend(planned.log);
            i += 1;
        }
        Ok((applied, log, learnt))
    }
}

/// Bytes of records (as received) a segment of a batch holds at most, unless one entry is
/// larger: big enough that a segment's round trips are few, small enough that what it parses
/// stays in the processor's cache while it is planned and written.
const SEGMENT_BYTES: usize = 64 * 1024;

/// A batch cut into segments of whole entries, in order; at least one (perhaps empty).
fn segments(entries: Vec<RemoteEntry>) -> Vec<Vec<RemoteEntry>> {
    let mut out: Vec<Vec<RemoteEntry>> = vec![Vec::new()];
    let mut bytes = 0;
    for e in entries {
        let size = e.records.as_ref().map_or(0, |r| r.get().len());
        if bytes + size > SEGMENT_BYTES && out.last().is_some_and(|s| !s.is_empty()) {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(s) = out.last_mut() {
            s.push(e);
        }
    }
    out
}
