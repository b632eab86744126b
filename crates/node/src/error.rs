//! The node's error type and its mapping to Operations API answers (`{"error": …, "code": …}` +
//! status).

use switchyard_protocol::ops::{ErrorReply, Denied};
use switchyard_protocol::ErrorCode;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong credentials (401); the text is what the client is told.
    #[error("{0}")]
    Unauthorized(String),
    /// The role lacks a permission (403); each entry says what was missing.
    #[error("This operation is not authorized due to role restrictions and/or invalid database items")]
    Forbidden(Vec<Denied>),
    /// A database, table, attribute, user, role or job does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// A user or role to create already exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The disk is full or read-only: nothing was written (507).
    #[error("storage is full or read-only, nothing was written: {0}")]
    StorageFull(String),
    /// The disk failed to confirm a write (fsync): the node refuses every write from then on
    /// until it is restarted, so nothing more is acknowledged that might not be on disk (503).
    #[error("the node is read-only: {0}; nothing was written. Check the disk and restart the node")]
    ReadOnly(String),
    /// SQLite or I/O failed for a reason that is not the caller's.
    #[error("storage error: {0}")]
    Storage(String),
    /// A replication batch from a peer continues from a position after the one this node
    /// stands at on that channel: something in between was lost on the way (409). The peer is
    /// asked to send again from `at`.
    #[error("a batch on {channel} continues from {from}, but this node has applied up to {at}: resend from {at}")]
    Gap { channel: String, at: i64, from: i64 },
    /// Too many failed logins for this user or from this address: refused before any password
    /// check, for `retry_after` seconds (429).
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },
    /// Every password check is busy and the queue for them is full (503); nothing was checked.
    #[error("{message}")]
    Overloaded { message: String, retry_after: u64 },
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadRequest(msg.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Gap { .. } => ErrorCode::Gap,
            Error::StorageFull(_) | Error::Storage(_) | Error::ReadOnly(_) => ErrorCode::Storage,
            Error::Throttled { .. } | Error::Overloaded { .. } => ErrorCode::Busy,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Error::Storage(_) | Error::ReadOnly(_) | Error::Overloaded { .. } => 503,
            other => other.code().http_status(),
        }
    }

    /// Seconds after which the same request may succeed (the answer's Retry-After).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::Throttled { retry_after, .. } | Error::Overloaded { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The JSON body HarperDB clients expect, `{"error": …}` (plus what was missing on a 403),
    /// with the `code` our clients branch on.
    pub fn body(&self) -> ErrorReply {
        let code = Some(self.code());
        match self {
            Error::Forbidden(missing) => {
                ErrorReply { error: self.to_string(), code, unauthorized_access: Some(missing.clone()), invalid_schema_items: Some(vec![]) }
            }
            other => ErrorReply { error: other.to_string(), code, unauthorized_access: None, invalid_schema_items: None },
        }
    }

    /// A serde error on a request body, in HarperDB's words where it has them. serde_json
    /// exposes no kind for a missing field, so its one fixed phrasing is reworded here; the
    /// status (400) never depends on the text.
    pub fn from_request(e: serde_json::Error) -> Self {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix("missing field `") {
            if let Some((field, _)) = rest.split_once('`') {
                return Error::BadRequest(format!("'{field}' is required"));
            }
        }
        // serde appends " at line 1 column 57"; keep it, it points at the bad value.
        Error::BadRequest(msg)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if let Some(code) = db.code().and_then(|c| c.parse::<i64>().ok()) {
                if let Some(classified) = sqlite_failure(code, db.message()) {
                    return classified;
                }
            }
        }
        Error::Storage(e.to_string())
    }
}

/// SQLITE_IOERR_FSYNC: a sync SQLite made itself failed.
const SQLITE_IOERR_FSYNC: i64 = 10 | (4 << 8);

/// What a SQLite (extended) result code means here, for the codes that are not our bug: a
/// failed sync (the disk did not confirm: `ReadOnly`, which the store makes the node's state),
/// or SQLITE_FULL (13), SQLITE_READONLY (8) and other SQLITE_IOERR (10) (the transaction rolled
/// back: `StorageFull`).
fn sqlite_failure(code: i64, message: &str) -> Option<Error> {
    if code == SQLITE_IOERR_FSYNC {
        return Some(Error::ReadOnly(format!("the disk did not confirm a write (fsync failed: {message}); it may be lost")));
    }
    matches!(code & 0xff, 8 | 10 | 13).then(|| Error::StorageFull(message.to_string()))
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Storage(format!("migration failed: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.raw_os_error() == Some(28) {
            return Error::StorageFull(e.to_string());
        }
        Error::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sync SQLite made itself that failed is told apart from a full or read-only disk: the
    /// first makes the node read-only, the second refuses the write alone.
    #[test]
    fn a_failed_sync_is_told_apart_from_a_full_disk() {
        assert!(matches!(sqlite_failure(SQLITE_IOERR_FSYNC, "disk I/O error"), Some(Error::ReadOnly(m)) if m.contains("fsync failed: disk I/O error")));
        for full in [13, 8, 10, 10 | (3 << 8)] {
            assert!(matches!(sqlite_failure(full, "x"), Some(Error::StorageFull(_))), "{full}");
        }
        // SQLITE_CONSTRAINT_PRIMARYKEY: ours to explain, not the disk's.
        assert!(sqlite_failure(19 | (6 << 8), "x").is_none());
    }
}
