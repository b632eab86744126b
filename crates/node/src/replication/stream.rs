//! Streaming this node's log on one channel to a peer: the backlog from the peer's position,
//! then live. Both are the same loop: read what is after the position, send it as one batch,
//! wait for the next commit on the channel. Live traffic batches itself under load. Each batch
//! says where it continues from, so that the receiver notices one that went missing.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use switchyard_protocol::sc::{self, name, Txns};
use tokio::sync::{broadcast, mpsc};

use crate::outbound::Out;
use crate::store::Store;

/// Log rows read per batch ("a few thousand records per frame").
const PAGE: i64 = 2000;

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
        // Taken before the log is read, so no commit after the read is missed; dropped before a
        // batch is sent, so a peer that stops reading holds no commits of the node in memory.
        let mut feed = store.subscribe_commits();
        let page = match store.log_after(&channel, pos, PAGE, &peer).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%channel, %peer, "reading the log failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if page.upto == pos {
            // Nothing new: wait for a commit on this channel and then for it to be on disk (the
            // log is read only up to the durable head). A lag or a quiet second rereads.
            let quiet = tokio::time::sleep(Duration::from_secs(1));
            tokio::pin!(quiet);
            let mut wanted: Option<i64> = None;
            loop {
                if wanted.is_some_and(|id| *durable.borrow_and_update() >= id) {
                    break;
                }
                tokio::select! {
                    committed = feed.recv(), if wanted.is_none() => match committed {
                        Ok(c) if c.channel == channel => wanted = Some(c.id),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    moved = durable.changed(), if wanted.is_some() => {
                        if moved.is_err() {
                            return;
                        }
                    }
                    _ = &mut quiet => break,
                    // The socket or link that carried this stream is gone.
                    _ = out.closed() => return,
                }
            }
            continue;
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
        let count = entries.len() as u64;
        let frame = sc::event(name::TXNS, &Txns { channel: channel.clone(), from: pos, upto: page.upto, entries });
        pos = page.upto;
        drop(feed);
        if out.send(Out::Text(frame)).await.is_err() {
            return;
        }
        sent.position.store(pos, Ordering::Relaxed);
        sent.entries.fetch_add(count, Ordering::Relaxed);
    }
}
