//! The `{code, message}` error shape and the small set of codes a UI branches on.

use serde::{Deserialize, Serialize};

/// What went wrong, in the few classes a caller acts on differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is malformed or names something invalid (HTTP 400).
    BadRequest,
    /// Missing or wrong credentials (HTTP 401).
    Unauthorized,
    /// Authenticated, but the role lacks a permission (HTTP 403).
    Forbidden,
    /// A database, table, user or role does not exist (HTTP 404).
    NotFound,
    /// The thing to create already exists (HTTP 409).
    Conflict,
    /// A batch continues from a position after the one the receiver stands at: something in
    /// between was lost; send again from where the receiver is (HTTP 409).
    Gap,
    /// The server could not store the data: disk full, read-only, busy (HTTP 503/507).
    Storage,
    /// The server is too busy to take this now, or refuses more attempts for a while (HTTP 429
    /// or 503 with Retry-After): the same request may succeed later.
    Busy,
    /// The peer could not be reached.
    Unreachable,
    /// The peer was reached but did not answer in time.
    Timeout,
    /// The peer's TLS certificate is not trusted (self-signed, unknown CA, changed fingerprint).
    Untrusted,
    /// No OS keychain is available to keep a password; nothing was stored.
    Keychain,
    /// Anything else; a bug on the answering side.
    Internal,
}

impl ErrorCode {
    /// Every code, for generated clients (the UI's `ErrorCode` union).
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Gap,
        ErrorCode::Storage,
        ErrorCode::Busy,
        ErrorCode::Unreachable,
        ErrorCode::Timeout,
        ErrorCode::Untrusted,
        ErrorCode::Keychain,
        ErrorCode::Internal,
    ];

    /// The code as it is written on the wire (`bad_request`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Gap => "gap",
            ErrorCode::Storage => "storage",
            ErrorCode::Busy => "busy",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Untrusted => "untrusted",
            ErrorCode::Keychain => "keychain",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status the Operations API answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::Gap => 409,
            ErrorCode::Storage => 507,
            ErrorCode::Busy => 429,
            ErrorCode::Unreachable | ErrorCode::Untrusted => 502,
            ErrorCode::Timeout => 504,
            ErrorCode::Keychain | ErrorCode::Internal => 500,
        }
    }

    /// The code a caller should read into an HTTP status it received.
    pub fn from_http_status(status: u16) -> ErrorCode {
        match status {
            400 | 405 | 413 | 415 | 422 => ErrorCode::BadRequest,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            429 => ErrorCode::Busy,
            503 | 507 => ErrorCode::Storage,
            502 => ErrorCode::Unreachable,
            504 => ErrorCode::Timeout,
            _ => ErrorCode::Internal,
        }
    }
}

/// The one `{code, message}`: what crosses IPC to the UI (a code to branch on, a sentence for
/// the user), and the code a node's error answer carries beside HarperDB's `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    /// One of the few classes a caller branches on; never branch on `message`.
    #[cfg_attr(feature = "ts", ts(type = "ErrorCode"))]
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody { code, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_listed_and_named_as_serde_writes_it() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
        }
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
