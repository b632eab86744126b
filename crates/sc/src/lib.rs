//! The one SocketCluster client (protocol v2 over tokio-tungstenite): a `Socket` that logs in,
//! subscribes (optionally resuming after a transaction id), publishes, invokes and answers pings,
//! and a `Subscriber` that keeps subscriptions alive across reconnects, with backoff and jitter,
//! resuming from the last transaction it delivered; and a `DirectSocket` its owner reads without
//! a driver task, for hot readers. Used by the node's peer links, the fan-out load generator and
//! the studio's tail.

mod dial;
mod direct;
mod error;
mod socket;
mod subscriber;

pub use dial::{Endpoint, Io};
pub use direct::DirectSocket;
pub use error::{Error, Result};
pub use socket::{Events, Options, Socket};
pub use subscriber::{Subscriber, SubscriberConfig, SubscriberEvent};
pub use switchyard_protocol::sc;

/// Delays between reconnect attempts: exponential from 100 ms to 10 s, with jitter, forever.
/// Each established connection starts the sequence again.
pub fn reconnect_backoff() -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(100))
        .with_max_delay(std::time::Duration::from_secs(10))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}
