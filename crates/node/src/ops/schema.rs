//! Databases, tables and attributes: create, drop, describe.

use serde_json::{Map, Value};
use switchyard_protocol::ops::{Message, AttributeDescription, AttributeRef, CreateTable, DatabaseRef, TableDescription, TableRef};

use super::Reply;
use crate::auth::{Access, Principal};
use crate::error::{Error, Result};
use crate::store::{AttributeMeta, TableMeta};
use crate::Node;

fn message(message: String) -> Result<Reply> {
    Reply::of(&Message { message })
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

pub async fn create_database(node: &Node, who: &Principal, req: DatabaseRef) -> Result<Reply> {
    who.require_super("create_database")?;
    node.store.create_database(&req.database).await?;
    message(format!("database '{}' successfully created", req.database))
}

pub async fn drop_database(node: &Node, who: &Principal, req: DatabaseRef) -> Result<Reply> {
    who.require_super("drop_database")?;
    node.store.drop_database(&req.database).await?;
    message(format!("successfully deleted '{}'", req.database))
}

pub async fn create_table(node: &Node, who: &Principal, req: CreateTable) -> Result<Reply> {
    who.require_super("create_table")?;
    let declared = req.attributes.map(|list| {
        list.into_iter()
            .map(|a| AttributeMeta { name: a.name, kind: a.kind, indexed: a.indexed.unwrap_or(false) })
            .collect()
    });
    node.store.create_table(&req.database, &req.table, &req.primary_key, req.expiration, declared).await?;
    message(format!("table '{}.{}' successfully created.", req.database, req.table))
}

pub async fn drop_table(node: &Node, who: &Principal, req: TableRef) -> Result<Reply> {
    who.require_super("drop_table")?;
    node.store.drop_table(&req.database, &req.table).await?;
    message(format!("successfully deleted table '{}.{}'", req.database, req.table))
}

pub async fn create_attribute(node: &Node, who: &Principal, req: AttributeRef) -> Result<Reply> {
    who.require_super("create_attribute")?;
    node.store.create_attribute(&req.database, &req.table, &req.attribute).await?;
    message(format!("attribute '{}.{}.{}' successfully created.", req.database, req.table, req.attribute))
}

pub async fn drop_attribute(node: &Node, who: &Principal, req: AttributeRef) -> Result<Reply> {
    who.require_super("drop_attribute")?;
    node.store.drop_attribute(&req.database, &req.table, &req.attribute).await?;
    message(format!("successfully deleted attribute '{}'", req.attribute))
}

/// The description of one table; `record_count` is a stored counter, never a scan.
pub async fn describe(node: &Node, meta: &TableMeta) -> Result<TableDescription> {
    let (record_count, last_updated_record) = node.store.table_stats(meta).await?;
    let attributes = meta
        .attributes
        .iter()
        .map(|a| {
            let pk = a.name == meta.primary_key;
            AttributeDescription {
                attribute: a.name.clone(),
                kind: a.kind.clone(),
                indexed: (!pk && a.indexed).then_some(true),
                is_primary_key: pk.then_some(true),
            }
        })
        .collect();
    Ok(TableDescription {
        schema: meta.database.clone(),
        name: meta.name.clone(),
        hash_attribute: meta.primary_key.clone(),
        audit: true,
        schema_defined: meta.schema_defined,
        attributes,
        db_size: node.store.db_size(),
        sources: vec![],
        record_count,
        last_updated_record,
        expiration: meta.expiration,
        estimated_record_range: None,
    })
}

pub async fn describe_table(node: &Node, who: &Principal, req: TableRef) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    Reply::of(&describe(node, &meta).await?)
}

async fn describe_tables(node: &Node, who: &Principal, database: &str) -> Result<Map<String, Value>> {
    let catalog = node.store.catalog();
    let mut out = Map::new();
    for (name, meta) in catalog.database(database)? {
        if who.allows(database, name, Access::Read) {
            out.insert(name.clone(), to_value(&describe(node, meta).await?)?);
        }
    }
    Ok(out)
}

pub async fn describe_database(node: &Node, who: &Principal, req: DatabaseRef) -> Result<Reply> {
    who.require_database(&req.database)?;
    Ok(Reply::Json(Value::Object(describe_tables(node, who, &req.database).await?)))
}

/// Every database and table the caller may read; a non-super user sees only those.
pub async fn describe_all(node: &Node, who: &Principal) -> Result<Reply> {
    let names: Vec<String> = node.store.catalog().databases.keys().cloned().collect();
    let mut out = Map::new();
    for db in names {
        let tables = match describe_tables(node, who, &db).await {
            Ok(t) => t,
            Err(Error::NotFound(_)) => continue, // dropped meanwhile
            Err(e) => return Err(e),
        };
        if who.is_super() || !tables.is_empty() {
            out.insert(db, Value::Object(tables));
        }
    }
    Ok(Reply::Json(Value::Object(out)))
}
