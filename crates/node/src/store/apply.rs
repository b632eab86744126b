//! The storage side of replication, as a receiver: a peer's entries applied idempotently, in
//! order, with last-writer-wins by exact version, in one transaction with the peer's position.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};

use super::digest::{row_hash, Changes};
use super::records::{add_attributes, adjust_count, collect_new_attributes, delete_rows, put_tombstones, rows_by_key_as, upsert_rows, Stamp};
use super::value::{key_text, normalize_key};
use super::{LogEntry, Store, TableMeta};
use crate::error::{Error, Result};

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

/// Resolves once a commit made without an fsync is on disk (or with why it may not be).
pub struct OnDisk(tokio::sync::oneshot::Receiver<Result<()>>);

impl std::future::Future for OnDisk {
    type Output = Result<()>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<()>> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| r.unwrap_or_else(|_| Err(Error::Internal("the durability barrier went away".into()))))
    }
}

impl Store {
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
    ///
    /// The transaction skips SQLite's fsync (`synchronous = NORMAL`, as the group commit does):
    /// what it wrote is visible and announced at commit, and this answers once the durability
    /// barrier has synced it, so the peer is acknowledged only what is on disk here, while a
    /// reader here does not wait for the disk.
    pub async fn apply_remote(&self, peer: &str, channel: &str, entries: Vec<RemoteEntry>, from: i64, upto: i64, relay: Option<&str>) -> Result<Applied> {
        let (result, on_disk) = self.apply_remote_unsynced(peer, channel, entries, from, upto, relay).await?;
        on_disk.await?;
        Ok(result)
    }

    /// `apply_remote` without waiting for the disk: answers once committed (visible, announced),
    /// with what resolves once that commit is on disk. A receiver can apply its next batch
    /// meanwhile; commits reach the disk in order, so an ack sent as each resolves is exact.
    pub async fn apply_remote_unsynced(&self, peer: &str, channel: &str, entries: Vec<RemoteEntry>, from: i64, upto: i64, relay: Option<&str>) -> Result<(Applied, OnDisk)> {
        let parsed: switchyard_protocol::Channel = channel.parse().map_err(Error::BadRequest)?;
        // The unsynced connection: its commit is queued on the barrier while the turn is held.
        let mut w = self.unsynced_writer().await?;
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
        let logged: Vec<LogEntry> = announce
            .iter()
            .map(|(id, operation, payload, ts, origin, origin_id, version)| LogEntry {
                id: *id,
                origin,
                origin_id: *origin_id,
                channel,
                operation,
                user: None,
                ts: *ts,
                version: *version,
                records: payload,
            })
            .collect();
        let (synced, on_disk) = tokio::sync::oneshot::channel();
        self.announce_unsynced(
            &logged,
            Box::new(move |r| {
                let _ = synced.send(r);
            }),
        );
        Ok((result, OnDisk(on_disk)))
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
