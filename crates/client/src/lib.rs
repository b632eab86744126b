//! switchyard-client: talks to Switchyard and HarperDB instances. `OpsClient` speaks the
//! Operations API; its errors carry the `{code, message}` classes the studio branches on.

mod error;
mod ops;
pub mod tls;

pub use error::{Error, Result};
pub use ops::{Credentials, OpsClient, RawResponse};
pub use tls::Trust;
pub use switchyard_protocol as protocol;
