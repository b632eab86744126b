//! The SQL a group commit runs: one round trip reading what the group's keys hold, then the
//! multi-row inserts, updates and log entries.


use serde_json::Value;
use sqlx::{Row, SqliteConnection};

use super::*;
use crate::store::value::{bind_all, key_from_row, key_param, key_text, Param, SqliteQuery};
use crate::store::digest::{self, bucket_of, record_hash};
use crate::store::{AttributeMeta, TableMeta};
use crate::error::Result;

/// One round trip: opens the group's transaction, reads what each table holds for the keys the
/// group names (bodies only where a batch updates or upserts) into `TableWrites::stored`, and
/// answers the log's last id (its AUTOINCREMENT counter; the log is never trimmed, so nothing
/// above it was ever used).
pub(in crate::store) async fn read_group_state(tx: &mut SqliteConnection, tables: &mut [TableWrites], keys: &[Vec<Value>]) -> Result<i64> {
    let mut sql = String::from("BEGIN IMMEDIATE; SELECT -1, NULL, CAST(seq AS TEXT), NULL FROM sqlite_sequence WHERE name = 'txn_log';");
    let mut params: Vec<Param> = Vec::new();
    for (i, (t, keys)) in tables.iter().zip(keys).enumerate() {
        sql.push_str(&digest::parts_sql(i, t.meta.id));
        let doc = if t.replaces { "doc" } else { "NULL" };
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(",");
            sql.push_str(&format!("SELECT {i}, pk, {doc}, version FROM {} WHERE pk IN ({marks});", t.meta.physical()));
            params.extend(chunk.iter().map(key_param));
        }
    }
    let mut last_log_id = 0;
    for row in bind_all(sqlx::query(&sql), &params).fetch_all(&mut *tx).await? {
        let table: i64 = row.try_get(0)?;
        let third: Option<String> = row.try_get(2)?;
        if table == -1 {
            last_log_id = third.and_then(|s| s.parse().ok()).unwrap_or(0);
            continue;
        }
        if table < -1 {
            // A stored digest part of table -2 - table.
            let part: i64 = row.try_get(1)?;
            if let Some(t) = usize::try_from(-2 - table).ok().and_then(|i| tables.get_mut(i)) {
                t.stored_parts.insert((t.meta.id, part as u8), row.try_get(3)?);
            }
            continue;
        }
        let key = key_from_row(&row, 1)?;
        if let Some(t) = tables.get_mut(table as usize) {
            let kt = key_text(&key);
            // Where the group may replace rows, what each one holds in the digest.
            let doc = if t.replaces { Some(third.unwrap_or_default()) } else { None };
            if let Some(doc) = &doc {
                t.stored_hashes.insert(kt.clone(), record_hash(&kt, row.try_get(3)?, doc));
            }
            t.stored.insert(kt, doc);
        }
    }
    Ok(last_log_id)
}

/// An argument of a group's write script, borrowed from the plan.
pub(in crate::store) enum Arg<'a> {
    Key(&'a Value),
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    Real(f64),
    OptReal(Option<f64>),
    Bytes(&'a [u8]),
}

/// Binds a script's arguments in order.
pub(in crate::store) fn bind_args<'q>(mut q: SqliteQuery<'q>, args: Vec<Arg<'q>>) -> SqliteQuery<'q> {
    for a in args {
        q = match a {
            Arg::Key(k) => bind_all(q, &[key_param(k)]),
            Arg::Text(s) => q.bind(s),
            Arg::OptText(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Real(f) => q.bind(f),
            Arg::OptReal(f) => q.bind(f),
            Arg::Bytes(b) => q.bind(b),
        };
    }
    q
}

/// One round trip: per table the final rows, the attributes it learns and its count; then the
/// log entries with their ids; then the commit. Answers the catalog entries to install.
pub(in crate::store) async fn write_group(
    tx: &mut SqliteConnection,
    tables: &mut [TableWrites],
    entries: &[Announcement],
    ids: &[i64],
    origin: &str,
) -> Result<Vec<TableMeta>> {
    let mut metas = Vec::new();
    // Each final row with its bucket and hash; the digest takes back what a row replaces.
    let mut changes = digest::Changes::default();
    let rows: Vec<Vec<(RowWrite, i64)>> = tables
        .iter_mut()
        .map(|t| {
            let order = std::mem::take(&mut t.order);
            order
                .into_iter()
                .filter_map(|kt| {
                    let row = t.rows.remove(&kt)?;
                    let (bucket, hash) = (bucket_of(&kt), record_hash(&kt, row.3, &row.1));
                    if let Some(old) = t.stored_hashes.get(&kt) {
                        changes.remove(t.meta.id, bucket, *old);
                    }
                    changes.add(t.meta.id, bucket, hash);
                    Some((row, bucket as i64))
                })
                .collect()
        })
        .collect();
    let stored: digest::Parts = tables.iter_mut().flat_map(|t| std::mem::take(&mut t.stored_parts)).collect();
    let parts = changes.merged(&stored)?;
    let mut sql = String::new();
    let mut args: Vec<Arg> = Vec::new();
    for (t, rows) in tables.iter().zip(&rows) {
        if rows.is_empty() {
            continue;
        }
        // Keys were checked under the write lock: in insert mode a conflict is a bug and fails loudly.
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            sql.push_str(&insert_rows_sql(&t.meta, chunk.len(), t.replaces));
            sql.push(';');
            for ((key, doc, updated, version), bucket) in chunk {
                args.extend([Arg::Key(key), Arg::Text(doc), Arg::Real(*updated), Arg::Text(origin), Arg::Int(*version), Arg::Int(*bucket)]);
            }
        }
        let learnt = learn_attributes(&t.meta, &t.new_attrs, |statement, more, _| {
            sql.push_str(&statement);
            sql.push(';');
            args.extend(more);
        });
        metas.extend(learnt);
        sql.push_str(ADJUST_COUNT_SQL);
        sql.push(';');
        args.extend([Arg::Int(t.new_rows), Arg::Real(t.last_updated), Arg::Int(t.meta.id)]);
    }
    if !parts.is_empty() {
        sql.push_str(&digest::write_sql(parts.len()));
        sql.push(';');
        for (t, p, data) in &parts {
            args.extend([Arg::Int(*t), Arg::Int(*p as i64), Arg::Bytes(data)]);
        }
    }
    for (chunk, chunk_ids) in entries.chunks(LOG_ROWS_PER_STATEMENT).zip(ids.chunks(LOG_ROWS_PER_STATEMENT)) {
        let marks = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
        sql.push_str(&format!("INSERT INTO txn_log (id, origin, channel, operation, user, records, ts, version) VALUES {marks};"));
        for (e, id) in chunk.iter().zip(chunk_ids) {
            args.extend([
                Arg::Int(*id),
                Arg::Text(origin),
                Arg::Text(&e.channel),
                Arg::Text(e.operation),
                Arg::OptText(e.user.as_deref()),
                Arg::Text(&e.payload),
                Arg::Real(e.ts),
                Arg::Int(e.version),
            ]);
        }
    }
    sql.push_str("COMMIT;");
    bind_args(sqlx::query(&sql), args).execute(&mut *tx).await?;
    Ok(metas)
}
/// An insert of `n` rows `(pk, doc, updated, origin, version, bucket)`; with `upsert` an
/// existing key is replaced (its bucket is its key's).
pub(in crate::store) fn insert_rows_sql(meta: &TableMeta, n: usize, upsert: bool) -> String {
    let conflict = if upsert {
        " ON CONFLICT(pk) DO UPDATE SET doc = excluded.doc, updated = excluded.updated, origin = excluded.origin, version = excluded.version"
    } else {
        ""
    };
    let marks = vec!["(?, ?, ?, ?, ?, ?)"; n].join(",");
    format!("INSERT INTO {} (pk, doc, updated, origin, version, bucket) VALUES {marks}{conflict}", meta.physical())
}

/// The statements that record `names` as the table's next attributes, handed to `push` as
/// (statement, arguments, rows) by chunks; answers the table's metadata with them (None without
/// any), to install once committed.
pub(in crate::store) fn learn_attributes<'a>(meta: &TableMeta, names: &'a [String], mut push: impl FnMut(String, Vec<Arg<'a>>, usize)) -> Option<TableMeta> {
    if names.is_empty() {
        return None;
    }
    let mut next = meta.clone();
    for chunk in names.chunks(ROWS_PER_STATEMENT) {
        let mut args = Vec::with_capacity(chunk.len() * 3);
        for name in chunk {
            args.extend([Arg::Int(meta.id), Arg::Int(next.attributes.len() as i64), Arg::Text(name)]);
            next.attributes.push(AttributeMeta { name: name.clone(), kind: None, indexed: true });
        }
        push(add_attributes_sql(chunk.len()), args, chunk.len());
    }
    Some(next)
}

/// Records `n` attributes `(table_id, position, name)`, indexed; names already known are kept.
pub(in crate::store) fn add_attributes_sql(n: usize) -> String {
    let marks = vec!["(?, ?, ?, 1)"; n].join(",");
    format!("INSERT OR IGNORE INTO attributes (table_id, position, name, indexed) VALUES {marks}")
}

/// Moves a table's count by `?` and sets its last update (`?`, unless null) for table `?`.
pub(in crate::store) const ADJUST_COUNT_SQL: &str = "UPDATE tables SET record_count = record_count + ?, last_updated = COALESCE(?, last_updated) WHERE id = ?";

/// Writes `(key, document, updated, version)` rows stamped with `origin`, in multi-row
/// statements, replacing stored ones, and records what moves in the table's digest in `changes`
/// (the caller writes them in the same transaction): `replaced` holds the hash of every stored
/// row a key replaces (by key text).
pub(in crate::store) async fn upsert_rows(
    tx: &mut SqliteConnection,
    meta: &TableMeta,
    rows: &[RowWrite],
    origin: &str,
    replaced: &std::collections::HashMap<String, u128>,
    changes: &mut digest::Changes,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = insert_rows_sql(meta, chunk.len(), true);
        let mut q = sqlx::query(&sql);
        for (key, doc, updated, version) in chunk {
            let kt = key_text(key);
            let (bucket, hash) = (bucket_of(&kt), record_hash(&kt, *version, doc));
            if let Some(old) = replaced.get(&kt) {
                changes.remove(meta.id, bucket, *old);
            }
            changes.add(meta.id, bucket, hash);
            q = bind_all(q, &[key_param(key)]).bind(doc.as_str()).bind(*updated).bind(origin).bind(*version).bind(bucket as i64);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Records attributes new to the table; answers the table's next metadata, to install in the
/// catalog once the transaction commits.
pub(in crate::store) async fn add_attributes(tx: &mut SqliteConnection, meta: &TableMeta, names: Vec<String>) -> Result<Option<TableMeta>> {
    let mut statements = Vec::new();
    let next = learn_attributes(meta, &names, |sql, args, _| statements.push((sql, args)));
    for (sql, args) in statements {
        bind_args(sqlx::query(&sql), args).execute(&mut *tx).await?;
    }
    Ok(next)
}

/// Adds to `out` the attributes among `names` (a document's) that neither the table nor `out`
/// has yet.
pub(in crate::store) fn collect_new_attributes<'n>(meta: &TableMeta, names: impl IntoIterator<Item = &'n String>, out: &mut Vec<String>) {
    for k in names {
        if !meta.has_attribute(k) && !out.iter().any(|o| o == k) {
            out.push(k.clone());
        }
    }
}

/// Moves a table's stored record count by `delta` (and its last-update time, when given), in
/// the caller's transaction: the counter describe_table reads instead of scanning.
pub(in crate::store) async fn adjust_count(tx: &mut SqliteConnection, table_id: i64, delta: i64, last_updated: Option<f64>) -> Result<()> {
    sqlx::query(ADJUST_COUNT_SQL)
        .bind(delta)
        .bind(last_updated)
        .bind(table_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

