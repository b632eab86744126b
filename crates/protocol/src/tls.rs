//! Which server certificates a connection accepts, as data (add_node's `tls`, the studio's
//! registry); making a TLS configuration of it is `switchyard-tls`'s.

use serde::{Deserialize, Serialize};

/// Which server certificates a connection accepts. On the wire (add_node's `tls`, the
/// studio's registry) `{"mode": "system"}`, `{"mode": "ca", "pem"}` or
/// `{"mode": "pinned", "fingerprint"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum Trust {
    /// Certificates that chain to the bundled web roots (or plain http://).
    #[default]
    System,
    /// Certificates that chain to this CA (PEM).
    Ca { pem: String },
    /// Exactly the certificate with this SHA-256 fingerprint (hex, colons optional), accepted
    /// once by the fingerprint the user saw.
    Pinned { fingerprint: String },
}
