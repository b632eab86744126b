//! The state of single keys, deleted ones included, and repairs that set them: what Verify
//! reads side by side and what Repair writes (the SQL of `ops/digest.rs`'s record_states and
//! repair_records).
//!
//! Invariants: a repair sets a key only while the node still holds exactly the state it was
//! planned against (compare-and-set on version and origin), so a write that lands between
//! Verify and Repair is never overwritten; it moves the table's digest and count in the same
//! transaction, writes no log entry and moves no position (it is not a write of any origin: it
//! puts in place one that was already made), and advances the clock past the versions it sets.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{Row, SqliteConnection};
use switchyard_protocol::ops::{KeyState, RecordMark, RecordRepair, RecordState, RecordStates, RepairReport};

use super::digest::{self, Changes};
use super::records::{add_attributes, adjust_count, collect_new_attributes, delete_rows, parse_doc, put_tombstones, rows_by_key_as, upsert_rows, Stamp};
use super::value::{bind_all, key_param, key_text, normalize_key};
use super::{Store, TableMeta};
use crate::error::{Error, Result};

/// Keys one record_states or repair_records names at most.
pub const KEYS_MAX: usize = 1_000;

/// A live row as read for its state: version, origin, time, document text and digest hash.
type LiveRow = (i64, String, f64, String, u128);

async fn live_rows(conn: &mut SqliteConnection, meta: &TableMeta, keys: &[Value]) -> Result<HashMap<String, LiveRow>> {
    // `doc` last: the digest hash reads the row's last column.
    let sql = format!("SELECT pk, version, origin, updated, doc FROM {} WHERE pk IN ({{keys}})", meta.physical());
    rows_by_key_as(conn, &sql, keys, |row| {
        let hash = digest::row_hash(row)?;
        Ok((row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, hash))
    })
    .await
}

async fn tombstones(conn: &mut SqliteConnection, meta: &TableMeta, keys: &[Value]) -> Result<HashMap<String, (i64, String, f64)>> {
    // The table id is ours (an integer), never client text.
    let sql = format!("SELECT pk, version, origin, updated FROM tombstones WHERE table_id = {} AND pk IN ({{keys}})", meta.id);
    rows_by_key_as(conn, &sql, keys, |row| Ok((row.try_get(1)?, row.try_get(2)?, row.try_get(3)?))).await
}

fn mark_of(kt: &str, live: &HashMap<String, LiveRow>, tombs: &HashMap<String, (i64, String, f64)>) -> RecordMark {
    match (live.get(kt), tombs.get(kt)) {
        (Some((version, origin, ..)), _) => RecordMark::Live { version: *version, origin: origin.clone() },
        (None, Some((version, origin, _))) => RecordMark::Deleted { version: *version, origin: origin.clone() },
        (None, None) => RecordMark::Absent,
    }
}

fn checked_keys<'a>(meta: &TableMeta, keys: impl ExactSizeIterator<Item = &'a Value>) -> Result<Vec<Value>> {
    if keys.len() > KEYS_MAX {
        return Err(Error::bad(format!("at most {KEYS_MAX} keys at once, got {}", keys.len())));
    }
    keys.map(|k| normalize_key(k, &meta.primary_key)).collect()
}

impl Store {
    /// How this node holds each key (a record, a tombstone or nothing), read in one snapshot.
    pub async fn record_states(&self, meta: &TableMeta, keys: &[Value]) -> Result<RecordStates> {
        let keys = checked_keys(meta, keys.iter())?;
        let mut tx = self.read_pool().begin().await?;
        let live = live_rows(&mut tx, meta, &keys).await?;
        let tombs = tombstones(&mut tx, meta, &keys).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let kt = key_text(&key);
            let state = match (live.get(&kt), tombs.get(&kt)) {
                (Some((version, origin, updated, doc, _)), _) => {
                    RecordState::Live { version: *version, origin: origin.clone(), updated: *updated, record: parse_doc(doc)? }
                }
                (None, Some((version, origin, updated))) => RecordState::Deleted { version: *version, origin: origin.clone(), updated: *updated },
                (None, None) => RecordState::Absent,
            };
            out.push(KeyState { key, state });
        }
        Ok(RecordStates { node: self.node_name.clone(), keys: out })
    }

    /// Sets each key to its repair's state where the node still holds what the repair expects;
    /// the others are answered as changed and left alone. One transaction.
    pub async fn repair_records(&self, meta: &TableMeta, repairs: &[RecordRepair]) -> Result<RepairReport> {
        let keys = checked_keys(meta, repairs.iter().map(|r| &r.key))?;
        for (r, key) in repairs.iter().zip(&keys) {
            if let RecordState::Live { record, version, origin, .. } = &r.set {
                let held = record.get(&meta.primary_key).map(|k| normalize_key(k, &meta.primary_key)).transpose()?;
                if held.as_ref() != Some(key) {
                    return Err(Error::bad(format!("the record set for key {key} does not hold that key in '{}'", meta.primary_key)));
                }
                if *version <= 0 || origin.is_empty() {
                    return Err(Error::bad(format!("the record set for key {key} needs a version and an origin")));
                }
            }
            if let RecordState::Deleted { version, origin, .. } = &r.set {
                if *version <= 0 || origin.is_empty() {
                    return Err(Error::bad(format!("the delete set for key {key} needs a version and an origin")));
                }
            }
        }
        let mut w = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let live = live_rows(&mut tx, meta, &keys).await?;
        let tombs = tombstones(&mut tx, meta, &keys).await?;
        // A tombstone set here is pruned like one a delete made at the log's current head.
        let log_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM txn_log").fetch_one(&mut *tx).await?;
        let mut changes = Changes::default();
        let mut new_attrs = Vec::new();
        let (mut repaired, mut count_delta, mut changed) = (0u64, 0i64, Vec::new());
        let unstone = format!("DELETE FROM tombstones WHERE table_id = {} AND pk = ?", meta.id);
        for (r, key) in repairs.iter().zip(keys) {
            let kt = key_text(&key);
            if mark_of(&kt, &live, &tombs) != r.expected {
                changed.push(key);
                continue;
            }
            let was_live = live.get(&kt);
            if was_live.is_some() {
                delete_rows(&mut tx, meta, std::slice::from_ref(&key), &mut changes).await?;
                count_delta -= 1;
            }
            bind_all(sqlx::query(&unstone), &[key_param(&key)]).execute(&mut *tx).await?;
            match &r.set {
                RecordState::Live { version, origin, updated, record } => {
                    self.clock.observe(*version);
                    collect_new_attributes(meta, record.keys(), &mut new_attrs);
                    let doc = serde_json::to_string(record).map_err(|e| Error::Internal(e.to_string()))?;
                    upsert_rows(&mut tx, meta, &[(key, doc, *updated, *version)], origin, &HashMap::new(), &mut changes).await?;
                    count_delta += 1;
                }
                RecordState::Deleted { version, origin, updated } => {
                    self.clock.observe(*version);
                    put_tombstones(&mut tx, meta, &[key], Stamp { at: *updated, version: *version, origin }, log_id).await?;
                }
                RecordState::Absent => {}
            }
            repaired += 1;
        }
        changes.write(&mut tx).await?;
        if count_delta != 0 {
            adjust_count(&mut tx, meta.id, count_delta, None).await?;
        }
        let next_meta = add_attributes(&mut tx, meta, new_attrs).await?;
        tx.commit().await?;
        if let Some(next) = next_meta {
            self.replace_meta(next);
        }
        Ok(RepairReport { node: self.node_name.clone(), repaired, changed })
    }
}
