//! switchyard-client: talks to Switchyard and HarperDB instances. `OpsClient` speaks the
//! Operations API; its errors carry the `{code, message}` classes the studio branches on.

pub mod differences;
mod error;
pub mod harperdb;
mod kind;
mod ops;
pub mod tls;

pub use differences::{Difference, DIFFERENCES};
pub use error::{Error, Result};
pub use kind::{reinterpret, ServerKind};
pub use ops::{Credentials, OpsClient, RawResponse};
pub use tls::Trust;
pub use switchyard_protocol as protocol;
