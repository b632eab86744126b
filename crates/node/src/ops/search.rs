//! Reads: search_by_id, search_by_value, search_by_conditions, permission-checked and projected
//! (the SQL is `store/search.rs`).

use serde_json::Value;
use switchyard_protocol::ops::{SearchByConditions, SearchById, SearchByValue};

use super::project::project;
use super::Reply;
use crate::auth::{Access, Principal};
use crate::error::Result;
use crate::store::value::normalize_key;
use crate::Node;

pub async fn by_id(node: &Node, who: &Principal, req: SearchById) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    let keys: Vec<Value> = req.ids.iter().filter_map(|k| normalize_key(k, &meta.primary_key).ok()).collect();
    let found = node.store.docs_by_keys(&meta, &keys).await?;
    Ok(Reply::Raw(project(&meta, found, Some(&req.get_attributes))?))
}

pub async fn by_value(node: &Node, who: &Principal, req: SearchByValue) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    let found = node.store.search_by_value(&meta, &req).await?;
    Ok(Reply::Raw(project(&meta, found, req.get_attributes.as_deref())?))
}

pub async fn by_conditions(node: &Node, who: &Principal, req: SearchByConditions) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    let found = node.store.search_by_conditions(&meta, &req).await?;
    Ok(Reply::Raw(project(&meta, found, req.get_attributes.as_deref())?))
}
