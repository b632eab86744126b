//! The studio's error, and the `{code, message}` it becomes across IPC.

use switchyard_protocol::{ErrorBody, ErrorCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What an instance answered, or why it could not be asked.
    #[error(transparent)]
    Client(#[from] switchyard_client::Error),
    /// What the user entered cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// No OS keychain could keep or give a password.
    #[error("{0}")]
    Keychain(String),
    #[error("no instance '{0}' is registered")]
    NotRegistered(String),
    /// Something asked for by id is not (or no longer) there: a closed tail, a transaction
    /// that left its ring.
    #[error("{0}")]
    Gone(String),
    #[error("the local instance could not start: {0}")]
    Node(#[from] switchyard_node::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the registry file could not be read or written: {0}")]
    Store(String),
}

impl Error {
    /// The class the UI branches on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Client(e) => e.code(),
            Error::Invalid(_) => ErrorCode::BadRequest,
            Error::Keychain(_) => ErrorCode::Keychain,
            Error::NotRegistered(_) | Error::Gone(_) => ErrorCode::NotFound,
            Error::Node(_) | Error::Io(_) | Error::Store(_) => ErrorCode::Internal,
        }
    }

    pub fn to_body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}

/// What a command answers the window on failure.
impl From<Error> for ErrorBody {
    fn from(e: Error) -> ErrorBody {
        e.to_body()
    }
}
