//! The test kit of the workspace (as Corrosion's test crate): a node launched on a fresh
//! folder at 127.0.0.1:0 with an admin client (`TestNode`), bounded waits (`eventually`,
//! `eventually_some`) and a free loopback port. Used by the node's own tests and by the
//! scenario tests and benchmarks of `tests/`; never by shipped code.

mod node;
mod wait;

pub use node::{launch_in, TestNode, ADMIN, PASSWORD};
pub use wait::{eventually, eventually_some, eventually_some_within, free_ports, until, TimedOut, WAIT};
