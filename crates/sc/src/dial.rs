//! Where a SocketCluster server is and how its certificate is trusted; opening the TCP
//! connection, the TLS session on it and the WebSocket.

use switchyard_protocol::tls::Trust;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::{Error, Result};

/// A plain or TLS connection.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

/// A server's SocketCluster endpoint (`/socketcluster/`); with `trust`, over TLS.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub trust: Option<Trust>,
}

impl Endpoint {
    pub fn plain(host: impl Into<String>, port: u16) -> Self {
        Endpoint { host: host.into(), port, trust: None }
    }

    pub fn url(&self) -> String {
        let scheme = if self.trust.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}:{}/socketcluster/", self.host, self.port)
    }

    /// Opens the TCP connection and, over TLS, the TLS session on it, trusting the server's
    /// certificate as configured (for a plain HTTP request to the same server, too).
    pub async fn dial(&self) -> Result<Box<dyn Io>> {
        let url = format!("{}:{}", self.host, self.port);
        let connect = |reason: String| Error::Connect { url: url.clone(), reason };
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| connect(e.to_string()))?;
        // Small frames must not wait for a delayed ACK.
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = match &self.trust {
            None => Box::new(tcp),
            Some(trust) => {
                let tls = switchyard_tls::client_config(trust).map_err(|e| Error::Untrusted { url: url.clone(), reason: e.to_string() })?;
                let name = rustls::pki_types::ServerName::try_from(self.host.clone()).map_err(|e| connect(format!("'{}' is not a valid server name: {e}", self.host)))?;
                match tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await {
                    Ok(stream) => Box::new(stream),
                    Err(e) if switchyard_tls::is_untrusted_certificate(&e) => return Err(Error::Untrusted { url: url.clone(), reason: e.to_string() }),
                    Err(e) => return Err(connect(format!("TLS failed: {e}"))),
                }
            }
        };
        Ok(io)
    }

    /// Opens the connection and the WebSocket on it.
    pub(crate) async fn open(&self, read_chunk: usize) -> Result<Ws> {
        let url = self.url();
        let io = self.dial().await?;
        let config = WebSocketConfig::default().read_buffer_size(read_chunk);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url.as_str(), io, Some(config)).await.map_err(|e| Error::Connect { url: url.clone(), reason: format!("WebSocket upgrade failed: {e}") })?;
        Ok(ws)
    }
}
