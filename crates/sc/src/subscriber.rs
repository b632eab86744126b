//! A subscription that outlives connections: it reconnects with backoff and jitter
//! (`reconnect_backoff`), logs in again and subscribes again from the last transaction it
//! delivered on each channel, so that what is delivered has no gap and no duplicate as long as
//! the server still holds the log; when it cannot resume, it says so (`Unresumable`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::Retryable;
use serde_json::value::RawValue;
use switchyard_protocol::sc::{name, Event, KickOut, Publication, Transaction};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::dial::Endpoint;
use crate::error::Error;
use crate::socket::{Options, Socket};

#[derive(Debug, Clone)]
pub struct SubscriberConfig {
    pub endpoint: Endpoint,
    /// `(username, password)` for the `login` procedure.
    pub credentials: Option<(String, String)>,
    /// The channels, each with the transaction id to resume after (`None`: live only).
    pub channels: Vec<(String, Option<i64>)>,
    pub options: Options,
}

#[derive(Debug)]
pub enum SubscriberEvent {
    /// Connected, logged in and subscribed (again).
    Connected,
    /// A transaction on a subscribed channel, in log order, each once.
    Transaction(Transaction),
    /// A publication that is not a Switchyard transaction (a plain SocketCluster broker).
    Publication { channel: String, data: Box<RawValue> },
    /// The connection ended or could not be made; the next attempt follows in `retry_in`.
    Disconnected { error: Error, retry_in: Duration },
    /// Resuming after `after` was refused (too far behind or no longer in the log): what lies
    /// between it and the first live transaction is not delivered here.
    Unresumable { channel: String, after: i64, error: Error },
    /// The server refused the channel (permissions, no such table): it is not asked again.
    Refused { channel: String, error: Error },
    /// The server ended the subscription (the user lost the right to read it).
    KickedOut { channel: String, message: Option<String> },
    /// The subscriber gave up: an error that retrying cannot fix (login refused, untrusted
    /// certificate).
    Failed(Error),
}

/// A running subscriber; dropping it stops it.
pub struct Subscriber {
    events: mpsc::Receiver<SubscriberEvent>,
    stop: CancellationToken,
    position: Position,
}

/// Per channel, the last transaction id delivered (or shown by other means): a reconnect
/// resumes after it. Shared by the handle and the task; held only to read or bump one entry.
#[derive(Clone, Default)]
struct Position(Arc<Mutex<HashMap<String, Option<i64>>>>);

impl Position {
    fn get(&self, channel: &str) -> Option<i64> {
        self.0.lock().ok().and_then(|m| m.get(channel).copied().flatten())
    }

    /// Moves `channel` on to `id`, unless it is there already; answers whether it moved.
    fn advance(&self, channel: &str, id: i64) -> bool {
        let Ok(mut m) = self.0.lock() else { return false };
        let at = m.entry(channel.to_string()).or_insert(None);
        if at.is_some_and(|seen| id <= seen) {
            return false;
        }
        *at = Some(id);
        true
    }
}

impl Subscriber {
    /// Starts subscribing in a task on `tracker` (or on the runtime).
    pub fn start(config: SubscriberConfig, tracker: Option<TaskTracker>) -> Subscriber {
        let (tx, rx) = mpsc::channel(config.options.event_queue.max(1));
        let stop = CancellationToken::new();
        let position = Position(Arc::new(Mutex::new(config.channels.iter().cloned().collect())));
        let run = run(config, position.clone(), tx, stop.clone());
        match tracker {
            Some(t) => t.spawn(run),
            None => tokio::spawn(run),
        };
        Subscriber { events: rx, stop, position }
    }

    /// Says that everything on `channel` up to transaction `id` was seen by other means (read
    /// from the log): a reconnect resumes after it, and it is not delivered again.
    pub fn seen(&self, channel: &str, id: i64) {
        self.position.advance(channel, id);
    }

    /// The next event; `None` once stopped or failed.
    pub async fn next(&mut self) -> Option<SubscriberEvent> {
        self.events.recv().await
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Per channel: where delivery stands, and whether the server refused it for good.
struct Channels {
    position: Position,
    refused: Vec<String>,
}

async fn run(config: SubscriberConfig, position: Position, out: mpsc::Sender<SubscriberEvent>, stop: CancellationToken) {
    let mut channels = Channels { position, refused: Vec::new() };
    loop {
        let connect = || Socket::connect(&config.endpoint, config.options.clone());
        let notify = |error: &Error, retry_in: Duration| {
            let _ = out.try_send(SubscriberEvent::Disconnected { error: error.clone(), retry_in });
        };
        let connected = tokio::select! {
            r = connect.retry(crate::reconnect_backoff()).when(Error::is_transient).notify(notify) => r,
            _ = stop.cancelled() => return,
        };
        let (socket, mut inbound) = match connected {
            Ok(c) => c,
            Err(e) => {
                let _ = out.send(SubscriberEvent::Failed(e)).await;
                return;
            }
        };
        let wanted: Vec<(String, Option<i64>)> =
            config.channels.iter().filter(|(c, _)| !channels.refused.contains(c)).map(|(c, _)| (c.clone(), channels.position.get(c))).collect();
        let setup = async {
            if let Some((user, password)) = &config.credentials {
                socket.login(user, password).await?;
            }
            let mut refusals = Vec::new();
            for (channel, from) in wanted {
                match socket.subscribe(&channel, from).await {
                    Ok(()) => {}
                    Err(e) if e.refusal() == Some("ResumeTooFarError") || (from.is_some() && e.refusal() == Some("InvalidActionError")) => {
                        refusals.push(SubscriberEvent::Unresumable { channel: channel.clone(), after: from.unwrap_or(0), error: e });
                        socket.subscribe(&channel, None).await?;
                    }
                    Err(e) if e.refusal().is_some() => refusals.push(SubscriberEvent::Refused { channel, error: e }),
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, Error>(refusals)
        };
        // Publications of the channels subscribed first arrive while the later ones are
        // being subscribed: they are delivered meanwhile (the socket stops reading otherwise).
        tokio::pin!(setup);
        let mut early = Vec::new();
        let setup = loop {
            tokio::select! {
                r = &mut setup => break r,
                Some(e) = inbound.recv() => early.push(e),
                _ = stop.cancelled() => return,
            }
        };
        let error = match setup {
            Ok(refusals) => {
                for r in refusals {
                    if let SubscriberEvent::Refused { channel, .. } = &r {
                        channels.refused.push(channel.clone());
                    }
                    let _ = out.send(r).await;
                }
                let _ = out.send(SubscriberEvent::Connected).await;
                for e in early {
                    deliver(e, &mut channels, &out).await;
                }
                loop {
                    tokio::select! {
                        e = inbound.recv() => match e {
                            Some(e) => deliver(e, &mut channels, &out).await,
                            None => break socket.closed().await,
                        },
                        _ = stop.cancelled() => {
                            socket.close(crate::sc::close::NORMAL, "").await;
                            return;
                        }
                    }
                }
            }
            Err(e) if !e.is_transient() => {
                let _ = out.send(SubscriberEvent::Failed(e)).await;
                return;
            }
            Err(e) => e,
        };
        if out.send(SubscriberEvent::Disconnected { error, retry_in: Duration::ZERO }).await.is_err() {
            return;
        }
    }
}

async fn deliver(e: Event, channels: &mut Channels, out: &mpsc::Sender<SubscriberEvent>) {
    let event = match e.event.as_str() {
        name::PUBLISH => {
            let Ok(p) = e.data::<Publication<Box<RawValue>>>() else { return };
            match serde_json::from_str::<Transaction>(p.data.get()) {
                Ok(t) => {
                    // Delivered or seen already (a resume overlapping it): not again.
                    if !channels.position.advance(&p.channel, t.id) {
                        return;
                    }
                    SubscriberEvent::Transaction(t)
                }
                Err(_) => SubscriberEvent::Publication { channel: p.channel, data: p.data },
            }
        }
        name::KICK_OUT => match e.data::<KickOut>() {
            Ok(k) => SubscriberEvent::KickedOut { channel: k.channel, message: k.message },
            Err(_) => return,
        },
        _ => return,
    };
    let _ = out.send(event).await;
}
