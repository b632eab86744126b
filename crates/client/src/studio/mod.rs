//! The studio's view of instances: the registry of instances with their secrets, live status,
//! browsing, paging, record writes, SQL and imports. Everything the Tauri shell exposes is here,
//! free of Tauri, so that commands stay one-line adapters and the logic is tested directly.

mod browse;
mod keychain;
mod probe;
mod registry;
mod types;

pub use browse::{page_request_ops, rows_columns};
pub use keychain::Keychain;
pub use probe::peek_certificate;
pub use registry::{Registry, RegistryStorage};
pub use types::*;
