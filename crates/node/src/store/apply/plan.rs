//! A received batch planned in memory against what its keys held when the batch began:
//! duplicates skipped by position, last-writer-wins by exact (version, origin), deletes leaving
//! tombstones. The plan is the batch's final effect, which `script` writes in one round trip.
//!
//! Invariant: applying the plan leaves the tables exactly as applying the entries one after the
//! other would (a key written, deleted and written again in one batch ends as its last winner,
//! with every tombstone the deletes left and the digest moved by the net change only).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use serde_json::Value;

use super::record::{self, Record};
use super::RemoteEntry;
use crate::error::{Error, Result};
use crate::store::digest::{self, bucket_of, record_hash, Changes};
use crate::store::records::collect_new_attributes;
use crate::store::value::{key_text, normalize_key};
use crate::store::TableMeta;

/// What one key held when the batch began.
#[derive(Debug, Default)]
pub(super) struct Held {
    /// Its row: version, origin and digest hash.
    pub row: Option<(i64, String, u128)>,
    /// Its tombstone: version and origin.
    pub tomb: Option<(i64, String)>,
}

/// What the batch's read found, inside its transaction.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// How far this node had received the peer's log on the channel (0: never).
    pub peer_at: i64,
    /// The log's last id (its AUTOINCREMENT counter).
    pub last_log_id: i64,
    /// Per origin, its own position on the channel.
    pub own: HashMap<String, i64>,
    /// Per origin, the position along the relay path the batch came by.
    pub path: HashMap<String, i64>,
    /// Per key text.
    pub keys: HashMap<String, Held>,
    /// The digest parts asked for, as stored.
    pub parts: digest::Parts,
}

/// A received entry with its body parsed (an error is kept, and raised only if the entry is
/// not a duplicate: what was applied before is never refused again).
pub(super) struct Received {
    pub entry: RemoteEntry,
    body: Result<Body>,
}

enum Body {
    /// Read, not built: their texts stay in the entry's `records`.
    Records(Vec<Record>),
    Delete(Vec<Value>),
}

impl Received {
    /// Parses `entry`'s body against `meta` (the sender's text stays as the log's payload). An
    /// entry from `node_name` (this node) is never applied, so never parsed.
    pub fn parse(meta: &TableMeta, node_name: &str, entry: RemoteEntry) -> Received {
        let body = match (&entry.records, &entry.ids) {
            _ if entry.origin == node_name => Err(Error::Internal("an entry of this node's own was planned".into())),
            (Some(raw), _) if entry.operation != "delete" => {
                record::read(meta, raw.get(), &format_args!("{}#{}", entry.origin, entry.origin_id)).map(Body::Records)
            }
            (_, Some(ids)) if entry.operation == "delete" => {
                ids.iter().map(|k| normalize_key(k, &meta.primary_key)).collect::<Result<Vec<_>>>().map(Body::Delete)
            }
            _ => Err(Error::bad(format!("entry {}#{} has no records or ids", entry.origin, entry.origin_id))),
        };
        Received { entry, body }
    }

    /// How many keys the entry names (none when its body is bad).
    fn key_count(&self) -> usize {
        match &self.body {
            Ok(Body::Records(records)) => records.len(),
            Ok(Body::Delete(ids)) => ids.len(),
            Err(_) => 0,
        }
    }

    /// The keys the entry names (none when its body is bad).
    pub fn keys(&self) -> Vec<&Value> {
        match &self.body {
            Ok(Body::Records(records)) => records.iter().map(|r| &r.key).collect(),
            Ok(Body::Delete(ids)) => ids.iter().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A log entry the batch appends (ids follow the log's counter).
pub(super) struct LogRow {
    pub id: i64,
    pub origin: String,
    pub origin_id: i64,
    pub operation: String,
    pub payload: String,
    pub ts: f64,
    pub version: i64,
}

/// A row written: key, document, update time, version, origin, bucket.
pub(super) struct RowOut {
    pub key: Value,
    pub doc: String,
    pub updated: f64,
    pub version: i64,
    pub origin: String,
    pub bucket: i64,
}

/// A tombstone written: key, delete time, origin, the delete's id in this node's log, version.
pub(super) struct TombOut {
    pub key: Value,
    pub at: f64,
    pub origin: String,
    pub log_id: i64,
    pub version: i64,
}

/// The batch's final effect.
#[derive(Default)]
pub(super) struct Plan {
    pub applied: usize,
    pub duplicates: usize,
    pub log: Vec<LogRow>,
    pub upserts: Vec<RowOut>,
    pub deletes: Vec<Value>,
    pub tombs: Vec<TombOut>,
    /// Per origin (first-seen order): its last applied id and version.
    pub positions: Vec<(String, i64, i64)>,
    pub new_attrs: Vec<String>,
    pub count_delta: i64,
    /// The last applied entry's time (the table's last update), when any was applied.
    pub last_ts: Option<f64>,
    /// What moves in the table's digest.
    pub changes: Changes,
}

/// One key as the plan goes.
struct KeyState {
    key: Value,
    /// The live row's (version, origin).
    row: Option<(i64, String)>,
    tomb: Option<(i64, String)>,
    /// The digest hash of the row stored when the batch began.
    stored: Option<u128>,
    /// The row to write, once a received write won.
    write: Option<(String, f64, i64, String)>,
    /// The tombstone to write, once a received delete moved it.
    tomb_write: Option<(f64, String, i64, i64)>,
}

/// The state of `key`, from what it held when the batch began the first time it is named.
fn touch<'k>(keys: &'k mut HashMap<String, KeyState>, order: &mut Vec<String>, held: &mut HashMap<String, Held>, key: Value) -> &'k mut KeyState {
    match keys.entry(key_text(&key)) {
        Entry::Occupied(o) => o.into_mut(),
        Entry::Vacant(v) => {
            order.push(v.key().clone());
            let h = held.remove(v.key()).unwrap_or_default();
            let (row, stored) = match h.row {
                Some((version, origin, hash)) => (Some((version, origin)), Some(hash)),
                None => (None, None),
            };
            v.insert(KeyState { key, row, tomb: h.tomb, stored, write: None, tomb_write: None })
        }
    }
}

/// Plans `entries` (in order) against `found`. `observe` is told every applied version (the
/// node's clock moves past it). Refuses the whole batch at the first bad entry that is not a
/// duplicate.
pub(super) fn plan(meta: &TableMeta, node_name: &str, entries: Vec<Received>, mut found: Found, mut observe: impl FnMut(i64)) -> Result<Plan> {
    let mut out = Plan::default();
    // Sized once: growing a map of this many states page by page costs more than planning it.
    let named: usize = entries.iter().map(Received::key_count).sum();
    let mut keys: HashMap<String, KeyState> = HashMap::with_capacity(named);
    let mut order: Vec<String> = Vec::with_capacity(named);
    let mut seen: HashMap<String, (i64, i64)> = HashMap::new();
    let mut origin_order: Vec<String> = Vec::new();
    for r in entries {
        let e = r.entry;
        if e.origin == node_name {
            out.duplicates += 1;
            continue;
        }
        let last = match seen.get(&e.origin) {
            Some((id, _)) => *id,
            None => found.own.get(&e.origin).copied().unwrap_or(0).max(found.path.get(&e.origin).copied().unwrap_or(0)),
        };
        if e.origin_id <= last {
            out.duplicates += 1;
            continue;
        }
        if e.version <= 0 {
            return Err(Error::bad(format!("entry {}#{} has no version", e.origin, e.origin_id)));
        }
        let body = r.body?;
        // What this node writes from now on is newer than what it received.
        observe(e.version);
        let id = found.last_log_id + out.log.len() as i64 + 1;
        let mine = (e.version, e.origin.as_str());
        match body {
            Body::Records(records) => {
                let raw = e.records.as_ref().map_or("", |r| r.get());
                for r in records {
                    let k = touch(&mut keys, &mut order, &mut found.keys, r.key);
                    let rival = k.row.as_ref().or(k.tomb.as_ref());
                    if rival.is_some_and(|(v, o)| (*v, o.as_str()) >= mine) {
                        continue; // newer, or this very write arriving again by another path
                    }
                    collect_new_attributes(meta, &r.new_attributes, &mut out.new_attrs);
                    let text = raw.get(r.text).ok_or_else(|| Error::Internal("a record's text went missing".into()))?.to_string();
                    k.row = Some((e.version, e.origin.clone()));
                    k.write = Some((text, e.ts, e.version, e.origin.clone()));
                }
            }
            Body::Delete(ids) => {
                for key in ids {
                    let k = touch(&mut keys, &mut order, &mut found.keys, key);
                    // A record written after the delete (by last-writer-wins order) stays.
                    if k.row.as_ref().is_some_and(|(v, o)| (*v, o.as_str()) > mine) {
                        continue;
                    }
                    k.row = None;
                    k.write = None;
                    // A tombstone only moves forward.
                    if k.tomb.as_ref().is_none_or(|(v, o)| mine > (*v, o.as_str())) {
                        k.tomb = Some((e.version, e.origin.clone()));
                        k.tomb_write = Some((e.ts, e.origin.clone(), id, e.version));
                    }
                }
            }
        }
        match seen.get_mut(&e.origin) {
            Some(s) => *s = (e.origin_id, e.version),
            None => {
                seen.insert(e.origin.clone(), (e.origin_id, e.version));
                origin_order.push(e.origin.clone());
            }
        }
        out.last_ts = Some(e.ts);
        let payload = match (e.records, e.ids) {
            (Some(raw), _) if e.operation != "delete" => String::from(Box::<str>::from(raw)),
            (_, Some(ids)) => Value::Array(ids).to_string(),
            _ => return Err(Error::Internal("an entry's body went missing".into())),
        };
        out.log.push(LogRow { id, origin: e.origin, origin_id: e.origin_id, operation: e.operation, payload, ts: e.ts, version: e.version });
        out.applied += 1;
    }
    let mut changes = Changes::default();
    for kt in order {
        let Some(k) = keys.remove(&kt) else { continue };
        let bucket = bucket_of(&kt);
        match (&k.row, k.write, k.stored) {
            (Some(_), Some((doc, updated, version, origin)), stored) => {
                if let Some(old) = stored {
                    changes.remove(meta.id, bucket, old);
                } else {
                    out.count_delta += 1;
                }
                changes.add(meta.id, bucket, record_hash(&kt, version, &doc));
                out.upserts.push(RowOut { key: k.key.clone(), doc, updated, version, origin, bucket: bucket as i64 });
            }
            (None, _, Some(old)) => {
                changes.remove(meta.id, bucket, old);
                out.count_delta -= 1;
                out.deletes.push(k.key.clone());
            }
            _ => {}
        }
        if let Some((at, origin, log_id, version)) = k.tomb_write {
            out.tombs.push(TombOut { key: k.key, at, origin, log_id, version });
        }
    }
    out.changes = changes;
    out.positions = origin_order
        .into_iter()
        .filter_map(|o| seen.get(&o).map(|(id, v)| (o.clone(), *id, *v)))
        .collect();
    Ok(out)
}
