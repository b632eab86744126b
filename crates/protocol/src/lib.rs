//! Wire types shared by switchyard-node, switchyard-client and the studio: Operations API requests
//! and replies, channel names, and the `{code, message}` error that crosses IPC and HTTP.

pub mod channel;
pub mod error;
pub mod operation;
pub mod ops;
pub mod sc;
pub mod tls;

pub use channel::Channel;
pub use error::{ErrorBody, ErrorCode};
pub use operation::{Operation, OperationError};

/// The database a request addresses when it names none (HarperDB's default).
pub const DEFAULT_DATABASE: &str = "data";

/// A link user's name is this prefix and the name of the node it links (the dialler): a peer
/// logged in as such a user with a limited role speaks for that node only.
pub const LINK_USER_PREFIX: &str = "sy_link_";

/// The key of a role's permission listing the nodes whose entries a limited link user may relay
/// besides its own node's (`"relay_origins": ["a", "b"]`); any other origin is refused.
pub const RELAY_ORIGINS: &str = "relay_origins";
