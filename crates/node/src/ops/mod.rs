//! The Operations API: one function per operation, one module per family, one dispatcher.

mod cluster;
mod cluster_read;
mod csv;
mod data;
mod digest;
mod project;
mod schema;
mod search;
mod sql;
mod system;
mod users;

use serde_json::Value;
use switchyard_protocol::{Operation, OperationError};

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

/// Every operation this node answers, for discovery and for tests.
pub const OPERATIONS: &[&str] = Operation::NAMES;

/// Reads a request body as an operation, or says why it is not one (400).
pub fn operation(body: Value) -> Result<Operation> {
    Operation::from_value(body).map_err(|e| match e {
        OperationError::Invalid(e) => Error::from_request(e),
        other => Error::bad(other.to_string()),
    })
}

pub async fn dispatch(node: &std::sync::Arc<Node>, who: &Principal, op: Operation) -> Result<Reply> {
    use Operation as O;
    match op {
        O::CreateDatabase(r) => schema::create_database(node, who, r).await,
        O::DropDatabase(r) => schema::drop_database(node, who, r).await,
        O::DescribeDatabase(r) => schema::describe_database(node, who, r).await,
        O::DescribeAll(_) => schema::describe_all(node, who).await,
        O::CreateTable(r) => schema::create_table(node, who, r).await,
        O::DropTable(r) => schema::drop_table(node, who, r).await,
        O::DescribeTable(r) => schema::describe_table(node, who, r).await,
        O::CreateAttribute(r) => schema::create_attribute(node, who, r).await,
        O::DropAttribute(r) => schema::drop_attribute(node, who, r).await,
        O::Insert(r) => data::write(node, who, crate::store::WriteMode::Insert, r).await,
        O::Update(r) => data::write(node, who, crate::store::WriteMode::Update, r).await,
        O::Upsert(r) => data::write(node, who, crate::store::WriteMode::Upsert, r).await,
        O::Delete(r) => data::delete(node, who, r).await,
        O::SearchById(r) => search::by_id(node, who, r).await,
        O::SearchByValue(r) => search::by_value(node, who, r).await,
        O::SearchByConditions(r) => search::by_conditions(node, who, r).await,
        O::Sql(r) => sql::run(node, who, r).await,
        O::CsvDataLoad(r) => csv::load(node, who, r).await,
        O::GetJob(r) => csv::get_job(node, r).await,
        O::AddRole(_) | O::AlterRole(_) | O::DropRole(_) | O::ListRoles(_) | O::AddUser(_) | O::AlterUser(_) | O::DropUser(_)
        | O::ListUsers(_) | O::UserInfo(_) | O::CreateAuthenticationTokens(_) | O::Login(_) => users::dispatch(node, who, op).await,
        // Answered before dispatch, from the Bearer refresh token (see http.rs).
        O::RefreshOperationToken(_) => Err(Error::Unauthorized("refresh_operation_token needs 'Authorization: Bearer <refresh_token>'".into())),
        O::SystemInformation(r) => system::system_information(node, who, r).await,
        O::RegistrationInfo(_) => system::registration_info(node),
        O::ReadLog(r) => system::read_log(node, who, r),
        O::ReadTransactionLog(r) => system::read_transaction_log(node, who, r).await,
        O::ClusterStatus(_) => {
            who.require_super("cluster_status")?;
            Reply::of(&cluster::cluster_status(node).await?)
        }
        O::ClusterRead(r) => {
            who.require_super("cluster_read")?;
            Reply::of(&cluster_read::cluster_read(node, who, *r.search).await?)
        }
        O::AddNode(r) => {
            who.require_super("add_node")?;
            Reply::of(&cluster::add_node(node, r).await?)
        }
        O::UpdateNode(r) => {
            who.require_super("update_node")?;
            Reply::of(&cluster::update_node(node, r).await?)
        }
        O::TableDigest(r) => digest::table_digest(node, who, r).await,
        O::TableDigestRecords(r) => digest::table_digest_records(node, who, r).await,
        O::RecordStates(r) => digest::record_states(node, who, r).await,
        O::RepairRecords(r) => digest::repair_records(node, who, r).await,
        O::RemoveNode(r) => {
            who.require_super("remove_node")?;
            Reply::of(&cluster::remove_node(node, &r.name).await?)
        }
    }
}
