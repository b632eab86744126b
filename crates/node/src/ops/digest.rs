//! The convergence operations: table_digest and table_digest_records (what a node holds of a
//! table, as bucket digests and the records of some buckets), record_states and repair_records
//! (single keys, read and set), for proving two nodes converged and repairing them (the SQL is
//! `store/digest.rs` and `store/repair.rs`).

use switchyard_protocol::ops::{DigestRecordsRequest, RecordStatesRequest, RepairRecordsRequest, TableDigestRequest};

use super::Reply;
use crate::auth::{Access, Principal};
use crate::error::{Error, Result};
use crate::store::digest::{BUCKETS, LIST_LIMIT};
use crate::store::value::normalize_key;
use crate::Node;

/// Anyone who may read the table may read its digest.
pub async fn table_digest(node: &Node, who: &Principal, req: TableDigestRequest) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    Reply::of(&node.store.table_digest(&meta).await?)
}

pub async fn table_digest_records(node: &Node, who: &Principal, req: DigestRecordsRequest) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    if req.buckets.is_empty() {
        return Err(Error::bad("'buckets' names no bucket"));
    }
    let buckets = req
        .buckets
        .iter()
        .map(|b| u8::try_from(*b).map_err(|_| Error::bad(format!("'buckets' must be from 0 to {}, got {b}", BUCKETS - 1))))
        .collect::<Result<Vec<u8>>>()?;
    let limit = match req.limit {
        None => LIST_LIMIT,
        Some(n) if (1..=LIST_LIMIT).contains(&n) => n,
        Some(n) => return Err(Error::bad(format!("'limit' must be from 1 to {LIST_LIMIT}, got {n}"))),
    };
    let after = match &req.after {
        Some(k) => Some(normalize_key(k, &meta.primary_key).map_err(|e| Error::bad(format!("'after': {e}")))?),
        None => None,
    };
    Reply::of(&node.store.digest_records(&meta, &buckets, after.as_ref(), limit).await?)
}

/// Anyone who may read the table may read its keys' states.
pub async fn record_states(node: &Node, who: &Principal, req: RecordStatesRequest) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    Reply::of(&node.store.record_states(&meta, &req.keys).await?)
}

/// A repair sets versions of other origins, which no write may: super users only.
pub async fn repair_records(node: &Node, who: &Principal, req: RepairRecordsRequest) -> Result<Reply> {
    who.require_super("repair_records")?;
    let meta = node.store.table(&req.database, &req.table)?;
    Reply::of(&node.store.repair_records(&meta, &req.repairs).await?)
}
