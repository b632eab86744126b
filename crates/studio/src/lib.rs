//! switchyard-studio: everything the desktop studio does, free of Tauri: the registry of
//! instances with their secrets, live status, browsing, paging, record writes, SQL, exports and
//! the supervision of local instances. The Tauri shell's commands are one-line adapters over it.

mod browse;
mod error;
pub mod harperdb;
pub mod health;
pub mod instance;
pub mod factory;
mod keychain;
pub mod links;
mod local;
pub mod probe;
mod registry;
mod studio;
pub mod tail;
pub mod topology;
mod ts;
mod types;
pub mod verify;
pub mod wiring;
pub mod words;

pub use browse::{page_request_ops, rows_columns, Browse};
pub use error::{Error, Result};
pub use switchyard_protocol::ErrorBody;
pub use local::{LocalInstances, ADMIN_USER};
pub use studio::{observe, verify_members, Studio};
pub use tail::{CompareUpdate, Tail, TailAction, TailEvent, TailExported, TailRecord, TailRequest, TailSource, TailUpdate, OPERATIONS as NODE_TAIL_OPERATIONS};
pub use keychain::Keychain;
pub use probe::peek_certificate;
pub use registry::{Registry, RegistryStorage};
pub use ts::typescript_declarations;
pub use types::*;
