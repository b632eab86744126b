//! One outbound link to a peer: connect, log in, say who we are, pull the subscribed channels
//! from our stored positions, offer the published ones, then carry both directions on the one
//! socket. Reconnects with exponential backoff and jitter until removed or the node stops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::{apply_frame, ChannelStatus, LinkState, PeerConfig};
use crate::channels::Out;
use crate::Node;

/// A plain or TLS connection to a peer.
pub(super) trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

type Ws = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

/// Opens the TCP connection to a peer and, for a TLS peer, the TLS session on it, trusting
/// the peer's certificate as configured. `url` names the peer in errors.
pub(super) async fn dial(config: &PeerConfig, url: &str) -> Result<Box<dyn Io>, String> {
    let tcp = tokio::net::TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    Ok(match config.trust() {
        None => Box::new(tcp),
        Some(trust) => {
            let tls = switchyard_protocol::tls::client_config(&trust).map_err(|e| e.to_string())?;
            let name = rustls::pki_types::ServerName::try_from(config.host.clone()).map_err(|e| format!("'{}' is not a valid server name: {e}", config.host))?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {url} failed: {e}"))?;
            Box::new(stream)
        }
    })
}

/// Opens the connection and the WebSocket on it.
async fn connect(config: &PeerConfig) -> Result<Ws, String> {
    let url = config.ws_url();
    let io = dial(config, &url).await?;
    let (ws, _) = tokio_tungstenite::client_async(url.as_str(), io).await.map_err(|e| format!("WebSocket to {url} failed: {e}"))?;
    Ok(ws)
}

const LATENCY_PROBE: Duration = Duration::from_secs(2);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs until the node closes; the caller aborts it on remove_node/update_node.
pub async fn run(node: Arc<Node>, config: PeerConfig, state: Arc<LinkState>) {
    let mut attempt: u32 = 0;
    loop {
        state.set("connecting", None);
        let started = Instant::now();
        let outcome = tokio::select! {
            r = session(&node, &config, &state) => r,
            _ = node.shutdown.cancelled() => return,
        };
        let reason = match outcome {
            Ok(()) => "peer closed the connection".to_string(),
            Err(e) => e,
        };
        node.log.warn(&["replication"], format!("link to '{}' closed: {reason}", config.name));
        state.set("closed", Some(reason));
        if started.elapsed() > Duration::from_secs(10) {
            attempt = 0;
        }
        attempt = attempt.saturating_add(1);
        let base = 100u64.saturating_mul(1 << attempt.min(7)).min(10_000);
        let jitter = rand::random::<u64>() % (base / 2 + 1);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(base / 2 + jitter)) => {}
            _ = node.shutdown.cancelled() => return,
        }
    }
}

struct Session<'a> {
    node: &'a Arc<Node>,
    config: &'a PeerConfig,
    state: &'a LinkState,
    ws: Ws,
    cid: i64,
}

impl Session<'_> {
    async fn send(&mut self, v: Value) -> Result<(), String> {
        self.ws.send(Message::Text(v.to_string().into())).await.map_err(|e| format!("send failed: {e}"))
    }

    /// Invokes a procedure and waits for its answer, handling pings and batches meanwhile.
    async fn call(&mut self, event: &str, data: Value) -> Result<Value, String> {
        self.cid += 1;
        let cid = self.cid;
        self.send(json!({"event": event, "data": data, "cid": cid})).await?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = tokio::time::timeout(left, self.ws.next())
                .await
                .map_err(|_| format!("no answer to {event} within {} s", ANSWER_TIMEOUT.as_secs()))?;
            let Some(text) = frame_text(msg)? else { continue };
            if let Some(answer) = self.frame(&text).await? {
                if answer.get("rid").and_then(Value::as_i64) == Some(cid) {
                    if let Some(err) = answer.get("error") {
                        let msg = err.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| err.to_string());
                        return Err(format!("{event} refused: {msg}"));
                    }
                    return Ok(answer.get("data").cloned().unwrap_or(Value::Null));
                }
            }
        }
    }

    /// Handles one inbound frame; returns it when it is an answer (has `rid`).
    async fn frame(&mut self, text: &str) -> Result<Option<Value>, String> {
        if text.is_empty() {
            self.send_raw("").await?;
            return Ok(None);
        }
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        let packets = match v {
            Value::Array(items) => items,
            other => vec![other],
        };
        let mut answer = None;
        for p in packets {
            if p.get("rid").is_some() {
                answer = Some(p);
            } else if p.get("event").and_then(Value::as_str) == Some("sy:txns") {
                let data = p.get("data").cloned().unwrap_or(Value::Null);
                let received = apply_frame(&self.node.store, &self.config.name, data).await.map_err(|e| format!("applying failed: {e}"))?;
                if let Some((channel, upto)) = received {
                    self.state.channel(&channel, |c| c.last_received = upto);
                    self.send(json!({"event": "sy:ack", "data": {"channel": channel, "upto": upto}})).await?;
                }
            } else if p.get("event").and_then(Value::as_str) == Some("sy:ack") {
                // The peer applied our log on a channel we publish to it.
                let data = p.get("data").cloned().unwrap_or(Value::Null);
                if let (Some(channel), Some(upto)) = (data.get("channel").and_then(Value::as_str), data.get("upto").and_then(Value::as_i64)) {
                    self.node.acks.record(&self.config.name, channel, upto);
                }
            }
        }
        Ok(answer)
    }

    async fn send_raw(&mut self, text: &str) -> Result<(), String> {
        self.ws.send(Message::Text(text.to_string().into())).await.map_err(|e| format!("send failed: {e}"))
    }
}

/// The text of an inbound message; None for control frames; Err when the connection ended.
fn frame_text(msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Result<Option<String>, String> {
    match msg {
        Some(Ok(Message::Text(t))) => Ok(Some(t.to_string())),
        Some(Ok(Message::Binary(b))) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Some(Ok(Message::Close(c))) => Err(format!("closed by peer: {c:?}")),
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => Err(format!("connection failed: {e}")),
        None => Err("connection ended".into()),
    }
}

async fn session(node: &Arc<Node>, config: &PeerConfig, state: &LinkState) -> Result<(), String> {
    let ws = tokio::time::timeout(ANSWER_TIMEOUT, connect(config))
        .await
        .map_err(|_| format!("connecting to {} timed out", config.ws_url()))??;
    let mut s = Session { node, config, state, ws, cid: 0 };
    s.call("#handshake", json!({"authToken": null})).await?;
    s.call("login", json!({"username": config.username, "password": config.password})).await?;
    let hello = s.call("sy:hello", json!({"node_name": node.config.node_name})).await?;
    let actual = hello.get("node_name").and_then(Value::as_str).unwrap_or("");
    if actual != config.name {
        return Err(format!("the node at {}:{} is named '{actual}', not '{}'", config.host, config.port, config.name));
    }

    let (out_tx, mut out_rx) = mpsc::channel::<Out>(64);
    let mut streams: Vec<JoinHandle<()>> = Vec::new();
    let result = async {
        for sub in config.subscriptions.iter().filter(|s| s.subscribe) {
            let channel = sub.channel.to_string();
            let from = node.store.peer_position(&config.name, &channel).await.map_err(|e| e.to_string())?;
            let answer = s.call("sy:pull", json!({"channel": channel, "from": from})).await?;
            // A malformed answer is refused with its reason, never filled with a default.
            let pk = answer.get("primary_key").and_then(Value::as_str).ok_or_else(|| format!("the peer answered sy:pull for {channel} without a primary_key: {answer}"))?.to_string();
            node.store.ensure_table(&sub.channel.database, &sub.channel.table, &pk).await.map_err(|e| e.to_string())?;
            state.channel(&channel, |c| c.last_received = from);
        }
        for sub in config.subscriptions.iter().filter(|s| s.publish) {
            let channel = sub.channel.to_string();
            state.channel(&channel, |c| c.error = None);
            let meta = match node.store.table(&sub.channel.database, &sub.channel.table) {
                Ok(m) => m,
                Err(e) => {
                    state.channel(&channel, |c| c.error = Some(format!("cannot publish: {e}")));
                    continue;
                }
            };
            let answer = s.call("sy:offer", json!({"channel": channel, "primary_key": meta.primary_key})).await?;
            let from = answer.get("from").and_then(Value::as_i64).ok_or_else(|| format!("the peer answered sy:offer for {channel} without a position 'from': {answer}"))?;
            node.acks.record(&config.name, &channel, from);
            let sent = Arc::new(AtomicI64::new(from));
            state.channel(&channel, |c| c.sent = Some(sent.clone()));
            streams.push(node.tasks.spawn(super::stream::stream_log(node.store.clone(), channel, config.name.clone(), from, out_tx.clone(), sent)));
        }
        state.set("open", None);
        node.log.info(&["replication"], format!("link to '{}' open", config.name));

        let mut probe = tokio::time::interval(LATENCY_PROBE);
        let mut probe_sent: HashMap<i64, Instant> = HashMap::new();
        loop {
            tokio::select! {
                msg = s.ws.next() => {
                    let Some(text) = frame_text(msg)? else { continue };
                    if let Some(answer) = s.frame(&text).await? {
                        if let Some(sent) = answer.get("rid").and_then(Value::as_i64).and_then(|rid| probe_sent.remove(&rid)) {
                            state.latency(sent.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                }
                Some(out) = out_rx.recv() => {
                    if let Out::Text(t) = out {
                        s.send_raw(&t).await?;
                    }
                }
                _ = probe.tick() => {
                    s.cid += 1;
                    probe_sent.retain(|_, at| at.elapsed() < ANSWER_TIMEOUT);
                    probe_sent.insert(s.cid, Instant::now());
                    let cid = s.cid;
                    s.send(json!({"event": "sy:ping", "cid": cid})).await?;
                }
            }
        }
    }
    .await;
    for t in streams {
        t.abort();
    }
    result
}

impl ChannelStatus {
    pub fn sent_position(&self) -> Option<i64> {
        self.sent.as_ref().map(|s| s.load(Ordering::Relaxed))
    }
}
