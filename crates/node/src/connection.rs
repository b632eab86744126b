//! One client connection as the server sees it: the client's address and its slot of the
//! connection limit, which the HTTP layer takes and a WebSocket upgraded from it keeps.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

/// The connection a request came over: the client's address, and the connection's slot of
/// `max_connections`, which a WebSocket upgraded from it keeps for as long as it is open.
#[derive(Clone)]
pub struct Connection {
    pub peer: SocketAddr,
    slot: Arc<OwnedSemaphorePermit>,
}

impl Connection {
    pub fn new(peer: SocketAddr, slot: OwnedSemaphorePermit) -> Connection {
        Connection { peer, slot: Arc::new(slot) }
    }

    /// Holds the connection's slot until the returned value is dropped.
    pub fn hold(&self) -> Arc<OwnedSemaphorePermit> {
        self.slot.clone()
    }
}

/// The address a request came from, when it came through `http::run`.
pub fn client_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<Connection>().map(|c| c.peer.ip())
}
