//! The client's one error type: what went wrong with a connection or an invoke.

use switchyard_protocol::sc::{DecodeError, ScError};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The server could not be reached, or TLS or the WebSocket upgrade failed.
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The server's certificate is not trusted as configured.
    #[error("the certificate of {url} is not trusted: {reason}")]
    Untrusted { url: String, reason: String },
    /// The connection ended; `code` is the close code when the server sent one.
    #[error("connection closed{}: {reason}", code.map(|c| format!(" ({c})")).unwrap_or_default())]
    Closed { code: Option<u16>, reason: String },
    /// The server refused an invoke.
    #[error("{procedure} refused: {error}")]
    Refused { procedure: String, error: ScError },
    #[error("no answer to {0} in time")]
    Timeout(String),
    /// The server sent something that is not the protocol.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Error {
    /// The SocketCluster error name of a refusal (`LoginError`, `ResumeTooFarError`, …).
    pub fn refusal(&self) -> Option<&str> {
        match self {
            Error::Refused { error, .. } => Some(&error.name),
            _ => None,
        }
    }

    /// Whether trying again later may help (a refused login or a distrusted certificate will not).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Closed { .. } | Error::Timeout(_) => true,
            Error::Refused { error, .. } => !matches!(error.name.as_str(), "LoginError" | "SubscribeAuthError" | "AuthError"),
            Error::Untrusted { .. } | Error::Decode(_) => false,
        }
    }
}
