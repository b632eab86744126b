//! Against a real HarperDB 4.7 from npm (installed by `make test`), one binary: the Operations
//! API transcript both servers answer (`conformance`) and the studio's adapter for HarperDB:
//! status, browse, forms, SQL, links, the MQTT tail and Verify by scanning (`studio`).

mod conformance;
mod studio;

/// The transcript runs alone: its cases time HarperDB's answers (some wait for its worker
/// threads to settle), which other instances starting beside it on two cores would upset. The
/// other tests share the machine with one another, as they always did.
pub static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
