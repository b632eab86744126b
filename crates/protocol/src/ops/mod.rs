//! Operations API requests and replies in HarperDB 4.7's shapes, one module per operation family
//! (as the node's `ops/`). Legacy names are accepted as aliases (`schema` for `database`,
//! `hash_attribute` for `primary_key`, `hash_values` for `ids`).

use serde::{Deserialize, Serialize};

use crate::DEFAULT_DATABASE;

mod cluster;
mod csv;
mod data;
mod digest;
mod schema;
mod search;
mod sql;
mod system;
mod users;

pub use cluster::*;
pub use csv::*;
pub use data::*;
pub use digest::*;
pub use schema::*;
pub use search::*;
pub use sql::*;
pub use system::*;
pub use users::*;

fn default_database() -> String {
    DEFAULT_DATABASE.to_string()
}

/// A plain `{"message": …}` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

/// An Operations API error answer: `{"error"}` (HarperDB's), the `code` a client branches on
/// (switchyard-node; HarperDB sends none), plus on a 403 what was missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthorized_access: Option<Vec<Denied>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_schema_items: Option<Vec<String>>,
}
