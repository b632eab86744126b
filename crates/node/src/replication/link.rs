//! One outbound link to a peer, over the shared SocketCluster client: connect, log in, say who
//! we are, pull the subscribed channels from our stored positions, offer the published ones,
//! then carry both directions on the one socket. A batch that skips past our position is
//! refused and pulled again. Reconnects with backoff and jitter until removed or the node stops.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::Retryable;
use switchyard_protocol::sc::{self, name, Ack, Gap, Hello, Offer, OfferReply, Pull, PullReply, ScError, Txns};
use switchyard_protocol::ops::LinkState as LinkStatusState;
use switchyard_sc::{Error as ScErr, Events, Options, Socket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::stream::Progress;
use super::{ChannelStatus, LinkState, PeerConfig};
use crate::outbound::Out;
use crate::store::{OnDisk, RemoteEntry};
use crate::Node;

const LATENCY_PROBE: Duration = Duration::from_secs(2);

/// Batches applied ahead of the disk at most; past it, the next waits for the oldest's sync.
const MAX_UNSYNCED: usize = 64;

/// A latency probe in flight: when it was sent, and its answer.
type Probe<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = (Instant, Result<sc::Response, ScErr>)> + Send + 'a>>;

/// Runs until the node closes; the caller aborts it on remove_node/update_node.
pub async fn run(node: Arc<Node>, config: PeerConfig, state: Arc<LinkState>) {
    loop {
        state.set(LinkStatusState::Connecting, None);
        let open = || open(&node, &config);
        let notify = |e: &ScErr, _: Duration| {
            node.log.warn(&["replication"], format!("link to '{}' failed: {e}", config.name));
            state.failed_to_open(e);
        };
        // Every failure is retried: a refused login or an untrusted certificate may be fixed
        // on the peer while we wait.
        let opened = tokio::select! {
            r = open.retry(switchyard_sc::reconnect_backoff()).notify(notify) => r,
            _ = node.shutdown.cancelled() => return,
        };
        let Ok((socket, events)) = opened else { continue };
        let reason = tokio::select! {
            r = session(&node, &config, &state, &socket, events) => r,
            _ = node.shutdown.cancelled() => return,
        };
        node.log.warn(&["replication"], format!("link to '{}' closed: {reason}", config.name));
        state.set(LinkStatusState::Closed, Some(reason));
    }
}

/// Connects, logs in and checks that the peer is the node it is configured as.
async fn open(node: &Arc<Node>, config: &PeerConfig) -> Result<(Socket, Events), ScErr> {
    let endpoint = config.endpoint();
    let options = Options { tracker: Some(node.tasks.clone()), read_chunk: crate::outbound::READ_CHUNK, ..Options::default() };
    let (socket, events) = Socket::connect(&endpoint, options).await?;
    socket.login(&config.username, &config.password).await?;
    let hello: Hello = socket.call(name::HELLO, &Hello { node_name: node.config.node_name.clone() }).await?;
    if hello.node_name != config.name {
        let message = format!("the node at {}:{} is named '{}', not '{}'", config.host, config.port, hello.node_name, config.name);
        return Err(ScErr::Refused { procedure: name::HELLO.into(), error: ScError::new("WrongNodeError", message) });
    }
    Ok((socket, events))
}

/// Carries one connection until it fails; answers why.
async fn session(node: &Arc<Node>, config: &PeerConfig, state: &LinkState, socket: &Socket, events: Events) -> String {
    let (gaps_tx, gaps_rx) = mpsc::channel::<Gap>(64);
    let (out_tx, out_rx) = mpsc::channel::<Out>(64);
    let mut streams: HashMap<String, JoinHandle<()>> = HashMap::new();
    let result = tokio::select! {
        r = inbound(node, config, state, socket, events, gaps_tx) => r,
        r = outbound(node, config, state, socket, &mut streams, out_tx, out_rx, gaps_rx) => r,
        e = socket.closed() => Err(e.to_string()),
    };
    for (_, t) in streams {
        t.abort();
    }
    match result {
        Ok(()) => "peer closed the connection".to_string(),
        Err(e) => e,
    }
}

/// What the peer sends: batches on the channels we pull, acks and gaps on those we publish.
async fn inbound(node: &Arc<Node>, config: &PeerConfig, state: &LinkState, socket: &Socket, mut events: Events, gaps: mpsc::Sender<Gap>) -> Result<(), String> {
    // Per channel: the position we asked the peer to resend from after a gap.
    let mut repulled: HashMap<String, i64> = HashMap::new();
    // Batches applied and not yet on disk, in the order applied: each is acknowledged once its
    // commit is synced, while the next ones are applied (commits reach the disk in order).
    let mut unsynced: VecDeque<(Ack, u64, OnDisk)> = VecDeque::new();
    loop {
        let e = tokio::select! {
            biased;
            synced = async { (&mut unsynced.front_mut().expect("guarded by is_empty").2).await }, if !unsynced.is_empty() => {
                let (ack, count, _) = unsynced.pop_front().expect("guarded by is_empty");
                synced.map_err(|err| format!("a batch on {} was applied but is not on disk: {err}", ack.channel))?;
                state.channel(&ack.channel, |c| {
                    c.last_received = ack.upto;
                    c.received_entries += count;
                });
                socket.emit(name::ACK, &ack).await.map_err(|e| e.to_string())?;
                continue;
            }
            e = events.recv(), if unsynced.len() < MAX_UNSYNCED => match e {
                Some(e) => e,
                None => break,
            },
        };
        match e.event.as_str() {
            name::TXNS => {
                // A malformed batch is refused with its reason, never filled with defaults.
                let batch: Txns<RemoteEntry> = e.data().map_err(|err| format!("refused a malformed batch: {err}"))?;
                let channel = batch.channel.clone();
                let count = batch.entries.len() as u64;
                match super::apply_batch_unsynced(&node.store, &config.name, batch, None).await {
                    Ok((ack, on_disk)) => {
                        repulled.remove(&ack.channel);
                        unsynced.push_back((ack, count, on_disk));
                    }
                    Err(crate::error::Error::Gap { at, from, .. }) => {
                        if repulled.get(&channel) != Some(&at) {
                            node.log.warn(&["replication"], format!("a batch from '{}' on {channel} continues from {from}, past {at}: pulling again", config.name));
                            state.channel(&channel, |c| {
                                c.gaps += 1;
                                c.error = Some(format!("a batch continuing from {from} arrived while at {at}; pulled again from {at}"));
                            });
                            repulled.insert(channel.clone(), at);
                            // An event, not an invoke: this task is the one that reads answers' neighbours.
                            socket.emit(name::PULL, &Pull { channel, from: at }).await.map_err(|e| e.to_string())?;
                        }
                    }
                    Err(err) => return Err(format!("applying a batch on {channel} failed: {err}")),
                }
            }
            // The peer applied our log on a channel we publish to it.
            name::ACK => {
                let ack: Ack = e.data().map_err(|err| format!("refused a malformed ack: {err}"))?;
                node.acks.record(&config.name, &ack.channel, ack.upto);
            }
            // The peer missed a batch we sent: our stream restarts from where it stands.
            name::GAP => {
                let gap: Gap = e.data().map_err(|err| format!("refused a malformed gap: {err}"))?;
                state.channel(&gap.channel, |c| c.gaps += 1);
                if gaps.send(gap).await.is_err() {
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What we send: the pulls and offers that set the link up, our log on the published channels,
/// and latency probes.
#[allow(clippy::too_many_arguments)]
async fn outbound(
    node: &Arc<Node>,
    config: &PeerConfig,
    state: &LinkState,
    socket: &Socket,
    streams: &mut HashMap<String, JoinHandle<()>>,
    out_tx: mpsc::Sender<Out>,
    mut out_rx: mpsc::Receiver<Out>,
    mut gaps: mpsc::Receiver<Gap>,
) -> Result<(), String> {
    for sub in config.subscriptions.iter().filter(|s| s.subscribe) {
        let channel = sub.channel.to_string();
        let from = node.store.peer_position(&config.name, &channel).await.map_err(|e| e.to_string())?;
        // A channel the peer refuses (its role does not grant it, its table does not exist) is
        // reported on that channel; the link carries the others.
        let reply: PullReply = match socket.call(name::PULL, &Pull { channel: channel.clone(), from }).await {
            Ok(r) => r,
            Err(ScErr::Refused { error, .. }) => {
                state.channel(&channel, |c| c.error = Some(format!("the peer refuses to send it: {}", error.message)));
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        node.store.ensure_table(&sub.channel.database, &sub.channel.table, &reply.primary_key).await.map_err(|e| e.to_string())?;
        state.channel(&channel, |c| {
            c.last_received = from;
            c.error = None;
        });
    }
    let mut sent_at: HashMap<String, Arc<Progress>> = HashMap::new();
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
        let reply: OfferReply = match socket.call(name::OFFER, &Offer { channel: channel.clone(), primary_key: meta.primary_key.clone() }).await {
            Ok(r) => r,
            Err(ScErr::Refused { error, .. }) => {
                state.channel(&channel, |c| c.error = Some(format!("the peer refuses to take it: {}", error.message)));
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        // Kept across restarts of the stream (gaps), so its count goes on.
        let sent = Progress::at(reply.from);
        state.channel(&channel, |c| c.sent = Some(sent.clone()));
        sent_at.insert(channel.clone(), sent.clone());
        start_stream(node, config, streams, &channel, reply.from, &out_tx, sent);
    }
    state.set(LinkStatusState::Open, None);
    node.log.info(&["replication"], format!("link to '{}' open", config.name));

    let mut probe = tokio::time::interval(LATENCY_PROBE);
    // The probe in flight runs beside the other work: its answer must not hold the link up.
    let mut probing: Option<Probe<'_>> = None;
    loop {
        tokio::select! {
            Some(out) = out_rx.recv() => {
                if let Out::Text(frame) = out {
                    socket.send_frame(frame).await.map_err(|e| e.to_string())?;
                }
            }
            Some(gap) = gaps.recv() => {
                // Only a channel we publish on this link; frames of the old stream still
                // queued are refused by the peer as gaps at the same position, and ignored.
                if let Some(sent) = sent_at.get(&gap.channel).cloned() {
                    node.log.warn(&["replication"], format!("'{}' missed a batch on {}: resending from {}", config.name, gap.channel, gap.at));
                    start_stream(node, config, streams, &gap.channel, gap.at, &out_tx, sent);
                }
            }
            (started, answer) = async { probing.as_mut().expect("guarded by is_some").await }, if probing.is_some() => {
                probing = None;
                match answer {
                    Ok(_) => state.latency(started.elapsed().as_secs_f64() * 1000.0),
                    Err(e) if !e.is_transient() => return Err(e.to_string()),
                    Err(_) => {}
                }
            }
            _ = probe.tick(), if probing.is_none() => {
                let started = Instant::now();
                probing = Some(Box::pin(async move { (started, socket.invoke(name::PING, &()).await) }));
            }
        }
    }
}

/// (Re)starts streaming our log on `channel` to the peer after `from`.
fn start_stream(node: &Arc<Node>, config: &PeerConfig, streams: &mut HashMap<String, JoinHandle<()>>, channel: &str, from: i64, out: &mpsc::Sender<Out>, sent: Arc<Progress>) {
    node.acks.record(&config.name, channel, from);
    let task = node.tasks.spawn(super::stream::stream_log(node.store.clone(), channel.to_string(), config.name.clone(), from, out.clone(), sent));
    if let Some(old) = streams.insert(channel.to_string(), task) {
        old.abort();
    }
}

impl ChannelStatus {
    pub fn sent_position(&self) -> Option<i64> {
        self.sent.as_ref().map(|s| s.position.load(Ordering::Relaxed))
    }

    pub fn sent_entries(&self) -> u64 {
        self.sent.as_ref().map(|s| s.entries.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

