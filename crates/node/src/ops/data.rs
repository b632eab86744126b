//! Record writes: insert, update, upsert, delete, with HarperDB's reply shapes.

use serde_json::Value;
use switchyard_protocol::ops::{DeleteRecords, DeleteReply, InsertReply, UpdateReply, UpsertReply, WriteRecords};

use super::Reply;
use crate::auth::{Access, Principal};
use crate::error::{Error, Result};
use crate::store::WriteMode;
use crate::Node;

pub fn required_access(mode: WriteMode) -> &'static [Access] {
    match mode {
        WriteMode::Insert => &[Access::Insert],
        WriteMode::Update => &[Access::Update],
        WriteMode::Upsert => &[Access::Insert, Access::Update],
    }
}

pub async fn write(node: &Node, who: &Principal, mode: WriteMode, req: WriteRecords) -> Result<Reply> {
    who.require(&req.database, &req.table, required_access(mode))?;
    if req.records.is_empty() {
        return Err(Error::bad("'records' must contain at least 1 item"));
    }
    let total = req.records.len();
    let out = node.store.write(&req.database, &req.table, mode, req.records, Some(&who.username)).await?;
    write_reply(mode, total, out.written, out.skipped)
}

pub fn write_reply(mode: WriteMode, total: usize, written: Vec<Value>, skipped: Vec<Value>) -> Result<Reply> {
    let n = written.len();
    match mode {
        WriteMode::Insert => Reply::of(&InsertReply { message: format!("inserted {n} of {total} records"), inserted_hashes: written, skipped_hashes: skipped }),
        WriteMode::Update => Reply::of(&UpdateReply { message: format!("updated {n} of {total} records"), update_hashes: written, skipped_hashes: skipped }),
        WriteMode::Upsert => Reply::of(&UpsertReply { message: format!("upserted {n} of {total} records"), upserted_hashes: written }),
    }
}

pub async fn delete(node: &Node, who: &Principal, req: DeleteRecords) -> Result<Reply> {
    who.require(&req.database, &req.table, &[Access::Delete])?;
    let out = node.store.delete(&req.database, &req.table, &req.ids, Some(&who.username)).await?;
    delete_reply(req.ids.len(), out.deleted, out.skipped)
}

pub fn delete_reply(total: usize, deleted: Vec<Value>, skipped: Vec<Value>) -> Result<Reply> {
    let noun = if total == 1 { "record" } else { "records" };
    Reply::of(&DeleteReply { message: format!("{} of {total} {noun} successfully deleted", deleted.len()), deleted_hashes: deleted, skipped_hashes: skipped })
}
