//! The Operations API: one function per operation, one module per family, one dispatcher.

mod cluster;
mod csv;
mod data;
mod project;
mod schema;
mod search;
mod sql;
mod system;
mod users;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::Node;

/// An answer: a JSON value, or JSON text already assembled (record pages are never re-parsed).
#[derive(Debug)]
pub enum Reply {
    Json(Value),
    Raw(String),
}

impl Reply {
    /// A typed reply (a `switchyard_protocol::ops` struct), written as the client reads it.
    pub fn of<T: serde::Serialize>(reply: &T) -> Result<Reply> {
        serde_json::to_string(reply).map(Reply::Raw).map_err(|e| Error::Internal(format!("a reply could not be written: {e}")))
    }

    /// The answer as a value (tests and in-process callers).
    pub fn into_value(self) -> Result<Value> {
        match self {
            Reply::Json(v) => Ok(v),
            Reply::Raw(t) => serde_json::from_str(&t).map_err(|e| Error::Internal(e.to_string())),
        }
    }
}

pub(crate) fn parse<T: DeserializeOwned>(body: Value) -> Result<T> {
    serde_json::from_value(body).map_err(Error::from_request)
}

/// Every operation this node answers, for discovery and for tests.
pub const OPERATIONS: &[&str] = &[
    "create_database", "create_schema", "drop_database", "drop_schema", "describe_database", "describe_schema",
    "describe_all", "create_table", "drop_table", "describe_table", "create_attribute", "drop_attribute",
    "insert", "update", "upsert", "delete", "search_by_hash", "search_by_id", "search_by_value",
    "search_by_conditions", "sql", "csv_data_load", "get_job", "add_role", "alter_role", "drop_role", "list_roles",
    "add_user", "alter_user", "drop_user", "list_users", "user_info", "create_authentication_tokens", "login",
    "refresh_operation_token", "system_information", "registration_info", "read_log", "cluster_status", "add_node",
    "update_node", "remove_node", "cluster_read", "read_transaction_log",
];

pub async fn dispatch(node: &std::sync::Arc<Node>, who: &Principal, op: &str, body: Value) -> Result<Reply> {
    match op {
        "create_database" | "create_schema" => schema::create_database(node, who, parse(body)?).await,
        "drop_database" | "drop_schema" => schema::drop_database(node, who, parse(body)?).await,
        "describe_database" | "describe_schema" => schema::describe_database(node, who, parse(body)?).await,
        "describe_all" => schema::describe_all(node, who).await,
        "create_table" => schema::create_table(node, who, parse(body)?).await,
        "drop_table" => schema::drop_table(node, who, parse(body)?).await,
        "describe_table" => schema::describe_table(node, who, parse(body)?).await,
        "create_attribute" => schema::create_attribute(node, who, parse(body)?).await,
        "drop_attribute" => schema::drop_attribute(node, who, parse(body)?).await,
        "insert" => data::write(node, who, crate::store::WriteMode::Insert, parse(body)?).await,
        "update" => data::write(node, who, crate::store::WriteMode::Update, parse(body)?).await,
        "upsert" => data::write(node, who, crate::store::WriteMode::Upsert, parse(body)?).await,
        "delete" => data::delete(node, who, parse(body)?).await,
        "search_by_hash" | "search_by_id" => search::by_id(node, who, parse(body)?).await,
        "search_by_value" => search::by_value(node, who, parse(body)?).await,
        "search_by_conditions" => search::by_conditions(node, who, parse(body)?).await,
        "sql" => sql::run(node, who, parse(body)?).await,
        "csv_data_load" => csv::load(node, who, parse(body)?).await,
        "get_job" => csv::get_job(node, parse(body)?).await,
        "add_role" | "alter_role" | "drop_role" | "list_roles" | "add_user" | "alter_user" | "drop_user"
        | "list_users" | "user_info" | "create_authentication_tokens" | "login" => users::dispatch(node, who, op, body).await,
        "system_information" => system::system_information(node, who, parse(body)?).await,
        "registration_info" => system::registration_info(node),
        "read_log" => system::read_log(node, who, parse(body)?),
        "read_transaction_log" => system::read_transaction_log(node, who, parse(body)?).await,
        "cluster_status" => {
            who.require_super("cluster_status")?;
            Reply::of(&cluster::cluster_status(node).await?)
        }
        "cluster_read" => {
            who.require_super("cluster_read")?;
            let search = body.get("search").cloned().ok_or_else(|| Error::bad("'search' is required: the read operation to run on every node"))?;
            Ok(Reply::Json(crate::replication::cluster_read(node, who, search).await?))
        }
        "add_node" => {
            who.require_super("add_node")?;
            Ok(Reply::Json(cluster::add_node(node, parse(body)?).await?))
        }
        "update_node" => {
            who.require_super("update_node")?;
            Ok(Reply::Json(cluster::update_node(node, parse(body)?).await?))
        }
        "remove_node" => {
            who.require_super("remove_node")?;
            let req: switchyard_protocol::ops::RemoveNode = parse(body)?;
            Ok(Reply::Json(cluster::remove_node(node, &req.name).await?))
        }
        _ => Err(Error::bad(format!("Operation '{op}' not found"))),
    }
}
