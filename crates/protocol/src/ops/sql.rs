//! The sql operation.

use serde::{Deserialize, Serialize};


/// sql.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sql {
    pub sql: String,
}
