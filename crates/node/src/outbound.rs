//! What a socket's writer is handed, shared by the sockets peers and clients open
//! (`channels`) and the links this node dials (`replication`): a frame or a close, and the size
//! every socket reads in.

/// What a socket's task sends: a frame or a close.
pub enum Out {
    Text(String),
    Close(u16, &'static str),
}

/// Bytes read from a socket at a time. The WebSocket library zeroes this much before every read
/// attempt, even one that finds nothing (each time a subscriber's task wakes for the feed), so
/// its 128 KiB default costs more than the read itself; large frames just take more reads.
pub const READ_CHUNK: usize = 4 * 1024;
