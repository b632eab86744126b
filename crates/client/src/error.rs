//! The client's error: what the server said, or why it could not be asked.

use serde_json::Value;
use switchyard_protocol::{ErrorBody, ErrorCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error.
    #[error("{message}")]
    Api { code: ErrorCode, status: u16, message: String, body: Value },
    /// No connection could be made.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Connected, but no answer in time.
    #[error("{url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    /// The TLS certificate the server presented is not trusted.
    #[error("the certificate of {url} is not trusted: {reason}")]
    Untrusted { url: String, reason: String },
    /// The answer was not what the protocol promises.
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// The answer is larger than this client takes for the operation: nothing of it was kept.
    #[error("the server's answer exceeds {limit_mb} MB ({url}); nothing of it was kept: ask for a smaller page")]
    TooLarge { url: String, limit_mb: u64 },
    /// The URL or credentials given are not usable.
    #[error("{0}")]
    Config(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Api { code, .. } => *code,
            Error::Unreachable { .. } => ErrorCode::Unreachable,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Untrusted { .. } => ErrorCode::Untrusted,
            Error::Protocol { .. } | Error::TooLarge { .. } => ErrorCode::Internal,
            Error::Config(_) => ErrorCode::BadRequest,
        }
    }

    /// The `{code, message}` shape for IPC.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}
