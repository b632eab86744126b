//! Scenario tests on real parts over loopback, one binary (one link on a 2-core machine): the
//! studio's topology, link plans, Verify and Repair against real nodes (`topology`), the tail
//! (`tail`), the factory scenario (`factory`), the SocketCluster clients (`sc_client`,
//! `socketcluster_client`), channel fan-out (`fanout`), health in time (`health`) wiring as code (`wiring`) and the code's layering (`layering`).

mod factory;
mod fanout;
mod health;
mod layering;
mod sc_client;
mod socketcluster_client;
mod tail;
mod topology;
mod wiring;
