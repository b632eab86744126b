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
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use serde_json::value::RawValue;
use switchyard_protocol::sc::{self, close, name, Gap, Publication, Txns};
use switchyard_protocol::Channel;
use futures_util::SinkExt;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::auth::{Access, Principal};
use crate::error::Error;
use crate::store::{Committed, RemoteEntry, WriteMode};
use crate::Node;

/// Server pings every PING_INTERVAL; a client that has not answered within PING_TIMEOUT is closed.
pub const PING_INTERVAL: Duration = Duration::from_secs(8);
pub const PING_TIMEOUT: Duration = Duration::from_secs(20);
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const OUTBOUND_QUEUE: usize = 4096;
/// Publishes one socket may have waiting for their commit before it stops reading.
const PUBLISHES_IN_FLIGHT: usize = 256;
/// Log entries a `#subscribe` with `from` may be sent before going live; more are refused
/// (read them with read_transaction_log first). Below OUTBOUND_QUEUE, with room for replies.
const RESUME_MAX: usize = 2000;
/// Frames written to a socket before one flush, when more are already queued.
const FRAMES_PER_FLUSH: usize = 64;


/// Bytes read from a socket at a time. The WebSocket library zeroes this much before every read
/// attempt, even one that finds nothing (each time a subscriber's task wakes for the feed), so
/// its 128 KiB default costs more than the read itself; large frames just take more reads.
pub const READ_CHUNK: usize = 4 * 1024;

pub async fn upgrade(State(node): State<Arc<Node>>, ws: WebSocketUpgrade) -> Response {
    let tasks = node.tasks.clone();
    ws.read_buffer_size(READ_CHUNK).on_upgrade(move |socket| tasks.track_future(serve(node, socket)))
}

/// What a socket's task sends: a frame or a close.
pub enum Out {
    Text(String),
    Close(u16, &'static str),
}

struct Conn {
    node: Arc<Node>,
    id: String,
    handshaken: bool,
    who: Option<Principal>,
    /// Channels this socket subscribed to; publications come from the commit feed.
    channels: HashSet<String>,
    /// Replication log streams to a peer on this socket, by channel.
    streams: HashMap<String, JoinHandle<()>>,
    out: mpsc::Sender<Out>,
    last_pong: Instant,
    /// Set when a reply could not be queued: the peer is not reading, so it is closed (4100).
    overflowed: bool,
    /// The node name of a peer that said `sy:hello` (replication on this socket).
    peer: Option<String>,
    /// Permits for publishes not yet committed (PUBLISHES_IN_FLIGHT).
    publishing: Arc<Semaphore>,
    /// Changes to users and roles; seen before any packet is acted on.
    permissions: tokio::sync::watch::Receiver<u64>,
    /// Committed entries in commit order, from the first subscription on (dropped when none
    /// is left).
    feed: Option<broadcast::Receiver<Arc<Committed>>>,
    /// Per channel subscribed with `from`: the last log id sent from the log; the feed's
    /// entries up to it were sent already.
    resumed: HashMap<String, i64>,
    /// Per channel a peer publishes to us: the position we asked it to resend from after a
    /// gap, until a batch applies again.
    gaps: HashMap<String, i64>,
}

async fn serve(node: Arc<Node>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::channel::<Out>(OUTBOUND_QUEUE);
    let shutdown = node.shutdown.clone();
    let permissions = node.auth.changes();
    let mut conn = Conn {
        node,
        id: uuid::Uuid::new_v4().simple().to_string(),
        handshaken: false,
        who: None,
        channels: HashSet::new(),
        streams: HashMap::new(),
        out: tx,
        last_pong: Instant::now(),
        overflowed: false,
        peer: None,
        publishing: Arc::new(Semaphore::new(PUBLISHES_IN_FLIGHT)),
        permissions,
        feed: None,
        resumed: HashMap::new(),
        gaps: HashMap::new(),
    };
    let opened = Instant::now();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let handshake_deadline = tokio::time::sleep(HANDSHAKE_TIMEOUT);
    tokio::pin!(handshake_deadline);
    let close_with = loop {
        let first = tokio::select! {
            incoming = socket.recv() => match incoming {
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
            Some(out) = rx.recv() => Some(Pending::Out(out)),
            committed = recv_some(&mut conn.feed) => Some(Pending::Feed(committed)),
            _ = ping.tick() => {
                if conn.last_pong.elapsed() > PING_TIMEOUT {
                    break Some((close::PONG_TIMEOUT, ""));
                }
                if socket.send(Message::Text("".into())).await.is_err() {
                    break None;
                }
                None
            }
            _ = &mut handshake_deadline, if !conn.handshaken => break Some((close::HANDSHAKE_TIMEOUT, "")),
            _ = shutdown.cancelled() => break Some((close::GOING_AWAY, "node is shutting down")),
            // A user or role changed: what this socket may do is checked again at once.
            Ok(()) = conn.permissions.changed() => {
                conn.recheck().await;
                None
            }
        };
        if conn.channels.is_empty() {
            conn.feed = None;
            conn.resumed.clear();
        }
        // Write this frame and whatever is already queued behind it (replies first, then
        // publications), then flush once: one syscall for a burst instead of one per frame.
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
                // Entries a resumed subscription already got from the log are not sent again.
                Pending::Feed(Ok(c)) => (conn.channels.contains(&c.channel) && (conn.resumed.is_empty() || conn.resumed.get(&c.channel).is_none_or(|sent| c.id > *sent)))
                    .then(|| c.frame.get_or_init(|| publish_frame(&c.channel, &c.entry).unwrap_or_default().into()).clone())
                    .filter(|f| !f.as_str().is_empty()),
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
                if socket.feed(Message::Text(frame)).await.is_err() {
                    failed = true;
                    break;
                }
                written += 1;
            }
            if written < FRAMES_PER_FLUSH {
                next = take_queued(&mut rx, &mut conn.feed);
                if next.is_none() && written > 0 && !lingered {
                    // Let the tasks that are ready run once (other sockets, the commit in
                    // progress): what they produce for this socket goes out in the same flush.
                    lingered = true;
                    tokio::task::yield_now().await;
                    next = take_queued(&mut rx, &mut conn.feed);
                }
            }
        }
        if failed || (written > 0 && socket.flush().await.is_err()) {
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
        while let Ok(Out::Text(frame)) = rx.try_recv() {
            if socket.feed(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
        let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
    tracing::debug!(id = %conn.id, secs = opened.elapsed().as_secs_f64(), "socket closed");
}

/// The `#publish` frame delivering one log entry (JSON text, as the store wrote it) on a channel.
fn publish_frame(channel: &str, entry: &str) -> Option<String> {
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
enum Pending {
    Out(Out),
    Feed(Result<Arc<Committed>, broadcast::error::RecvError>),
}

/// A frame already waiting for the socket, if any: its own queue first, then the feed.
fn take_queued(rx: &mut mpsc::Receiver<Out>, feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Option<Pending> {
    match rx.try_recv() {
        Ok(out) => Some(Pending::Out(out)),
        Err(_) => match feed.as_mut().map(|f| f.try_recv()) {
            Some(Ok(c)) => Some(Pending::Feed(Ok(c))),
            Some(Err(broadcast::error::TryRecvError::Lagged(n))) => Some(Pending::Feed(Err(broadcast::error::RecvError::Lagged(n)))),
            _ => None,
        },
    }
}

/// The next commit, or never when the socket has no feed.
async fn recv_some(feed: &mut Option<broadcast::Receiver<Arc<Committed>>>) -> Result<Arc<Committed>, broadcast::error::RecvError> {
    match feed {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}

fn error_object(name: &str, message: impl Into<String>) -> Value {
    json!({ "name": name, "message": message.into() })
}

impl Conn {
    fn send(&mut self, v: Value) {
        if self.out.try_send(Out::Text(v.to_string())).is_err() {
            self.overflowed = true;
        }
    }

    fn send_text(&mut self, frame: String) {
        if self.out.try_send(Out::Text(frame)).is_err() {
            self.overflowed = true;
        }
    }

    fn reply(&mut self, cid: Option<i64>, data: Option<Value>) {
        if let Some(cid) = cid {
            match data {
                Some(d) => self.send(json!({ "rid": cid, "data": d })),
                None => self.send(json!({ "rid": cid })),
            }
        }
    }

    fn fail(&mut self, cid: Option<i64>, error: Value) {
        if let Some(cid) = cid {
            self.send(json!({ "rid": cid, "error": error }));
        }
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
        let trimmed = text.trim_start();
        let parsed = if trimmed.starts_with('{') || trimmed.starts_with('[') { serde_json::from_str::<Value>(trimmed).ok() } else { None };
        let packets = match parsed {
            Some(Value::Array(items)) => items,
            Some(v @ Value::Object(_)) => vec![v],
            _ => {
                // Raw text (`#1`/`#2` of protocol v1, or anything else): no reply.
                return (!self.handshaken).then_some(close::BEFORE_HANDSHAKE);
            }
        };
        for p in packets {
            if let Some(code) = self.packet(p).await {
                return Some(code);
            }
        }
        self.overflowed.then_some(close::FELL_BEHIND)
    }

    async fn packet(&mut self, p: Value) -> Option<u16> {
        let Some(event) = p.get("event").and_then(Value::as_str).map(str::to_string) else {
            // A response to a server invoke (this server sends none) or raw JSON.
            return (!self.handshaken).then_some(close::BEFORE_HANDSHAKE);
        };
        let cid = p.get("cid").filter(|c| c.is_number()).and_then(Value::as_i64);
        // A permission change that raced with this packet is applied before it.
        if self.permissions.has_changed().unwrap_or(false) {
            self.permissions.borrow_and_update();
            self.recheck().await;
        }
        let data = p.get("data").cloned().unwrap_or(Value::Null);
        if !self.handshaken && event != "#handshake" {
            return Some(close::BEFORE_HANDSHAKE);
        }
        // Any inbound traffic counts as liveness once a quarter of the timeout has passed.
        if self.last_pong.elapsed() > PING_TIMEOUT / 4 {
            self.last_pong = Instant::now();
        }
        match event.as_str() {
            "#handshake" => {
                if cid.is_none() {
                    return Some(close::HANDSHAKE_REJECTED);
                }
                self.handshake(cid, &data).await;
            }
            "#authenticate" => {
                if cid.is_none() {
                    return Some(close::HANDSHAKE_REJECTED);
                }
                self.authenticate(cid, &data).await;
            }
            "#removeAuthToken" => self.deauthenticate(),
            "#subscribe" => self.subscribe(cid, &data).await,
            "#unsubscribe" => self.unsubscribe(cid, &data),
            "#publish" => self.publish(cid, &data).await,
            "login" => self.login(cid, &data).await,
            "sy:hello" => self.peer_hello(cid, &data),
            "sy:pull" => self.peer_pull(cid, &data).await,
            "sy:offer" => self.peer_offer(cid, &data).await,
            "sy:txns" => self.peer_txns(cid, data).await,
            "sy:ack" => self.peer_ack(&data),
            "sy:ping" => self.reply(cid, None),
            other => self.fail(cid, error_object("InvalidActionError", format!("Unknown procedure '{other}'"))),
        }
        None
    }

    async fn handshake(&mut self, cid: Option<i64>, data: &Value) {
        self.handshaken = true;
        self.last_pong = Instant::now();
        let mut reply = json!({ "id": self.id, "pingTimeout": PING_TIMEOUT.as_millis() as u64 });
        let mut bad_token = false;
        match data.get("authToken") {
            None | Some(Value::Null) => {}
            Some(Value::String(token)) => match self.node.auth.bearer(token).await {
                Ok(p) => self.who = Some(p),
                Err(_) => {
                    reply["authError"] = json!({ "message": "invalid token", "name": "AuthTokenInvalidError", "isBadToken": true });
                    bad_token = true;
                }
            },
            Some(_) => {
                reply["authError"] = json!({ "message": "Invalid token format - Token must be a string", "name": "AuthTokenError", "isBadToken": true });
                bad_token = true;
            }
        }
        reply["isAuthenticated"] = json!(self.who.is_some());
        self.reply(cid, Some(reply));
        if bad_token {
            self.send(json!({ "event": "#removeAuthToken" }));
        }
    }

    async fn authenticate(&mut self, cid: Option<i64>, data: &Value) {
        let token = data.as_str().unwrap_or("");
        match self.node.auth.bearer(token).await {
            Ok(p) => {
                self.who = Some(p);
                self.reply(cid, Some(json!({ "isAuthenticated": true, "authError": null })));
            }
            Err(_) => {
                self.fail(cid, json!({ "message": "invalid token", "name": "AuthTokenInvalidError", "isBadToken": true }));
                self.deauthenticate();
                self.send(json!({ "event": "#removeAuthToken" }));
            }
        }
    }

    /// Loses the identity and with it every subscription, each announced with `#kickOut`.
    fn deauthenticate(&mut self) {
        self.who = None;
        self.peer = None;
        for (_, task) in self.streams.drain() {
            task.abort();
        }
        let dropped: Vec<String> = self.channels.drain().collect();
        for channel in dropped {
            self.send(json!({ "event": "#kickOut", "data": { "channel": channel, "message": "authentication was removed" } }));
        }
    }

    /// Users or roles changed: reloads this socket's user. A dropped or deactivated user loses
    /// its identity (every channel kicked out, `#removeAuthToken`); a user whose role no longer
    /// reads a channel is kicked out of it; later publishes are checked against the new role;
    /// a replication peer that is no longer a super or cluster user loses its streams.
    async fn recheck(&mut self) {
        self.permissions.borrow_and_update();
        let Some(old) = self.who.clone() else { return };
        let current = match self.node.auth.principal(&old.username).await {
            Ok(p) => p,
            Err(e) => {
                // Cannot tell: fail closed.
                self.node.log.error(&["auth", "socket"], format!("re-checking '{}' failed: {e}", old.username));
                None
            }
        };
        let Some(who) = current else {
            self.node.log.info(&["auth", "socket"], format!("user '{}' is gone: its socket is logged out", old.username));
            self.deauthenticate();
            self.send(json!({ "event": "#removeAuthToken" }));
            return;
        };
        let lost: Vec<String> = self
            .channels
            .iter()
            .filter(|c| match c.parse::<Channel>() {
                Ok(ch) => !who.allows(&ch.database, &ch.table, Access::Read),
                Err(_) => true,
            })
            .cloned()
            .collect();
        for channel in lost {
            self.channels.remove(&channel);
            let message = format!("user '{}' may no longer read {channel}", who.username);
            self.send(json!({ "event": "#kickOut", "data": { "channel": channel, "message": message } }));
        }
        if self.peer.is_some() && !(who.is_super() || who.role.cluster_user()) {
            self.peer = None;
            for (_, task) in self.streams.drain() {
                task.abort();
            }
        }
        self.who = Some(who);
    }

    async fn login(&mut self, cid: Option<i64>, data: &Value) {
        let (Some(user), Some(password)) = (data.get("username").and_then(Value::as_str), data.get("password").and_then(Value::as_str)) else {
            self.fail(cid, error_object("LoginError", "login needs {\"username\", \"password\"}"));
            return;
        };
        let principal = match self.node.auth.login(user, password).await {
            Ok(p) => p,
            Err(_) => {
                self.node.log.info(&["auth", "socket"], format!("socket login failed for user '{user}'"));
                self.fail(cid, error_object("LoginError", "Invalid username or password"));
                return;
            }
        };
        match self.node.auth.issue_tokens(&principal) {
            Ok(tokens) => {
                self.reply(cid, Some(json!({ "username": principal.username })));
                self.send(json!({ "event": "#setAuthToken", "data": { "token": tokens.operation_token } }));
                self.who = Some(principal);
            }
            Err(e) => self.fail(cid, error_object("AuthError", e.to_string())),
        }
    }

    /// The channel named in `data`, and whether `who` may use it for `access`.
    fn channel_access(&self, data: &Value, needs: &[Access], verb: &str) -> Result<(Channel, Principal), Value> {
        let name = data.get("channel").and_then(Value::as_str).ok_or_else(|| {
            let what = if verb == "subscribe" { "Subscribe" } else { "Publish" };
            error_object("InvalidActionError", format!("{what} channel name was malformatted"))
        })?;
        let Some(who) = self.who.clone() else {
            let name_kind = if verb == "subscribe" { "SubscribeAuthError" } else { "PublishAuthError" };
            return Err(error_object(name_kind, format!("You must be logged in to {verb} to {name}")));
        };
        let channel: Channel = name.parse().map_err(|e: String| error_object("InvalidActionError", e))?;
        if let Err(e) = self.node.store.table(&channel.database, &channel.table) {
            return Err(error_object("InvalidActionError", e.to_string()));
        }
        if let Some(missing) = needs.iter().find(|a| !who.allows(&channel.database, &channel.table, **a)) {
            let needed = missing.key();
            let name_kind = if verb == "subscribe" { "SubscribeAuthError" } else { "PublishAuthError" };
            return Err(error_object(name_kind, format!("user '{}' needs {needed} permission on {}.{}", who.username, channel.database, channel.table)));
        }
        Ok((channel, who))
    }

    /// `#subscribe {channel[, from]}`. With `from` (a transaction id, an extension of the
    /// protocol) the entries after it are sent from the log before the live ones, with no gap
    /// and no duplicate at the seam: the feed is taken first, the log read up to what is
    /// committed, and feed entries up to the last one read are skipped.
    async fn subscribe(&mut self, cid: Option<i64>, data: &Value) {
        let from = match data.get("from") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64().filter(|f| *f >= 0) {
                Some(f) => Some(f),
                None => return self.fail(cid, error_object("InvalidActionError", "Subscribe 'from' must be a transaction id (an integer from 0)")),
            },
        };
        let channel = match self.channel_access(data, &[Access::Read], "subscribe") {
            Ok((c, _)) => c.to_string(),
            Err(e) => return self.fail(cid, e),
        };
        if self.feed.is_none() {
            self.feed = Some(self.node.store.subscribe_commits());
        }
        let Some(from) = from else {
            self.channels.insert(channel);
            return self.reply(cid, None);
        };
        // Pages (each at most about a megabyte) until one finds nothing more.
        let (mut entries, mut sent_upto) = (Vec::new(), from);
        while entries.len() <= RESUME_MAX {
            let page = match self.node.store.log_committed_after(&channel, sent_upto, (RESUME_MAX + 1 - entries.len()) as i64).await {
                Ok(p) => p,
                Err(e) => return self.fail(cid, error_object("BrokerError", e.to_string())),
            };
            if page.upto == sent_upto {
                break;
            }
            sent_upto = page.upto;
            entries.extend(page.entries);
        }
        if entries.len() > RESUME_MAX {
            let message = format!(
                "more than {RESUME_MAX} transactions follow {from} on {channel}; read them with read_transaction_log and \
                 subscribe from a later id"
            );
            return self.fail(cid, error_object("ResumeTooFarError", message));
        }
        self.channels.insert(channel.clone());
        self.reply(cid, None);
        for entry in &entries {
            let Some(frame) = publish_frame(&channel, entry) else { continue };
            if self.out.try_send(Out::Text(frame)).is_err() {
                self.overflowed = true;
                return;
            }
        }
        self.resumed.insert(channel, sent_upto);
    }

    fn unsubscribe(&mut self, cid: Option<i64>, data: &Value) {
        let channel = data.as_str().or_else(|| data.get("channel").and_then(Value::as_str)).unwrap_or("");
        self.resumed.remove(channel);
        match self.channels.remove(channel) {
            true => self.reply(cid, None),
            false => self.fail(cid, error_object("BrokerError", format!("Failed to unsubscribe socket from the never-subscribed channel {channel}"))),
        }
    }

    /// A peer node introduces itself; only super users and cluster users may replicate.
    fn peer_hello(&mut self, cid: Option<i64>, data: &Value) {
        let Some(who) = &self.who else {
            return self.fail(cid, error_object("AuthError", "log in before sy:hello"));
        };
        if !(who.is_super() || who.role.cluster_user()) {
            let msg = format!("user '{}' is neither a super user nor a cluster user", who.username);
            return self.fail(cid, error_object("AuthError", msg));
        }
        let Some(name) = data.get("node_name").and_then(Value::as_str) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:hello needs node_name"));
        };
        self.peer = Some(name.to_string());
        self.node.log.info(&["replication"], format!("peer '{name}' connected as '{}'", who.username));
        let me = self.node.config.node_name.clone();
        self.reply(cid, Some(json!({ "node_name": me })));
    }

    fn peer_channel(&mut self, cid: Option<i64>, data: &Value) -> Option<(String, Channel)> {
        let Some(peer) = self.peer.clone() else {
            self.fail(cid, error_object("AuthError", "say sy:hello first"));
            return None;
        };
        match data.get("channel").and_then(Value::as_str).map(str::parse::<Channel>) {
            Some(Ok(c)) => Some((peer, c)),
            _ => {
                self.fail(cid, error_object("InvalidArgumentsError", "a channel 'database:table' is required"));
                None
            }
        }
    }

    /// The peer subscribes: stream our log on the channel from its position, backlog then live.
    async fn peer_pull(&mut self, cid: Option<i64>, data: &Value) {
        let Some((peer, channel)) = self.peer_channel(cid, data) else { return };
        let meta = match self.node.store.table(&channel.database, &channel.table) {
            Ok(m) => m,
            Err(e) => return self.fail(cid, error_object("InvalidArgumentsError", e.to_string())),
        };
        let Some(from) = data.get("from").and_then(Value::as_i64) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:pull needs 'from', the position to continue after"));
        };
        // The peer holds our log up to where it asks to continue.
        self.node.acks.record(&peer, &channel.to_string(), from);
        let key = format!("sy:{channel}");
        if let Some(old) = self.streams.remove(&key) {
            old.abort();
        }
        let sent = Arc::new(std::sync::atomic::AtomicI64::new(from));
        let task = self.node.tasks.spawn(crate::replication::stream::stream_log(self.node.store.clone(), channel.to_string(), peer, from, self.out.clone(), sent));
        self.streams.insert(key, task);
        let pk = meta.primary_key.clone();
        self.reply(cid, Some(json!({ "primary_key": pk })));
    }

    /// The peer will publish to us: make sure the table exists and tell it where we stand.
    async fn peer_offer(&mut self, cid: Option<i64>, data: &Value) {
        let Some((peer, channel)) = self.peer_channel(cid, data) else { return };
        let Some(pk) = data.get("primary_key").and_then(Value::as_str) else {
            return self.fail(cid, error_object("InvalidArgumentsError", "sy:offer needs the table's 'primary_key'"));
        };
        let prepared = match self.node.store.ensure_table(&channel.database, &channel.table, pk).await {
            Ok(()) => self.node.store.peer_position(&peer, &channel.to_string()).await,
            Err(e) => Err(e),
        };
        match prepared {
            Ok(from) => self.reply(cid, Some(json!({ "from": from }))),
            Err(e) => self.fail(cid, error_object("InvalidArgumentsError", e.to_string())),
        }
    }

    /// The peer applied our log on a channel up to a position (see `replication::acks`).
    fn peer_ack(&mut self, data: &Value) {
        let (Some(peer), Some(channel), Some(upto)) = (self.peer.as_deref(), data.get("channel").and_then(Value::as_str), data.get("upto").and_then(Value::as_i64)) else {
            return;
        };
        self.node.acks.record(peer, channel, upto);
    }

    /// A batch the peer publishes to us. One that skips past where we stand is refused and the
    /// peer asked (once per position) to resend from there.
    async fn peer_txns(&mut self, cid: Option<i64>, data: Value) {
        let Some(peer) = self.peer.clone() else {
            return self.fail(cid, error_object("AuthError", "say sy:hello first"));
        };
        let batch: Txns<RemoteEntry> = match serde_json::from_value(data) {
            Ok(b) => b,
            Err(e) => {
                self.node.log.error(&["replication"], format!("a malformed batch from '{peer}' was refused: {e}"));
                self.fail(cid, error_object("InvalidArgumentsError", format!("malformed sy:txns: {e}")));
                self.overflowed = true; // close: the peer reconnects and resends from our position
                return;
            }
        };
        match crate::replication::apply_batch(&self.node.store, &peer, batch).await {
            Ok(ack) => {
                self.reply(cid, None);
                self.gaps.remove(&ack.channel);
                self.send_text(sc::event(name::ACK, &ack));
            }
            Err(Error::Gap { channel, at, from }) => {
                if self.gaps.get(&channel) != Some(&at) {
                    self.node.log.warn(&["replication"], format!("a batch from '{peer}' on {channel} continues from {from}, past {at}: asking again"));
                    self.gaps.insert(channel.clone(), at);
                    self.send_text(sc::event(name::GAP, &Gap { channel, at }));
                }
                self.reply(cid, None);
            }
            Err(e) => {
                self.node.log.error(&["replication"], format!("applying a batch from '{peer}' failed: {e}"));
                self.fail(cid, error_object("ApplyError", e.to_string()));
                self.overflowed = true; // close: the peer reconnects and resends from our position
            }
        }
    }

    /// A publish is a write to the channel's table; subscribers then receive the committed
    /// transaction like any other write. Its data is a record or an array of records (an
    /// insert), or a transaction in the shape subscribers receive: `{"operation": "insert" |
    /// "update" | "upsert", "records": [...]}` or `{"operation": "delete", "ids": [...]}`, each
    /// needing its own permission. Publishes are pipelined: the socket goes on reading while
    /// earlier ones commit (in order, sharing group commits), up to PUBLISHES_IN_FLIGHT; past
    /// that it stops reading until one is durable.
    async fn publish(&mut self, cid: Option<i64>, data: &Value) {
        let write = match Published::from_data(data.get("data")) {
            Ok(w) => w,
            Err(msg) => return self.fail(cid, error_object("InvalidActionError", msg)),
        };
        let (channel, who) = match self.channel_access(data, write.needs(), "publish") {
            Ok(x) => x,
            Err(e) => return self.fail(cid, e),
        };
        let (mode, records) = match write {
            Published::Write(mode, records) => (mode, records),
            Published::Delete(ids) => {
                // Deletes take the writer directly: wait until every earlier publish of this
                // socket is committed, so they apply in the order sent.
                let Ok(all) = self.publishing.clone().acquire_many_owned(PUBLISHES_IN_FLIGHT as u32).await else { return };
                let answer = self.node.store.delete(&channel.database, &channel.table, &ids, Some(&who.username)).await;
                drop(all);
                return match answer {
                    Ok(d) => self.reply(cid, Some(json!({ "deleted_hashes": d.deleted, "skipped_hashes": d.skipped }))),
                    Err(e) => self.fail(cid, publish_error(&e)),
                };
            }
        };
        let Ok(permit) = self.publishing.clone().acquire_owned().await else { return };
        let done = match self.node.store.submit(&channel.database, &channel.table, mode, records, Some(&who.username)) {
            Ok(done) => done,
            Err(e) => return self.fail(cid, publish_error(&e)),
        };
        let out = self.out.clone();
        self.node.tasks.spawn(async move {
            let answer = done.await;
            drop(permit);
            let Some(cid) = cid else { return };
            let frame = match answer {
                Ok(Ok(w)) => {
                    let written = match mode {
                        WriteMode::Insert => "inserted_hashes",
                        WriteMode::Update => "update_hashes",
                        WriteMode::Upsert => "upserted_hashes",
                    };
                    json!({ "rid": cid, "data": { written: w.written, "skipped_hashes": w.skipped } })
                }
                Ok(Err(e)) => json!({ "rid": cid, "error": publish_error(&e) }),
                Err(_) => json!({ "rid": cid, "error": error_object("PublishError", "the node shut down before the publish was written") }),
            };
            let _ = out.send(Out::Text(frame.to_string())).await;
        });
    }
}

/// What a `#publish` asks to write.
enum Published {
    Write(WriteMode, Vec<Value>),
    Delete(Vec<Value>),
}

impl Published {
    fn from_data(data: Option<&Value>) -> Result<Published, String> {
        let plain = "publish data must be a record object, an array of records, or a transaction \
                     {\"operation\", \"records\"} / {\"operation\": \"delete\", \"ids\"}";
        match data {
            Some(Value::Array(items)) => Ok(Published::Write(WriteMode::Insert, items.clone())),
            Some(Value::Object(o)) => {
                let mode = match o.get("operation").and_then(Value::as_str) {
                    Some("insert") => Some(WriteMode::Insert),
                    Some("update") => Some(WriteMode::Update),
                    Some("upsert") => Some(WriteMode::Upsert),
                    Some("delete") => None,
                    // Not a transaction: a plain record (which may have such an attribute).
                    _ => return Ok(Published::Write(WriteMode::Insert, vec![Value::Object(o.clone())])),
                };
                match (mode, o.get("records"), o.get("ids")) {
                    (Some(mode), Some(Value::Array(records)), _) => Ok(Published::Write(mode, records.clone())),
                    (None, _, Some(Value::Array(ids))) => Ok(Published::Delete(ids.clone())),
                    (Some(_), ..) => Err("a transaction with operation insert, update or upsert needs 'records': an array of records".into()),
                    (None, ..) => Err("a transaction with operation delete needs 'ids': an array of primary keys".into()),
                }
            }
            _ => Err(plain.into()),
        }
    }

    /// The permissions the write needs on the channel's table.
    fn needs(&self) -> &'static [Access] {
        match self {
            Published::Write(WriteMode::Insert, _) => &[Access::Insert],
            Published::Write(WriteMode::Update, _) => &[Access::Update],
            Published::Write(WriteMode::Upsert, _) => &[Access::Insert, Access::Update],
            Published::Delete(_) => &[Access::Delete],
        }
    }
}

fn publish_error(e: &Error) -> Value {
    let name = match e {
        Error::BadRequest(_) => "InvalidArgumentsError",
        _ => "PublishError",
    };
    error_object(name, e.to_string())
}
