//! What waits for one socket between the node and its client: replies past its queue, feed
//! entries held while the client is not reading (each bounded in bytes), and the next frame to
//! write, from its own queue, what was held, or the commit feed.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::value::RawValue;
use switchyard_protocol::sc::{self, name, Publication};
use tokio::sync::{broadcast, mpsc};

use crate::outbound::Out;
use crate::store::Committed;

/// What waits for a socket, in order, with its total size in bytes (what bounds it): replies
/// past the socket's queue (`backlog`, BACKLOG_BYTES) and feed entries taken off while its client
/// was not reading (`held`, HELD_BYTES); past its bound the socket is closed (4100).
pub(super) struct Waiting<T> {
    items: VecDeque<T>,
    bytes: usize,
}

/// The bytes an item holds.
pub(super) trait Weighed {
    fn weight(&self) -> usize;
}

impl Weighed for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weighed for Arc<Committed> {
    fn weight(&self) -> usize {
        self.entry.len()
    }
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Waiting { items: VecDeque::new(), bytes: 0 }
    }
}

impl<T: Weighed> Waiting<T> {
    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    /// Adds `item` last; answers whether the total is still within `bound`.
    pub(super) fn push(&mut self, item: T, bound: usize) -> bool {
        self.bytes += item.weight();
        self.items.push_back(item);
        self.bytes <= bound
    }

    /// Puts back an item just popped, first.
    pub(super) fn unpop(&mut self, item: T) {
        self.bytes += item.weight();
        self.items.push_front(item);
    }

    pub(super) fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.bytes -= item.weight();
        Some(item)
    }
}

impl Waiting<Arc<Committed>> {
    /// The next entry: a held one first, then the feed's next (never, without a feed).
    pub(super) async fn next_or(&mut self, feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Result<Arc<Committed>, broadcast::error::RecvError> {
        match self.pop() {
            Some(c) => Ok(c),
            None => recv_some(feed).await,
        }
    }
}

/// The `#publish` frame delivering one log entry (JSON text, as the store wrote it) on a channel.
pub(super) fn publish_frame(channel: &str, entry: &str) -> Option<String> {
    match RawValue::from_string(entry.to_string()) {
        Ok(data) => Some(sc::event(name::PUBLISH, &Publication { channel: channel.to_string(), data })),
        // The store writes entries as JSON; anything else is a bug, and is not sent.
        Err(e) => {
            tracing::error!(%channel, "a log entry is not JSON: {e}");
            None
        }
    }
}

/// A frame for the socket: from its own queue, or from the commit feed.
pub(super) enum Pending {
    Out(Out),
    Feed(Result<Arc<Committed>, broadcast::error::RecvError>),
}

/// The next frame for the socket, waiting for one: its own queue always before what was held
/// and the feed, so entries a resumed subscription queued from the log go out before any live
/// one (which its client would otherwise take as the newer position and drop them as seen).
pub(super) async fn next_pending(rx: &mut mpsc::Receiver<Out>, held: &mut Waiting<Arc<Committed>>, feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Pending {
    tokio::select! {
        biased;
        Some(out) = rx.recv() => Pending::Out(out),
        committed = held.next_or(feed) => Pending::Feed(committed),
    }
}

/// A frame already waiting for the socket, if any: its own queue first, then what was held,
/// then the feed.
pub(super) fn take_queued(rx: &mut mpsc::Receiver<Out>, held: &mut Waiting<Arc<Committed>>, feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Option<Pending> {
    if let Ok(out) = rx.try_recv() {
        return Some(Pending::Out(out));
    }
    if let Some(c) = held.pop() {
        return Some(Pending::Feed(Ok(c)));
    }
    match feed.as_mut().map(|f| f.try_recv()) {
        Some(Ok(c)) => Some(Pending::Feed(Ok(c))),
        Some(Err(broadcast::error::TryRecvError::Lagged(n))) => Some(Pending::Feed(Err(broadcast::error::RecvError::Lagged(n)))),
        _ => None,
    }
}

/// The next commit, or never when the socket has no feed.
pub(super) async fn recv_some(feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Result<Arc<Committed>, broadcast::error::RecvError> {
    match feed {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}
