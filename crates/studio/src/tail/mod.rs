//! The live tail: channels of one instance over SocketCluster (`socket`) (a HarperDB's over
//! MQTT is `harperdb::tail`), kept for the window in a session (`session`, its rows in `row`, its shapes
//! across IPC in `view`), relayed into it by `feed`; and one channel compared across instances
//! (`compare`).

pub mod compare;
mod feed;
mod row;
pub mod session;
mod socket;
pub mod view;

use std::sync::{Mutex, MutexGuard};

pub use compare::CompareUpdate;
pub use feed::{feed, TAIL_SHOW};
pub use row::TailRecordRef;
pub use session::TailSession;
pub use socket::{Tail, TailEvent, TailRecord, TailRequest, TailSource, OPERATIONS};
pub use view::*;

/// A session's lock: a panic while it was held leaves a state still worth showing.
pub fn lock<T>(session: &Mutex<T>) -> MutexGuard<'_, T> {
    session.lock().unwrap_or_else(|p| p.into_inner())
}
