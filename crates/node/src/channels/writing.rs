//! A socket's writing side: frames queued for it in order with back-pressure on replies, and
//! each write watched so that a client that stops reading pins nothing (its entries are held up
//! to a bound, then it is closed to resume later).

use std::future::Future;

use axum::extract::ws::{Message, WebSocket};
use futures_util::SinkExt;
use switchyard_protocol::sc::close;
use tokio::sync::{broadcast, mpsc};

use super::queue::recv_some;
use super::{Conn, BACKLOG_BYTES, HELD_BYTES, WRITE_STALL};
use crate::outbound::Out;
use crate::store::Committed;

impl Conn {
    /// Queues a frame for the socket; what does not fit waits in `backlog`, in order (and the
    /// socket is not read meanwhile). Past BACKLOG_BYTES the client is closed (4100).
    pub(super) fn send_text(&mut self, frame: String) {
        let frame = if self.backlog.is_empty() {
            match self.out.try_send(Out::Text(frame)) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(Out::Text(frame))) => frame,
                Err(_) => return, // the socket is closing
            }
        } else {
            frame
        };
        if !self.backlog.push(frame, BACKLOG_BYTES) {
            self.overflowed = true;
        }
    }

    /// A frame already waiting for the socket, if any, the backlog moved into the queue first
    /// (so it goes out before the feed, as the queue does).
    pub(super) fn next_queued(&mut self, rx: &mut mpsc::Receiver<Out>) -> Option<super::Pending> {
        self.refill();
        super::take_queued(rx, &mut self.held, &mut self.feed)
    }

    /// Moves what waits in `backlog` into the socket's queue while it has room.
    pub(super) fn refill(&mut self) {
        while let Some(frame) = self.backlog.pop() {
            match self.out.try_send(Out::Text(frame)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(Out::Text(frame))) => {
                    self.backlog.unpop(frame);
                    return;
                }
                Err(_) => {
                    self.backlog.clear();
                    return;
                }
            }
        }
    }

    /// Whether a committed entry goes to this socket: a channel it subscribed, and not already
    /// sent from the log by a resumed subscription.
    pub(super) fn wants(&self, c: &Committed) -> bool {
        self.channels.contains(&c.channel) && (self.resumed.is_empty() || self.resumed.get(&c.channel).is_none_or(|sent| c.id > *sent))
    }

    /// Writes a frame (None: flushes). While the client does not take it, entries for this
    /// socket are taken off the feed into `held` (others are dropped at once), so the feed
    /// never waits on it. Fails with the close to give when `held` passes HELD_BYTES or the
    /// write makes no progress for WRITE_STALL; with None when the socket failed.
    pub(super) async fn write(&mut self, socket: &mut WebSocket, frame: Option<Message>) -> Result<(), Option<(u16, &'static str)>> {
        let mut write = std::pin::pin!(async {
            match frame {
                Some(frame) => socket.feed(frame).await,
                None => socket.flush().await,
            }
        });
        // The usual case: the socket takes it at once, and no timer is set.
        if let std::task::Poll::Ready(r) = std::future::poll_fn(|cx| std::task::Poll::Ready(write.as_mut().poll(cx))).await {
            return r.map_err(|_| None);
        }
        let stall = tokio::time::sleep(WRITE_STALL);
        tokio::pin!(stall);
        loop {
            tokio::select! {
                biased;
                r = write.as_mut() => return r.map_err(|_| None),
                committed = recv_some(&mut self.feed) => match committed {
                    Ok(c) => {
                        if self.wants(&c) && !self.held.push(c, HELD_BYTES) {
                            return Err(Some((close::FELL_BEHIND, "subscriber is not reading; reconnect to resume")));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => return Err(Some((close::FELL_BEHIND, "subscriber fell behind; reconnect to resume"))),
                    Err(broadcast::error::RecvError::Closed) => return Err(Some((close::GOING_AWAY, "node is shutting down"))),
                },
                _ = &mut stall => return Err(Some((close::FELL_BEHIND, "subscriber stopped reading"))),
            }
        }
    }
}
