//! The SocketCluster v2 endpoint at `/socketcluster/`: handshake, `''` ping/pong, JWT login
//! through a `login` procedure and `#setAuthToken`, `#authenticate`, `#removeAuthToken`,
//! `#subscribe`/`#unsubscribe` to `schema:table` channels fed by committed transactions, and
//! `#publish`, which is written to the table like an insert. Close codes follow the 4000 series.
//!
//! One task owns each socket. It reads the store's commit feed itself once the socket has a
//! subscription, and writes each burst of frames (publications, replies) with one flush. A
//! subscriber that falls behind the feed is closed with 4100 rather than silently missing
//! transactions.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::Extension;
use axum::response::Response;
use serde_json::Value;
use switchyard_protocol::sc::{self, close, name, Gap, ScError, Txns};
use switchyard_protocol::Channel;
use futures_util::SinkExt;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::auth::{Access, Principal};
use crate::error::Error;
use crate::connection::Connection;
use crate::outbound::{Out, READ_CHUNK};
use crate::store::{Committed, RemoteEntry, WriteMode};
use crate::Node;

mod auth;
mod inbound;
mod peers;
mod publish;
mod queue;
mod writing;
mod subscriptions;

use queue::{next_pending, publish_frame, take_queued, Pending, Waiting};

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const OUTBOUND_QUEUE: usize = 4096;
/// Publishes one socket may have waiting for their commit before it stops reading.
const PUBLISHES_IN_FLIGHT: usize = 256;
/// Log entries a `#subscribe` with `from` may be sent before going live; more are refused
/// (read them with read_transaction_log first). Below OUTBOUND_QUEUE, with room for replies.
const RESUME_MAX: usize = 2000;
/// Frames written to a socket before one flush, when more are already queued.
const FRAMES_PER_FLUSH: usize = 64;
/// Replies one socket may have waiting beyond its queue (one frame of many requests).
const BACKLOG_BYTES: usize = 16 * 1024 * 1024;
/// Publications one socket may hold while its client does not read.
const HELD_BYTES: usize = 16 * 1024 * 1024;
/// A write that makes no progress for this long ends the socket (its client resumes with `from`).
const WRITE_STALL: Duration = Duration::from_secs(10);



pub async fn upgrade(State(node): State<Arc<Node>>, connection: Option<Extension<Connection>>, ws: WebSocketUpgrade) -> Response {
    let tasks = node.tasks.clone();
    // The socket keeps its connection's slot of max_connections for as long as it is open.
    let (slot, from) = match connection {
        Some(Extension(c)) => (Some(c.hold()), Some(c.peer.ip())),
        None => (None, None),
    };
    ws.read_buffer_size(READ_CHUNK).on_upgrade(move |socket| {
        tasks.track_future(async move {
            serve(node, socket, from).await;
            drop(slot);
        })
    })
}


struct Conn {
    node: Arc<Node>,
    id: String,
    /// The client's address (throttles failed logins).
    from: Option<IpAddr>,
    handshaken: bool,
    who: Option<Principal>,
    /// When `who` came from a token: the token's expiry, at which the socket loses it.
    token_until: Option<tokio::time::Instant>,
    /// Since when a handshaken socket has had no identity (closed after the login timeout).
    anonymous_since: Option<tokio::time::Instant>,
    /// Channels this socket subscribed to; publications come from the commit feed.
    channels: HashSet<String>,
    /// Replication log streams to a peer on this socket, by channel.
    streams: HashMap<String, JoinHandle<()>>,
    out: mpsc::Sender<Out>,
    /// Replies that did not fit in `out`, in order; the socket is not read again until they
    /// are queued (back-pressure on a client that sends many requests in one frame).
    backlog: Waiting<String>,
    last_pong: Instant,
    /// Set when replies exceed what one socket may hold: the peer is closed (4100).
    overflowed: bool,
    /// Why a batch the peer pushed was refused: the socket is closed with it (4102).
    refused: Option<String>,
    /// The node name of a peer that said `sy:hello` (replication on this socket).
    peer: Option<String>,
    /// Permits for publishes not yet committed (PUBLISHES_IN_FLIGHT).
    publishing: Arc<Semaphore>,
    /// Changes to users and roles; seen before any packet is acted on.
    permissions: tokio::sync::watch::Receiver<u64>,
    /// Committed entries in commit order, from the first subscription on (dropped when none
    /// is left).
    feed: Option<broadcast::Receiver<Arc<Committed>>>,
    /// Feed entries for this socket taken off the feed while a write was stalled, in order.
    held: Waiting<Arc<Committed>>,
    /// Per channel subscribed with `from`: the last log id sent from the log; the feed's
    /// entries up to it were sent already.
    resumed: HashMap<String, i64>,
    /// Per channel a peer publishes to us: the position we asked it to resend from after a
    /// gap, until a batch applies again.
    gaps: HashMap<String, i64>,
}

/// What a socket is waiting for on its own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// A login: the socket has no identity.
    Login,
    /// Its token's expiry.
    TokenExpiry,
}

async fn serve(node: Arc<Node>, mut socket: WebSocket, from: Option<IpAddr>) {
    let (tx, mut rx) = mpsc::channel::<Out>(OUTBOUND_QUEUE);
    let shutdown = node.shutdown.clone();
    let permissions = node.auth.changes();
    let login_timeout = node.config.socket_login_timeout;
    let ping_timeout = node.config.socket_ping_timeout;
    let mut conn = Conn {
        node,
        id: uuid::Uuid::new_v4().simple().to_string(),
        from,
        handshaken: false,
        who: None,
        token_until: None,
        anonymous_since: None,
        channels: HashSet::new(),
        streams: HashMap::new(),
        out: tx,
        backlog: Waiting::default(),
        last_pong: Instant::now(),
        overflowed: false,
        refused: None,
        peer: None,
        publishing: Arc::new(Semaphore::new(PUBLISHES_IN_FLIGHT)),
        permissions,
        feed: None,
        held: Waiting::default(),
        resumed: HashMap::new(),
        gaps: HashMap::new(),
    };
    let opened = Instant::now();
    // SocketCluster's ratio: 8 s of 20. (An interval of zero would panic.)
    let ping_every = (ping_timeout * 2 / 5).max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let handshake_deadline = tokio::time::sleep(HANDSHAKE_TIMEOUT);
    tokio::pin!(handshake_deadline);
    // One timer for the login timeout and the token's expiry, moved only when they change.
    let auth_timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(auth_timer);
    let mut armed: Option<(tokio::time::Instant, Deadline)> = None;
    let close_with = loop {
        conn.refill();
        let due = conn.deadline(login_timeout);
        if due != armed {
            if let Some((at, _)) = due {
                auth_timer.as_mut().reset(at);
            }
            armed = due;
        }
        let first = tokio::select! {
            // Read only when the replies of the last frame are all queued.
            incoming = socket.recv(), if conn.backlog.is_empty() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    if let Some(code) = conn.handle(t.as_str()).await {
                        break Some((code, ""));
                    }
                    None
                }
                Some(Ok(Message::Binary(b))) => {
                    if let Some(code) = conn.handle(&String::from_utf8_lossy(&b)).await {
                        break Some((code, ""));
                    }
                    None
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                Some(Ok(_)) => None, // WebSocket-level ping/pong: answered by the library
            },
            // One branch, its own queue first: a resumed subscription's log entries wait there
            // and no live entry may overtake them.
            pending = next_pending(&mut rx, &mut conn.held, &mut conn.feed) => Some(pending),
            _ = ping.tick() => {
                if conn.last_pong.elapsed() > ping_timeout {
                    break Some((close::PONG_TIMEOUT, ""));
                }
                if socket.send(Message::Text("".into())).await.is_err() {
                    break None;
                }
                None
            }
            _ = &mut handshake_deadline, if !conn.handshaken => break Some((close::HANDSHAKE_TIMEOUT, "")),
            _ = &mut auth_timer, if armed.is_some() => match armed.map(|(_, d)| d) {
                Some(Deadline::Login) => break Some((close::LOGIN_TIMEOUT, "no login in time")),
                _ => {
                    conn.token_expired();
                    None
                }
            },
            _ = shutdown.cancelled() => break Some((close::GOING_AWAY, "node is shutting down")),
            // A user or role changed: what this socket may do is checked again at once.
            Ok(()) = conn.permissions.changed() => {
                conn.recheck().await;
                None
            }
        };
        if conn.channels.is_empty() {
            conn.feed = None;
            conn.held.clear();
            conn.resumed.clear();
        }
        // Write this frame and whatever is already queued behind it (replies first, then
        // publications), then flush once: one syscall for a burst instead of one per frame.
        // While a write waits on a client that does not read, the feed is still taken off
        // (see `Conn::write`), so the socket never pins the node's commits.
        let mut next = first;
        let mut written = 0;
        let mut close = None;
        let mut failed = false;
        let mut lingered = false;
        while let Some(pending) = next.take() {
            let frame = match pending {
                Pending::Out(Out::Text(s)) => Some(s.into()),
                Pending::Out(Out::Close(code, reason)) => {
                    close = Some((code, reason));
                    break;
                }
                Pending::Feed(Ok(c)) => conn.wants(&c).then(|| c.frame.get_or_init(|| publish_frame(&c.channel, &c.entry).unwrap_or_default().into()).clone()).filter(|f| !f.as_str().is_empty()),
                Pending::Feed(Err(broadcast::error::RecvError::Lagged(_))) => {
                    close = Some((close::FELL_BEHIND, "subscriber fell behind; reconnect to resume"));
                    break;
                }
                Pending::Feed(Err(broadcast::error::RecvError::Closed)) => {
                    close = Some((close::GOING_AWAY, "node is shutting down"));
                    break;
                }
            };
            if let Some(frame) = frame {
                match conn.write(&mut socket, Some(Message::Text(frame))).await {
                    Ok(()) => written += 1,
                    Err(stop) => {
                        failed = true;
                        close = stop;
                        break;
                    }
                }
            }
            if written < FRAMES_PER_FLUSH {
                next = conn.next_queued(&mut rx);
                if next.is_none() && written > 0 && !lingered {
                    // Let the tasks that are ready run once (other sockets, the commit in
                    // progress): what they produce for this socket goes out in the same flush.
                    lingered = true;
                    tokio::task::yield_now().await;
                    next = conn.next_queued(&mut rx);
                }
            }
        }
        if !failed && written > 0 {
            if let Err(stop) = conn.write(&mut socket, None).await {
                failed = true;
                close = stop;
            }
        }
        if failed {
            // A write that cannot go through cannot carry a close frame either.
            if let Some((code, reason)) = close {
                tracing::debug!(id = %conn.id, code, reason, "socket dropped");
            }
            break None;
        }
        if close.is_some() {
            break close;
        }
    };
    for (_, task) in conn.streams.drain() {
        task.abort();
    }
    if let Some((code, reason)) = close_with {
        // Replies already queued go out before the close: a refusal's reason reaches the peer.
        // Bounded: a client that does not read gets no close frame after WRITE_STALL.
        let _ = tokio::time::timeout(WRITE_STALL, async {
            conn.refill();
            while let Ok(Out::Text(frame)) = rx.try_recv() {
                if socket.feed(Message::Text(frame.into())).await.is_err() {
                    return;
                }
                conn.refill();
            }
            // A close frame's reason holds at most 123 bytes.
            let reason = match conn.refused.take() {
                Some(why) => why.char_indices().take_while(|(i, c)| i + c.len_utf8() <= 123).map(|(_, c)| c).collect::<String>().into(),
                None => reason.into(),
            };
            let _ = socket.send(Message::Close(Some(CloseFrame { code, reason }))).await;
        })
        .await;
    }
    tracing::debug!(id = %conn.id, secs = opened.elapsed().as_secs_f64(), "socket closed");
}

fn error_object(name: &str, message: impl Into<String>) -> ScError {
    ScError::new(name, message)
}

impl Conn {
    /// The next thing this socket waits for on its clock, if any.
    fn deadline(&self, login_timeout: Duration) -> Option<(tokio::time::Instant, Deadline)> {
        match (&self.who, self.token_until, self.anonymous_since) {
            (Some(_), Some(until), _) => Some((until, Deadline::TokenExpiry)),
            (None, _, Some(since)) if self.handshaken => Some((since + login_timeout, Deadline::Login)),
            _ => None,
        }
    }

    fn reply<T: serde::Serialize>(&mut self, cid: Option<i64>, data: Option<&T>) {
        if let Some(cid) = cid {
            self.send_text(sc::response(cid, data));
        }
    }

    /// A response without data.
    fn done(&mut self, cid: Option<i64>) {
        self.reply::<()>(cid, None);
    }

    fn fail(&mut self, cid: Option<i64>, error: ScError) {
        if let Some(cid) = cid {
            self.send_text(sc::failure(cid, &error));
        }
    }

    fn event<T: serde::Serialize>(&mut self, name: &str, data: &T) {
        self.send_text(sc::event(name, data));
    }

    /// One text frame: a ping/pong, a packet or a batch of packets. Returns a close code to end.
    async fn handle(&mut self, text: &str) -> Option<u16> {
        if text.is_empty() {
            if !self.handshaken {
                return Some(close::BEFORE_HANDSHAKE);
            }
            self.last_pong = Instant::now();
            return None;
        }
        let Some(packets) = inbound::packets(text.trim_start()) else {
            // Raw text (`#1`/`#2` of protocol v1, or anything else): no reply.
            return (!self.handshaken).then_some(close::BEFORE_HANDSHAKE);
        };
        for p in packets {
            if let Some(code) = self.packet(p).await {
                return Some(code);
            }
        }
        if self.refused.is_some() {
            return Some(close::REFUSED);
        }
        self.overflowed.then_some(close::FELL_BEHIND)
    }

    async fn packet(&mut self, p: inbound::Inbound<'_>) -> Option<u16> {
        let Some(event) = p.event else {
            // A response to a server invoke (this server sends none) or raw JSON.
            return (!self.handshaken).then_some(close::BEFORE_HANDSHAKE);
        };
        let cid = p.cid;
        // A permission change that raced with this packet is applied before it.
        if self.permissions.has_changed().unwrap_or(false) {
            self.permissions.borrow_and_update();
            self.recheck().await;
        }
        let batch = p.data;
        let data = batch.value();
        if !self.handshaken && event != "#handshake" {
            return Some(close::BEFORE_HANDSHAKE);
        }
        // Any inbound traffic counts as liveness once a quarter of the timeout has passed.
        if self.last_pong.elapsed() > self.node.config.socket_ping_timeout / 4 {
            self.last_pong = Instant::now();
        }
        match event.as_str() {
            "#handshake" => {
                if cid.is_none() {
                    return Some(close::HANDSHAKE_REJECTED);
                }
                self.handshake(cid, data).await;
            }
            "#authenticate" => {
                if cid.is_none() {
                    return Some(close::HANDSHAKE_REJECTED);
                }
                self.authenticate(cid, data).await;
            }
            "#removeAuthToken" => self.deauthenticate(),
            "#subscribe" => self.subscribe(cid, data).await,
            "#unsubscribe" => self.unsubscribe(cid, data),
            "#publish" => self.publish(cid, data).await,
            "login" => self.login(cid, data).await,
            "sy:hello" => self.peer_hello(cid, data),
            "sy:pull" => self.peer_pull(cid, data).await,
            "sy:offer" => self.peer_offer(cid, data).await,
            "sy:txns" => self.peer_txns(cid, batch).await,
            "sy:ack" => self.peer_ack(data),
            "sy:ping" => self.done(cid),
            other => self.fail(cid, error_object("InvalidActionError", format!("Unknown procedure '{other}'"))),
        }
        None
    }
}
