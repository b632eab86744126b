//! The node's integration tests, one binary (one link) with a shared support module: real
//! nodes on 127.0.0.1:0 with temporary data folders, every wait bounded.

mod common;
mod access;
mod auth;
mod bad_input;
mod convergence;
mod csv_and_system;
mod data_ops;
mod digest;
mod expiry;
mod fuzz;
mod hostile;
mod kill9;
mod lifecycle;
mod links;
mod replication;
mod restart;
mod schema_ops;
mod search_ops;
mod socketcluster;
mod sql_ops;
mod storage_full;
mod tls;
mod versions;
mod writes;
