//! TLS trust for this crate's connections: the shared model of `switchyard_protocol::tls`,
//! with this crate's errors.

use std::sync::Arc;

use rustls::ClientConfig;
pub use switchyard_tls::{fingerprint, Trust};

use crate::error::{Error, Result};

/// A rustls client configuration for `trust`.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>> {
    switchyard_tls::client_config(trust).map_err(|e| Error::Config(e.0))
}
