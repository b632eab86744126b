//! switchyard-e2e: helpers shared by the scenario tests and the benchmarks: the conformance
//! runner (one request/response transcript, run against any Operations API server) and a real
//! HarperDB launcher, switchyard-nodes on loopback, the studio under WebDriver and a SocketCluster fan-out load generator.

pub mod conformance;
pub mod harperdb;
pub mod loopback;
pub mod studio;
pub mod webdriver;
pub mod fanout;

/// The allocator switchyard-node and the studio ship with (their binaries set it too): the
/// benchmarks run the node in process and measure it as shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
