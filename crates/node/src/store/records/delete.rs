//! Deletes by key or by query, and updates by query (the `sql` operation's UPDATE), each in
//! its own transaction with its log entry and tombstones.


use std::collections::HashMap;

use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};

use super::*;
use crate::store::value::{bind_all, key_from_row, key_param, key_text, normalize_key, now_ms, Param};
use crate::store::{digest, user_query_error, LogEntry, Store, TableMeta};
use crate::error::{Error, Result};

impl Store {
    /// Deletes records by key. Keys that do not exist are reported as skipped.
    pub async fn delete(&self, database: &str, table: &str, ids: &[Value], user: Option<&str>) -> Result<DeleteOutcome> {
        let meta = self.table(database, table)?;
        let keys = ids
            .iter()
            .map(|k| normalize_key(k, &meta.primary_key))
            .collect::<Result<Vec<_>>>()?;
        self.delete_picked(database, table, Pick::Keys(keys), user).await
    }

    /// Deletes the records that `select` (a query on the table whose first column is `pk`)
    /// answers, reading and deleting in one transaction of the writer: no write can slip in
    /// between the predicate and the delete.
    pub async fn delete_where(&self, database: &str, table: &str, select: &str, params: &[Param], user: Option<&str>) -> Result<DeleteOutcome> {
        self.delete_picked(database, table, Pick::Query(select, params), user).await
    }

    pub(super) async fn delete_picked(&self, database: &str, table: &str, pick: Pick<'_>, user: Option<&str>) -> Result<DeleteOutcome> {
        let mut w = self.writer().await?;
        let meta = self.table(database, table)?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let keys = match pick {
            Pick::Keys(keys) => keys,
            Pick::Query(sql, params) => {
                let rows = bind_all(sqlx::query(sql), params).fetch_all(&mut *tx).await.map_err(user_query_error)?;
                rows.iter().map(|r| key_from_row(r, 0)).collect::<Result<Vec<_>>>()?
            }
        };
        let mut changes = digest::Changes::default();
        let mut gone = delete_rows(&mut tx, &meta, &keys, &mut changes).await?;
        changes.write(&mut tx).await?;
        let mut outcome = DeleteOutcome::default();
        for k in keys {
            if gone.remove(&key_text(&k)).is_some() {
                outcome.deleted.push(k);
            } else {
                outcome.skipped.push(k);
            }
        }
        if outcome.deleted.is_empty() {
            tx.commit().await?;
            return Ok(outcome);
        }
        let now = now_ms();
        let version = self.clock.tick();
        adjust_count(&mut tx, meta.id, -(outcome.deleted.len() as i64), Some(now)).await?;
        let payload = Value::Array(outcome.deleted.clone()).to_string();
        let txn_id = self.append_log(&mut tx, &meta, "delete", user, &payload, now, version).await?;
        put_tombstones(&mut tx, &meta, &outcome.deleted, Stamp { at: now, version, origin: &self.node_name }, txn_id).await?;
        tx.commit().await?;
        self.announce(&LogEntry { id: txn_id, origin: &self.node_name, origin_id: txn_id, channel: &meta.channel(), operation: "delete", user, ts: now, version, records: &payload });
        outcome.txn_id = Some(txn_id);
        Ok(outcome)
    }

    /// A predicate update (SQL `UPDATE ... SET ... WHERE`): `select` answers, per matching
    /// record, `pk`, `doc`, then the new value of each of `names` as JSON text, computed by
    /// SQLite from the current row. It runs inside the writer's transaction together with the
    /// write, so concurrent `SET n = n + 1` never lose an increment.
    pub async fn update_where(
        &self,
        database: &str,
        table: &str,
        select: &str,
        params: &[Param],
        names: &[String],
        user: Option<&str>,
    ) -> Result<WriteOutcome> {
        let mut w = self.writer().await?;
        let meta = self.table(database, table)?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let rows = bind_all(sqlx::query(select), params).fetch_all(&mut *tx).await.map_err(user_query_error)?;
        let now = now_ms();
        let version = self.clock.tick();
        let mut outcome = WriteOutcome::default();
        let mut docs: Vec<RowWrite> = Vec::with_capacity(rows.len());
        let mut new_attrs = Vec::new();
        for row in &rows {
            let key = key_from_row(row, 0)?;
            let doc = parse_doc(&row.try_get::<String, _>(1)?)?;
            let mut set = Map::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.try_get::<Option<String>, _>(i + 2)? {
                    Some(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
                    None => Value::Null,
                };
                if let Some(kind) = meta.attribute(name).and_then(|a| a.kind.as_deref()) {
                    check_type(name, kind, &v)?;
                }
                set.insert(name.clone(), v);
            }
            let doc = merge(doc, set, now);
            collect_new_attributes(&meta, doc.keys(), &mut new_attrs);
            docs.push((key.clone(), serde_json::to_string(&doc).map_err(|e| Error::Internal(e.to_string()))?, now, version));
            outcome.written.push(key);
        }
        if docs.is_empty() {
            tx.commit().await?;
            return Ok(outcome);
        }
        let keys: Vec<Value> = docs.iter().map(|(k, _, _, _)| k.clone()).collect();
        let replaced = stored_hashes(&mut tx, &meta, &keys).await?;
        let mut changes = digest::Changes::default();
        upsert_rows(&mut tx, &meta, &docs, &self.node_name, &replaced, &mut changes).await?;
        changes.write(&mut tx).await?;
        let next_meta = add_attributes(&mut tx, &meta, new_attrs).await?;
        adjust_count(&mut tx, meta.id, 0, Some(now)).await?;
        let mut payload = String::from("[");
        for (i, (_, doc, _, _)) in docs.iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(doc);
        }
        payload.push(']');
        let txn_id = self.append_log(&mut tx, &meta, "update", user, &payload, now, version).await?;
        tx.commit().await?;
        if let Some(next) = next_meta {
            self.replace_meta(next);
        }
        self.announce(&LogEntry { id: txn_id, origin: &self.node_name, origin_id: txn_id, channel: &meta.channel(), operation: "update", user, ts: now, version, records: &payload });
        outcome.txn_id = Some(txn_id);
        Ok(outcome)
    }

    /// Appends to the transaction log inside the caller's transaction; returns the new id.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn append_log(
        &self,
        tx: &mut SqliteConnection,
        meta: &TableMeta,
        operation: &str,
        user: Option<&str>,
        records: &str,
        ts: f64,
        version: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO txn_log (origin, channel, operation, user, records, ts, version) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&self.node_name)
        .bind(meta.channel())
        .bind(operation)
        .bind(user)
        .bind(records)
        .bind(ts)
        .bind(version)
        .fetch_one(&mut *tx)
        .await?)
    }
}

/// When and where a write happened: its wall-clock time (for people and expiry), its version
/// and its origin (the order last-writer-wins uses).
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct Stamp<'a> {
    pub at: f64,
    pub version: i64,
    pub origin: &'a str,
}

/// Deletes the rows of these keys and takes them out of the table's digest (`changes`, written
/// by the caller in the same transaction); answers the keys that were there (by key text).
pub(in crate::store) async fn delete_rows(tx: &mut SqliteConnection, meta: &TableMeta, keys: &[Value], changes: &mut digest::Changes) -> Result<HashMap<String, ()>> {
    let sql = format!("DELETE FROM {} WHERE pk IN ({{keys}}) RETURNING pk, version, doc", meta.physical());
    let gone = rows_by_key_as(tx, &sql, keys, digest::row_hash).await?;
    for (kt, hash) in &gone {
        changes.remove(meta.id, digest::bucket_of(kt), *hash);
    }
    Ok(gone.into_keys().map(|k| (k, ())).collect())
}

/// The digest hash of each stored row among these keys (by key text).
pub(in crate::store) async fn stored_hashes(tx: &mut SqliteConnection, meta: &TableMeta, keys: &[Value]) -> Result<HashMap<String, u128>> {
    let sql = format!("SELECT pk, version, doc FROM {} WHERE pk IN ({{keys}})", meta.physical());
    rows_by_key_as(tx, &sql, keys, digest::row_hash).await
}

/// Records that `keys` were deleted by the write `stamp`; a tombstone only ever moves forward
/// by (version, origin), the order last-writer-wins uses. `log_id` is the delete's entry in this
/// node's log (what peers acknowledge before the tombstone may go).
pub(in crate::store) async fn put_tombstones(tx: &mut SqliteConnection, meta: &TableMeta, keys: &[Value], stamp: Stamp<'_>, log_id: i64) -> Result<()> {
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = put_tombstones_sql(chunk.len());
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = bind_all(q.bind(meta.id), &[key_param(k)]).bind(stamp.at).bind(stamp.origin).bind(log_id).bind(stamp.version);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Puts `n` tombstones `(table_id, pk, updated, origin, log_id, version)`; one already there
/// moves only forward, by (version, origin).
pub(in crate::store) fn put_tombstones_sql(n: usize) -> String {
    let marks = vec!["(?, ?, ?, ?, ?, ?)"; n].join(",");
    format!(
        "INSERT INTO tombstones (table_id, pk, updated, origin, log_id, version) VALUES {marks} ON CONFLICT(table_id, pk) DO UPDATE \
         SET updated = excluded.updated, origin = excluded.origin, log_id = excluded.log_id, version = excluded.version \
         WHERE (excluded.version, excluded.origin) > (tombstones.version, tombstones.origin)"
    )
}

/// Which records a delete removes: these keys, or what a query on the table answers.
pub(in crate::store) enum Pick<'a> {
    Keys(Vec<Value>),
    Query(&'a str, &'a [Param]),
}

