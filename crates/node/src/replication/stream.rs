//! Streaming this node's log on one channel to a peer: the backlog from the peer's position,
//! then live. Both are the same loop: read what is after the position, send it as one batch,
//! wait for the next commit on the channel. Once a read has seen everything announced before
//! the commit feed was taken, live entries are sent from the feed as they reach the disk,
//! without reading the log again; a lag, a quiet second or a long wait for the disk goes back
//! to reading. Live traffic batches itself under load. Each batch says where it continues
//! from, so that the receiver notices one that went missing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use switchyard_protocol::sc::{self, name, Txns};
use tokio::sync::{broadcast, mpsc};

use crate::outbound::Out;
use crate::store::{Committed, Store};

/// Log rows read per batch ("a few thousand records per frame"); also the most live entries
/// kept waiting for the disk before the log is read instead.
const PAGE: i64 = 2000;

/// How long a stream waits for a commit before it reads the log again anyway.
const QUIET: Duration = Duration::from_secs(1);

/// How far a log stream got: the position sent up to, and how many entries it sent.
#[derive(Debug, Default)]
pub struct Progress {
    pub position: AtomicI64,
    pub entries: AtomicU64,
}

impl Progress {
    pub fn at(position: i64) -> Arc<Progress> {
        Arc::new(Progress { position: AtomicI64::new(position), entries: AtomicU64::new(0) })
    }
}

/// Sends `sy:txns` frames for `channel` after `from` until the receiver goes away. Entries that
/// originated at `peer` are left out. `sent` follows the position and counts the entries, for
/// cluster_status.
pub async fn stream_log(store: Arc<Store>, channel: String, peer: String, from: i64, out: mpsc::Sender<Out>, sent: Arc<Progress>) {
    let mut durable = store.watch_durable_head();
    let mut pos = from;
    sent.position.store(pos, Ordering::Relaxed);
    loop {
        // Taken before the log is read, so no commit after the read is missed.
        let mut feed = store.subscribe_commits();
        // Every entry above this reaches `feed`.
        let announced = store.announced();
        let page = match store.log_after(&channel, pos, PAGE, &peer).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%channel, %peer, "reading the log failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if page.upto == pos {
            // Nothing new up to the durable head. If the read could see every entry announced
            // before `feed` was taken, the feed holds all that comes after `pos`.
            let live = Live { channel: &channel, peer: &peer, complete: announced <= page.bound, out: &out, sent: &sent };
            match live.follow(&mut pos, &mut feed, &mut durable).await {
                Next::Read => continue,
                Next::Stop => return,
            }
        }
        let entries: Result<Vec<Box<RawValue>>, _> = page.entries.into_iter().map(RawValue::from_string).collect();
        let entries = match entries {
            Ok(e) => e,
            Err(e) => {
                // The log holds what the store wrote as JSON; anything else is a bug.
                tracing::error!(%channel, %peer, "a log entry is not JSON: {e}");
                return;
            }
        };
        // Dropped before a batch is sent: a peer that stops reading holds no commits in memory.
        drop(feed);
        if !send_txns(&out, &sent, &channel, pos, page.upto, entries).await {
            return;
        }
        pos = page.upto;
    }
}

/// Sends the channel's entries after `from` up to `upto` as one `sy:txns` frame and moves `sent`;
/// false once the receiver is gone.
async fn send_txns<E: serde::Serialize>(out: &mpsc::Sender<Out>, sent: &Progress, channel: &str, from: i64, upto: i64, entries: Vec<E>) -> bool {
    let count = entries.len() as u64;
    let frame = sc::event(name::TXNS, &Txns { channel: channel.to_string(), from, upto, entries });
    if out.send(Out::Text(frame)).await.is_err() {
        return false;
    }
    sent.position.store(upto, Ordering::Relaxed);
    sent.entries.fetch_add(count, Ordering::Relaxed);
    true
}

/// What a stream does after following the feed.
enum Next {
    /// Read the log from the position.
    Read,
    /// The receiver or the node is gone.
    Stop,
}

/// A stream following the commit feed, past a read that found nothing new.
struct Live<'a> {
    channel: &'a str,
    peer: &'a str,
    /// The feed holds every entry after the position: entries are sent from it. Otherwise the
    /// first one on disk only sends the stream back to the log.
    complete: bool,
    out: &'a mpsc::Sender<Out>,
    sent: &'a Progress,
}

impl Live<'_> {
    /// Waits for commits on the channel after `pos` and sends them as they reach the disk (see
    /// `complete`), moving `pos`; answers when the log should be read again, or the stream end.
    async fn follow(&self, pos: &mut i64, feed: &mut broadcast::Receiver<Arc<Committed>>, durable: &mut tokio::sync::watch::Receiver<i64>) -> Next {
        let quiet = tokio::time::sleep(QUIET);
        tokio::pin!(quiet);
        let mut waiting: VecDeque<Arc<Committed>> = VecDeque::new();
        loop {
            let head = *durable.borrow_and_update();
            if waiting.front().is_some_and(|c| c.id <= head) {
                if !self.complete {
                    return Next::Read;
                }
                // What is on disk, in order; the rest stays waiting.
                let on_disk = waiting.iter().take_while(|c| c.id <= head).count();
                let batch: Vec<Arc<Committed>> = waiting.drain(..on_disk).collect();
                let upto = batch.last().map_or(*pos, |c| c.id);
                if !self.send(pos, upto, &batch).await {
                    return Next::Stop;
                }
                quiet.as_mut().reset(tokio::time::Instant::now() + QUIET);
                continue;
            }
            tokio::select! {
                committed = feed.recv() => match committed {
                    Ok(c) if c.channel == self.channel && c.id > *pos => {
                        waiting.push_back(c);
                        if waiting.len() as i64 >= PAGE {
                            return Next::Read;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return Next::Read,
                    Err(broadcast::error::RecvError::Closed) => return Next::Stop,
                },
                moved = durable.changed(), if !waiting.is_empty() => {
                    if moved.is_err() {
                        return Next::Stop;
                    }
                }
                _ = &mut quiet => return Next::Read,
                // The socket or link that carried this stream is gone.
                _ = self.out.closed() => return Next::Stop,
            }
        }
    }

    /// Sends `batch` (the channel's entries after `pos` up to `upto`, on disk) as one frame,
    /// leaving out the peer's own; false once the receiver is gone.
    async fn send(&self, pos: &mut i64, upto: i64, batch: &[Arc<Committed>]) -> bool {
        let entries: Result<Vec<&RawValue>, _> = batch.iter().filter(|c| c.origin.as_deref() != Some(self.peer)).map(|c| serde_json::from_str::<&RawValue>(&c.entry)).collect();
        let entries = match entries {
            Ok(e) => e,
            Err(e) => {
                // The feed carries what the store wrote as JSON; anything else is a bug.
                tracing::error!(channel = %self.channel, peer = %self.peer, "a committed entry is not JSON: {e}");
                return false;
            }
        };
        if !send_txns(self.out, self.sent, self.channel, *pos, upto, entries).await {
            return false;
        }
        *pos = upto;
        true
    }
}
