//! One SocketCluster connection. A driver task owns the WebSocket: it answers the server's
//! pings, hands responses to the invokes waiting for them and events to the receiver returned
//! by `connect`, writes queued frames with one flush per burst, and closes the connection when
//! the server has been silent for longer than the ping timeout it advertised. The `Socket` is
//! the handle: dropping it closes the connection and ends the driver.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use switchyard_protocol::sc::{self, name, Event, Frame, Handshake, HandshakeReply, Login, Packet, Response, Subscribe};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::dial::{Endpoint, Ws};
use crate::error::{Error, Result};

/// How a connection behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes read from the socket at a time (the library zeroes this much before each read).
    pub read_chunk: usize,
    /// How long an invoke waits for its response.
    pub answer_timeout: Duration,
    /// Batches of events held for the receiver before the driver stops reading (backpressure).
    pub event_queue: usize,
    /// The tracker the driver task is spawned on, so that its owner can wait for it.
    pub tracker: Option<TaskTracker>,
    /// An auth token presented in the handshake.
    pub auth_token: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { read_chunk: 16 * 1024, answer_timeout: Duration::from_secs(10), event_queue: 1024, tracker: None, auth_token: None }
    }
}

/// Frames written to the socket at most before one flush.
const FRAMES_PER_FLUSH: usize = 64;
/// The server's silence tolerated before the handshake says otherwise.
const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(20);

enum Outgoing {
    Text(String),
    Close(u16, String),
}

struct Shared {
    pending: Mutex<HashMap<i64, oneshot::Sender<Response>>>,
    /// Why the connection ended, once it has.
    ended: Mutex<Option<Error>>,
    done: CancellationToken,
    ping_timeout_ms: AtomicU64,
}

impl Shared {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<i64, oneshot::Sender<Response>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reason(&self) -> Error {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or(Error::Closed { code: None, reason: "connection ended".into() })
    }

    fn finish(&self, reason: Error) {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(reason);
        // Dropping the senders wakes every waiting invoke, which then reads the reason.
        self.pending().clear();
        self.done.cancel();
    }
}

/// A connected, handshaken SocketCluster socket.
pub struct Socket {
    out: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
    next_cid: AtomicI64,
    answer_timeout: Duration,
    handshake: HandshakeReply,
    url: String,
}

impl Socket {
    /// Connects, completes the handshake, and returns the socket with the receiver of the
    /// events the server sends (publications, `#setAuthToken`, replication frames). The
    /// receiver must be drained while invokes are waiting: a full queue stops the reading.
    pub async fn connect(endpoint: &Endpoint, options: Options) -> Result<(Socket, Events)> {
        let url = endpoint.url();
        let ws = tokio::time::timeout(options.answer_timeout, endpoint.open(options.read_chunk))
            .await
            .map_err(|_| Error::Connect { url: url.clone(), reason: "timed out".into() })??;
        let (out_tx, out_rx) = mpsc::channel(1024);
        let (events_tx, events_rx) = mpsc::channel(options.event_queue.max(1));
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            ended: Mutex::new(None),
            done: CancellationToken::new(),
            ping_timeout_ms: AtomicU64::new(DEFAULT_PING_TIMEOUT.as_millis() as u64),
        });
        let driver = drive(ws, out_rx, events_tx, shared.clone());
        match &options.tracker {
            Some(t) => t.spawn(driver),
            None => tokio::spawn(driver),
        };
        let mut socket = Socket {
            out: out_tx,
            shared,
            next_cid: AtomicI64::new(0),
            answer_timeout: options.answer_timeout,
            handshake: HandshakeReply { id: String::new(), ping_timeout: 0, is_authenticated: false, auth_error: None },
            url,
        };
        let reply: HandshakeReply = socket.call(name::HANDSHAKE, &Handshake { auth_token: options.auth_token.clone() }).await?;
        if reply.ping_timeout > 0 {
            socket.shared.ping_timeout_ms.store(reply.ping_timeout, Ordering::Relaxed);
        }
        socket.handshake = reply;
        Ok((socket, Events { rx: events_rx, buffered: Default::default() }))
    }

    /// The server's handshake answer (socket id, ping timeout, whether the token was accepted).
    pub fn handshake(&self) -> &HandshakeReply {
        &self.handshake
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends an invoke and waits for its response (refusals are `Error::Refused`).
    pub async fn invoke<T: Serialize>(&self, procedure: &str, data: &T) -> Result<Response> {
        let cid = self.next_cid.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        self.shared.pending().insert(cid, tx);
        if self.out.send(Outgoing::Text(sc::invoke(procedure, data, cid))).await.is_err() {
            self.shared.pending().remove(&cid);
            return Err(self.shared.reason());
        }
        let answer = match tokio::time::timeout(self.answer_timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => return Err(self.shared.reason()),
            Err(_) => {
                self.shared.pending().remove(&cid);
                return Err(Error::Timeout(procedure.to_string()));
            }
        };
        match answer.error {
            Some(error) => Err(Error::Refused { procedure: procedure.to_string(), error }),
            None => Ok(answer),
        }
    }

    /// An invoke whose response data is read as `R`; a malformed answer is an error.
    pub async fn call<T: Serialize, R: DeserializeOwned>(&self, procedure: &str, data: &T) -> Result<R> {
        let answer = self.invoke(procedure, data).await?;
        Ok(answer.data::<R>()?)
    }

    /// The `login` procedure; the server then sends `#setAuthToken`.
    pub async fn login(&self, username: &str, password: &str) -> Result<()> {
        self.invoke(name::LOGIN, &Login { username: username.into(), password: password.into() }).await.map(|_| ())
    }

    /// Subscribes to a channel; with `from`, the transactions after that id come first.
    pub async fn subscribe(&self, channel: &str, from: Option<i64>) -> Result<()> {
        self.invoke(name::SUBSCRIBE, &Subscribe { channel: channel.into(), from }).await.map(|_| ())
    }

    pub async fn unsubscribe(&self, channel: &str) -> Result<()> {
        self.invoke(name::UNSUBSCRIBE, &channel).await.map(|_| ())
    }

    /// Publishes and waits for the server's answer.
    pub async fn publish<T: Serialize>(&self, channel: &str, data: &T) -> Result<Response> {
        self.invoke(name::PUBLISH, &sc::Publication { channel: channel.to_string(), data }).await
    }

    /// Sends an event with no answer expected.
    pub async fn emit<T: Serialize>(&self, event: &str, data: &T) -> Result<()> {
        self.send_frame(sc::event(event, data)).await
    }

    /// Sends a frame already encoded with `switchyard_protocol::sc`.
    pub async fn send_frame(&self, frame: String) -> Result<()> {
        self.out.send(Outgoing::Text(frame)).await.map_err(|_| self.shared.reason())
    }

    /// Waits until the connection has ended and says why.
    pub async fn closed(&self) -> Error {
        self.shared.done.cancelled().await;
        self.shared.reason()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.done.is_cancelled()
    }

    /// Closes the connection with a close code and reason.
    pub async fn close(&self, code: u16, reason: &str) {
        let _ = self.out.send(Outgoing::Close(code, reason.to_string())).await;
        self.shared.done.cancelled().await;
    }
}

/// Frames read without waiting, once one has arrived, before their events are handed over as
/// one batch (one wake-up of the receiver instead of one per frame).
const FRAMES_PER_BATCH: usize = 64;

/// What one inbound frame asks of the driver.
enum Inbound {
    Frame(Frame),
    Ended(Error),
}

fn inbound(msg: Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Option<Inbound> {
    let decoded = |text: &str| match sc::decode(text) {
        Ok(frame) => Inbound::Frame(frame),
        Err(e) => Inbound::Ended(Error::Decode(e)),
    };
    Some(match msg {
        Some(Ok(Message::Text(t))) => decoded(t.as_str()),
        Some(Ok(Message::Binary(b))) => decoded(&String::from_utf8_lossy(&b)),
        Some(Ok(Message::Close(frame))) => {
            let (code, reason) = frame.map(|f| (Some(u16::from(f.code)), f.reason.to_string())).unwrap_or((None, String::new()));
            Inbound::Ended(Error::Closed { code, reason: if reason.is_empty() { "closed by the server".into() } else { reason } })
        }
        Some(Ok(_)) => return None,
        Some(Err(e)) => Inbound::Ended(Error::Closed { code: None, reason: e.to_string() }),
        None => Inbound::Ended(Error::Closed { code: None, reason: "connection ended".into() }),
    })
}

async fn drive(mut ws: Ws, mut out: mpsc::Receiver<Outgoing>, events: mpsc::Sender<Vec<Event>>, shared: Arc<Shared>) {
    let mut heard = Instant::now();
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let reason = 'run: loop {
        tokio::select! {
            msg = ws.next() => {
                let mut next = inbound(msg);
                let mut batch = Vec::new();
                let mut frames = 0;
                loop {
                    match next.take() {
                        Some(Inbound::Frame(Frame::Ping)) => {
                            if let Err(e) = ws.send(Message::text("")).await {
                                break 'run Error::Closed { code: None, reason: e.to_string() };
                            }
                        }
                        Some(Inbound::Frame(Frame::Packets(packets))) => {
                            for p in packets {
                                match p {
                                    Packet::Response(r) => {
                                        if let Some(waiting) = shared.pending().remove(&r.rid) {
                                            let _ = waiting.send(r);
                                        }
                                    }
                                    Packet::Event(e) => batch.push(e),
                                }
                            }
                        }
                        Some(Inbound::Ended(Error::Decode(e))) => {
                            let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::Protocol, reason: "malformed frame".into() }))).await;
                            break 'run Error::Decode(e);
                        }
                        Some(Inbound::Ended(reason)) => break 'run reason,
                        None => {}
                    }
                    frames += 1;
                    if frames >= FRAMES_PER_BATCH {
                        break;
                    }
                    // More frames already here are read now; their events go out together.
                    match ws.next().now_or_never() {
                        Some(msg) => next = inbound(msg),
                        None => break,
                    }
                }
                heard = Instant::now();
                // Nobody listening for events is fine: invokes still work.
                if !batch.is_empty() {
                    let _ = events.send(batch).await;
                }
            }
            queued = out.recv() => match queued {
                Some(Outgoing::Text(frame)) => {
                    let mut next = Some(frame);
                    let mut written = 0;
                    let mut failed = None;
                    let mut close = None;
                    while let Some(frame) = next.take() {
                        if let Err(e) = ws.feed(Message::text(frame)).await {
                            failed = Some(e);
                            break;
                        }
                        written += 1;
                        if written < FRAMES_PER_FLUSH {
                            match out.try_recv() {
                                Ok(Outgoing::Text(f)) => next = Some(f),
                                Ok(Outgoing::Close(code, reason)) => close = Some((code, reason)),
                                Err(_) => {}
                            }
                        }
                    }
                    if let Some(e) = failed.or(ws.flush().await.err()) {
                        break Error::Closed { code: None, reason: e.to_string() };
                    }
                    if let Some((code, reason)) = close {
                        break close_with(&mut ws, code, reason).await;
                    }
                }
                Some(Outgoing::Close(code, reason)) => break close_with(&mut ws, code, reason).await,
                None => {
                    let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }))).await;
                    break Error::Closed { code: Some(sc::close::NORMAL), reason: "closed by the client".into() };
                }
            },
            _ = check.tick() => {
                let timeout = Duration::from_millis(shared.ping_timeout_ms.load(Ordering::Relaxed));
                if heard.elapsed() > timeout {
                    break Error::Closed { code: None, reason: format!("the server was silent for more than {} s", timeout.as_secs()) };
                }
            }
        }
    };
    shared.finish(reason);
}

/// The events a socket receives (publications, `#setAuthToken`, replication frames), in order.
/// They arrive from the driver in batches; `recv` hands them out one at a time.
pub struct Events {
    rx: mpsc::Receiver<Vec<Event>>,
    buffered: std::collections::VecDeque<Event>,
}

impl Events {
    /// The next event; `None` once the connection has ended and every event was taken.
    pub async fn recv(&mut self) -> Option<Event> {
        if let Some(e) = self.buffered.pop_front() {
            return Some(e);
        }
        let batch = self.rx.recv().await?;
        self.buffered.extend(batch);
        self.buffered.pop_front()
    }
}

async fn close_with(ws: &mut Ws, code: u16, reason: String) -> Error {
    let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.clone().into() }))).await;
    Error::Closed { code: Some(code), reason }
}
