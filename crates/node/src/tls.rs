//! Serving over TLS (https:// and wss:// on the same port): the certificate (files given, or a
//! self-signed one made on first start and kept in the data folder) and a listener whose
//! handshakes run in their own tasks, so one slow client never holds up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's TLS configuration and its certificate's SHA-256 fingerprint.
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub fingerprint: String,
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::bad(format!("{what}: {e}"))
}

/// Loads `cert`/`key` (PEM), or makes a self-signed certificate for `names` in `dir` once.
pub fn load(cert: Option<&Path>, key: Option<&Path>, dir: &Path, names: &[String]) -> Result<ServerTls> {
    let (cert_pem, key_pem) = match (cert, key) {
        (Some(c), Some(k)) => (std::fs::read(c)?, std::fs::read(k)?),
        (None, None) => {
            let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
            if !c.exists() || !k.exists() {
                std::fs::create_dir_all(dir)?;
                let made = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| tls_error("cannot make a certificate", e))?;
                std::fs::write(&c, made.cert.pem())?;
                std::fs::write(&k, made.signing_key.serialize_pem())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600))?;
                }
            }
            (std::fs::read(c)?, std::fs::read(k)?)
        }
        _ => return Err(Error::bad("give both a TLS certificate and its key, or neither for a self-signed one")),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| tls_error("the certificate is not valid PEM", e))?;
    let first = chain.first().ok_or_else(|| Error::bad("the certificate file holds no certificate"))?;
    let fingerprint = switchyard_tls::fingerprint(first);
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| tls_error("the key is not valid PEM", e))?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("TLS set-up failed", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_error("the certificate and key do not fit together", e))?;
    Ok(ServerTls { config: Arc::new(config), fingerprint })
}

/// Accepts TCP connections and hands over those whose TLS handshake completed.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    /// The accept task ends when the listener is dropped.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>, tasks: tokio_util::task::TaskTracker) -> std::io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = tasks.clone();
        tasks.spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    r = tcp.accept() => match r {
                        Ok(x) => x,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = tx.closed() => return,
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                handshakes.spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { rx, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept task only ends after this listener is gone; never resolves otherwise.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
