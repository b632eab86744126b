//! The storage side of replication: reading the log for a peer, applying a peer's entries
//! idempotently, in order, with last-writer-wins, in one transaction with the peer position;
//! the peers' acknowledged positions and the tombstones they let go.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};

use super::digest::{row_hash, Changes};
use super::records::{add_attributes, adjust_count, collect_new_attributes, delete_rows, put_tombstones, rows_by_key_as, upsert_rows, Stamp};
use super::value::{key_text, normalize_key};
use super::{LogEntry, Store, TableMeta};
use crate::error::{Error, Result};

/// A page holds at least one entry and stops after about this many bytes of records, so a
/// backlog of large transactions never becomes one huge frame or one huge apply.
const PAGE_BYTES: usize = 1 << 20;

/// A page of the log on one channel, as sent to a peer.
#[derive(Debug, Default)]
pub struct LogPage {
    /// The entries, as JSON text (see `entry_json`).
    pub entries: Vec<String>,
    /// The highest log id looked at (entries skipped for their origin included).
    pub upto: i64,
}

/// One entry received from a peer.
#[derive(Debug, Deserialize)]
pub struct RemoteEntry {
    pub origin: String,
    pub origin_id: i64,
    pub operation: String,
    pub ts: f64,
    /// The write's version at its origin: required (an entry without one cannot be ordered, and
    /// is refused rather than given a default).
    pub version: i64,
    /// Kept as the sender's text: logged as is, parsed once for applying.
    #[serde(default)]
    pub records: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub ids: Option<Vec<Value>>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    /// Entries written (and logged, so forwarded further).
    pub applied: usize,
    /// Entries seen before (another path, or a replay) and skipped.
    pub duplicates: usize,
}

impl Store {
    /// Log entries on `channel` after `after`, at most `limit` rows looked at, leaving out
    /// entries that originated at `exclude_origin` (never send a peer its own writes back).
    /// Only entries known to be on disk are read: a peer never holds what a crash could undo.
    pub async fn log_after(&self, channel: &str, after: i64, limit: i64, exclude_origin: &str) -> Result<LogPage> {
        self.log_page(channel, after, self.durable_head(), limit, exclude_origin).await
    }

    /// Log entries on `channel` after `after`, up to what is committed (on disk or not, as a
    /// live subscriber sees it), at most `limit`: the backlog of a resumed subscription.
    pub async fn log_committed_after(&self, channel: &str, after: i64, limit: i64) -> Result<LogPage> {
        self.log_page(channel, after, i64::MAX, limit, "").await
    }

    async fn log_page(&self, channel: &str, after: i64, upto: i64, limit: i64, exclude_origin: &str) -> Result<LogPage> {
        let rows = sqlx::query(
            "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
             WHERE channel = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
        )
        .bind(channel)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?;
        let mut page = LogPage { entries: Vec::with_capacity(rows.len()), upto: after };
        let mut bytes = 0usize;
        for row in rows {
            if bytes >= PAGE_BYTES {
                break; // the rest goes in the next page; `upto` stops before it
            }
            let id: i64 = row.try_get(0)?;
            page.upto = id;
            let origin: String = row.try_get(1)?;
            if origin == exclude_origin {
                continue;
            }
            let operation: String = row.try_get(3)?;
            let records: String = row.try_get(5)?;
            bytes += records.len();
            let user: Option<String> = row.try_get(6)?;
            page.entries.push(
                LogEntry {
                    id,
                    origin: &origin,
                    origin_id: row.try_get(2)?,
                    channel,
                    operation: &operation,
                    user: user.as_deref(),
                    ts: row.try_get(4)?,
                    version: row.try_get(7)?,
                    records: &records,
                }
                .json(),
            );
        }
        Ok(page)
    }

    /// A channel's log entries as JSON (see `entry_json`), oldest first: by id after `from` up
    /// to `to`, or with `by_time` by timestamp from `from` up to `to` (epoch ms); at most `limit`.
    /// What is committed, as any reader sees it.
    /// With `last`, the last `limit` entries of the range (answered in log order).
    pub async fn transaction_log(&self, channel: &str, by_time: bool, from: Option<f64>, to: Option<f64>, limit: i64, last: bool) -> Result<Vec<String>> {
        let sql = match (by_time, last) {
            (true, false) => "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
                              WHERE channel = ? AND ts >= ? AND ts <= ? ORDER BY id LIMIT ?",
            (true, true) => "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
                             WHERE channel = ? AND ts >= ? AND ts <= ? ORDER BY id DESC LIMIT ?",
            (false, false) => "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
                               WHERE channel = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
            (false, true) => "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
                              WHERE channel = ? AND id > ? AND id <= ? ORDER BY id DESC LIMIT ?",
        };
        let (lo, hi) = if by_time {
            (from.unwrap_or(0.0), to.unwrap_or(f64::MAX))
        } else {
            (from.unwrap_or(0.0).min(i64::MAX as f64), to.unwrap_or(i64::MAX as f64))
        };
        let q = sqlx::query(sql).bind(channel);
        let q = if by_time { q.bind(lo).bind(hi) } else { q.bind(lo as i64).bind(hi as i64) };
        let mut rows = q.bind(limit).fetch_all(self.read_pool()).await?;
        if last {
            rows.reverse();
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let user: Option<String> = row.try_get(6)?;
            out.push(
                LogEntry {
                    id: row.try_get(0)?,
                    origin: &row.try_get::<String, _>(1)?,
                    origin_id: row.try_get(2)?,
                    channel,
                    operation: &row.try_get::<String, _>(3)?,
                    user: user.as_deref(),
                    ts: row.try_get(4)?,
                    version: row.try_get(7)?,
                    records: &row.try_get::<String, _>(5)?,
                }
                .json(),
            );
        }
        Ok(out)
    }

    /// Drops tombstones: on each table in `acknowledged`, those whose delete is at or below
    /// the given log id and older than `settled` (epoch ms); on every table, those older than
    /// `expired`. Answers how many went.
    pub async fn prune_tombstones(&self, acknowledged: &[(i64, i64)], settled: f64, expired: f64) -> Result<u64> {
        let mut w = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let mut gone = 0;
        for (table_id, upto) in acknowledged {
            gone += sqlx::query("DELETE FROM tombstones WHERE table_id = ? AND log_id <= ? AND updated < ?")
                .bind(table_id)
                .bind(upto)
                .bind(settled)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        gone += sqlx::query("DELETE FROM tombstones WHERE updated < ?").bind(expired).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// Stores acknowledged positions `(peer, channel, acked)`; a position only moves forward.
    pub async fn save_acks(&self, acks: &[(String, String, i64)]) -> Result<()> {
        if acks.is_empty() {
            return Ok(());
        }
        let mut w = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        for (peer, channel, acked) in acks {
            sqlx::query(
                "INSERT INTO peer_acks (peer, channel, acked) VALUES (?, ?, ?) \
                 ON CONFLICT(peer, channel) DO UPDATE SET acked = MAX(acked, excluded.acked)",
            )
            .bind(peer)
            .bind(channel)
            .bind(acked)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the positions of entries relayed by `via` (its user was dropped).
    pub async fn forget_relay(&self, via: &str) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("DELETE FROM relay_positions WHERE via = ?").bind(via).execute(&mut *w).await?;
        Ok(())
    }

    /// Removes stored acknowledged positions of `(peer, channel)` pairs.
    pub async fn delete_acks(&self, gone: &[(String, String)]) -> Result<()> {
        if gone.is_empty() {
            return Ok(());
        }
        let mut w = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        for (peer, channel) in gone {
            sqlx::query("DELETE FROM peer_acks WHERE peer = ? AND channel = ?").bind(peer).bind(channel).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every stored acknowledged position: `(peer, channel, acked)`.
    pub async fn load_acks(&self) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as("SELECT peer, channel, acked FROM peer_acks").fetch_all(&self.read).await?)
    }

    /// Tombstones kept for a table (deleted keys still guarded against older writes).
    pub async fn tombstone_count(&self, meta: &TableMeta) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tombstones WHERE table_id = ?").bind(meta.id).fetch_one(&self.read).await?;
        Ok(n.max(0) as u64)
    }

    /// The newest durable log id on a channel (0 when none).
    pub async fn log_head(&self, channel: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM txn_log WHERE channel = ? AND id <= ?")
            .bind(channel)
            .bind(self.durable_head())
            .fetch_one(self.read_pool())
            .await?)
    }

    /// Entries on `channel` after `after` that a peer named `peer` has not been sent.
    pub async fn backlog(&self, channel: &str, after: i64, peer: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM txn_log WHERE channel = ? AND id > ? AND id <= ? AND origin != ?")
            .bind(channel)
            .bind(after)
            .bind(self.durable_head())
            .bind(peer)
            .fetch_one(self.read_pool())
            .await?)
    }

    pub async fn peer_position(&self, peer: &str, channel: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT last_id FROM peer_positions WHERE peer = ? AND channel = ?")
            .bind(peer)
            .bind(channel)
            .fetch_optional(self.read_pool())
            .await?
            .unwrap_or(0))
    }

    /// Makes sure the table a channel needs exists, with the given primary key.
    pub async fn ensure_table(&self, database: &str, table: &str, primary_key: &str) -> Result<()> {
        match self.table(database, table) {
            Ok(_) => Ok(()),
            Err(Error::NotFound(_)) => match self.create_table(database, table, primary_key, None, None).await {
                Ok(_) => Ok(()),
                // Created meanwhile by another writer: what counts is that it exists now.
                Err(e) => self.table(database, table).map(|_| ()).map_err(|_| e),
            },
            Err(e) => Err(e),
        }
    }

    /// Applies entries from `peer` on `channel` and records `upto` as the position, all in one
    /// transaction. Each applied entry is logged with its original origin, so it flows on.
    /// `from` is where the batch continues from in the peer's log: a batch starting after the
    /// position stored for the peer would skip what lies between (and its entries would then
    /// mark the skipped ones as seen), so it is refused with `Error::Gap` and nothing is written.
    ///
    /// `relay` names the limited user a peer pushed the batch as (None for a trusted peer: a
    /// super or cluster user, or a peer this node dials): its entries are checked against, and
    /// move, that path's positions only (see migration 0007).
    pub async fn apply_remote(&self, peer: &str, channel: &str, entries: Vec<RemoteEntry>, from: i64, upto: i64, relay: Option<&str>) -> Result<Applied> {
        let parsed: switchyard_protocol::Channel = channel.parse().map_err(Error::BadRequest)?;
        let mut w = self.writer().await?;
        let meta = self.table(&parsed.database, &parsed.table)?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let at: i64 = sqlx::query_scalar("SELECT last_id FROM peer_positions WHERE peer = ? AND channel = ?")
            .bind(peer)
            .bind(channel)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        if from > at {
            return Err(Error::Gap { channel: channel.to_string(), at, from });
        }
        let mut result = Applied::default();
        let mut seen: HashMap<String, i64> = HashMap::new();
        let mut announce = Vec::new();
        let mut new_attrs: Vec<String> = Vec::new();
        let mut count_delta: i64 = 0;
        let mut changes = Changes::default();
        let mut last_ts: Option<f64> = None;
        for e in entries {
            if e.origin == self.node_name {
                result.duplicates += 1;
                continue;
            }
            let last = match seen.get(&e.origin) {
                Some(v) => *v,
                None => {
                    let own: Option<i64> = sqlx::query_scalar("SELECT last_id FROM origin_positions WHERE origin = ? AND channel = ?")
                        .bind(&e.origin)
                        .bind(channel)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let path: Option<i64> = match relay {
                        Some(via) => {
                            sqlx::query_scalar("SELECT last_id FROM relay_positions WHERE origin = ? AND channel = ? AND via = ?")
                                .bind(&e.origin)
                                .bind(channel)
                                .bind(via)
                                .fetch_optional(&mut *tx)
                                .await?
                        }
                        None => None,
                    };
                    own.unwrap_or(0).max(path.unwrap_or(0))
                }
            };
            if e.origin_id <= last {
                result.duplicates += 1;
                continue;
            }
            let payload = match (&e.records, &e.ids) {
                (Some(raw), _) if e.operation != "delete" => raw.get().to_string(),
                (_, Some(ids)) if e.operation == "delete" => Value::Array(ids.clone()).to_string(),
                _ => return Err(Error::bad(format!("entry {}#{} has no records or ids", e.origin, e.origin_id))),
            };
            if e.version <= 0 {
                return Err(Error::bad(format!("entry {}#{} has no version", e.origin, e.origin_id)));
            }
            // What this node writes from now on is newer than what it received.
            self.clock.observe(e.version);
            // Logged first: a delete's tombstones carry its id in this node's log.
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO txn_log (origin, origin_id, channel, operation, user, records, ts, version) VALUES (?, ?, ?, ?, NULL, ?, ?, ?) RETURNING id",
            )
            .bind(&e.origin)
            .bind(e.origin_id)
            .bind(channel)
            .bind(&e.operation)
            .bind(&payload)
            .bind(e.ts)
            .bind(e.version)
            .fetch_one(&mut *tx)
            .await?;
            let stamp = Stamp { at: e.ts, version: e.version, origin: &e.origin };
            match (&e.records, &e.ids) {
                (Some(raw), _) if e.operation != "delete" => {
                    let records: Vec<Map<String, Value>> = serde_json::from_str(raw.get())
                        .map_err(|err| Error::bad(format!("entry {}#{}: records must be objects: {err}", e.origin, e.origin_id)))?;
                    count_delta += apply_records(&mut tx, &meta, stamp, records, &mut new_attrs, &mut changes).await?;
                }
                (_, Some(ids)) if e.operation == "delete" => count_delta -= delete_keys(&mut tx, &meta, ids, stamp, id, &mut changes).await?,
                _ => {}
            }
            match relay {
                None => {
                    sqlx::query(
                        "INSERT INTO origin_positions (origin, channel, last_id, last_version) VALUES (?, ?, ?, ?) \
                         ON CONFLICT(origin, channel) DO UPDATE SET last_id = excluded.last_id, last_version = excluded.last_version",
                    )
                    .bind(&e.origin)
                    .bind(channel)
                    .bind(e.origin_id)
                    .bind(e.version)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(via) => {
                    sqlx::query(
                        "INSERT INTO relay_positions (origin, channel, via, last_id, last_version) VALUES (?, ?, ?, ?, ?) \
                         ON CONFLICT(origin, channel, via) DO UPDATE SET last_id = excluded.last_id, last_version = excluded.last_version",
                    )
                    .bind(&e.origin)
                    .bind(channel)
                    .bind(via)
                    .bind(e.origin_id)
                    .bind(e.version)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            seen.insert(e.origin.clone(), e.origin_id);
            last_ts = Some(e.ts);
            announce.push((id, e.operation, payload, e.ts, e.origin, e.origin_id, e.version));
            result.applied += 1;
        }
        // The digest moves once for the whole batch.
        changes.write(&mut tx).await?;
        if result.applied > 0 {
            adjust_count(&mut tx, meta.id, count_delta, last_ts).await?;
        }
        let next_meta = add_attributes(&mut tx, &meta, new_attrs).await?;
        sqlx::query(
            "INSERT INTO peer_positions (peer, channel, last_id) VALUES (?, ?, ?) \
             ON CONFLICT(peer, channel) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)",
        )
        .bind(peer)
        .bind(channel)
        .bind(upto)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if let Some(next) = next_meta {
            self.replace_meta(next);
        }
        for (id, operation, payload, ts, origin, origin_id, version) in announce {
            self.announce(&LogEntry { id, origin: &origin, origin_id, channel, operation: &operation, user: None, ts, version, records: &payload });
        }
        Ok(result)
    }
}

/// Writes replicated documents of one entry (written at `stamp`) where they win
/// last-writer-wins by (version, origin), in multi-row statements. Returns how many rows are new.
async fn apply_records(
    tx: &mut SqliteConnection,
    meta: &TableMeta,
    stamp: Stamp<'_>,
    records: Vec<Map<String, Value>>,
    new_attrs: &mut Vec<String>,
    changes: &mut Changes,
) -> Result<i64> {
    let mut docs: Vec<(Value, Map<String, Value>)> = Vec::with_capacity(records.len());
    for doc in records {
        let key = doc.get(&meta.primary_key).ok_or_else(|| Error::bad(format!("a replicated record has no '{}'", meta.primary_key)))?;
        let key = normalize_key(key, &meta.primary_key)?;
        docs.push((key, doc));
    }
    let keys: Vec<Value> = docs.iter().map(|(k, _)| k.clone()).collect();
    let current = versions(tx, &format!("SELECT pk, version, origin, doc FROM {} WHERE pk IN ({{keys}})", meta.physical()), &keys, true).await?;
    // Deleted keys compete with their delete's version: an older write does not resurrect them.
    // Keys only absent from the table can have one, and a table without deletes has none.
    let absent: Vec<Value> = keys.iter().filter(|k| !current.contains_key(&key_text(k))).cloned().collect();
    let any: bool = if absent.is_empty() {
        false
    } else {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tombstones WHERE table_id = ?)").bind(meta.id).fetch_one(&mut *tx).await?
    };
    let tombs: HashMap<String, (i64, String)> = if any {
        versions(tx, &tombstones_sql(meta), &absent, false).await?.into_iter().map(|(k, (v, o, _))| (k, (v, o))).collect()
    } else {
        HashMap::new()
    };
    let mine = (stamp.version, stamp.origin);
    let replaced: HashMap<String, u128> = current.iter().filter_map(|(k, (_, _, h))| h.map(|h| (k.clone(), h))).collect();
    let mut live: HashMap<String, (i64, String)> = current.into_iter().map(|(k, (v, o, _))| (k, (v, o))).collect();
    let mut added = 0;
    let mut winners: Vec<super::records::RowWrite> = Vec::with_capacity(docs.len());
    for (key, doc) in docs {
        let kt = key_text(&key);
        let rival = live.get(&kt).or_else(|| tombs.get(&kt));
        if rival.is_some_and(|(v, o)| (*v, o.as_str()) >= mine) {
            continue; // newer, or this very write arriving again by another path
        }
        if !live.contains_key(&kt) {
            added += 1;
        }
        collect_new_attributes(meta, &doc, new_attrs);
        live.insert(kt, (stamp.version, stamp.origin.to_string()));
        winners.push((key, serde_json::to_string(&doc).map_err(|e| Error::Internal(e.to_string()))?, stamp.at, stamp.version));
    }
    upsert_rows(tx, meta, &winners, stamp.origin, &replaced, changes).await?;
    Ok(added)
}

/// `(version, origin, digest hash)` per key text, from a statement answering `pk, version,
/// origin` (and, `with_hash`, a record table's `doc`) for the keys in `{keys}`: integers read
/// as integers, compared exactly.
async fn versions(tx: &mut SqliteConnection, statement: &str, keys: &[Value], with_hash: bool) -> Result<HashMap<String, (i64, String, Option<u128>)>> {
    rows_by_key_as(tx, statement, keys, |row| {
        let hash = if with_hash { Some(row_hash(row)?) } else { None };
        Ok((row.try_get::<i64, _>(1)?, row.try_get::<String, _>(2)?, hash))
    })
    .await
}

fn tombstones_sql(meta: &TableMeta) -> String {
    // The table id is ours (an integer), never client text.
    format!("SELECT pk, version, origin FROM tombstones WHERE table_id = {} AND pk IN ({{keys}})", meta.id)
}

/// Applies a replicated delete written at `stamp`: a record written after it (by
/// last-writer-wins order) stays; the others go, and every key keeps a tombstone. Returns how
/// many records were deleted.
async fn delete_keys(tx: &mut SqliteConnection, meta: &TableMeta, ids: &[Value], stamp: Stamp<'_>, log_id: i64, changes: &mut Changes) -> Result<i64> {
    let keys = ids.iter().map(|k| normalize_key(k, &meta.primary_key)).collect::<Result<Vec<_>>>()?;
    let current = versions(tx, &format!("SELECT pk, version, origin, doc FROM {} WHERE pk IN ({{keys}})", meta.physical()), &keys, true).await?;
    let mine = (stamp.version, stamp.origin);
    let losing: Vec<Value> = keys.iter().filter(|k| current.get(&key_text(k)).is_none_or(|(v, o, _)| (*v, o.as_str()) <= mine)).cloned().collect();
    let doomed: Vec<Value> = losing.iter().filter(|k| current.contains_key(&key_text(k))).cloned().collect();
    let deleted = delete_rows(tx, meta, &doomed, changes).await?.len() as i64;
    put_tombstones(tx, meta, &losing, stamp, log_id).await?;
    Ok(deleted)
}
