//! Planning a batch: records validated and typed, merged with what the table holds, into the
//! rows and log payload a group writes.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};

use super::*;
use crate::store::value::{bind_all, key_from_row, key_param, key_text, kind_of, normalize_key, now_ms, Param};
use crate::store::{TableMeta, CREATED, UPDATED};
use crate::error::{Error, Result};

/// The batches of one group that write to one table, planned in memory: each batch sees what
/// the table held before the group plus what the batches before it wrote, exactly as if it
/// had committed alone after them. Only the final row per key is written.
pub(in crate::store) struct TableWrites {
    pub(super) meta: Arc<TableMeta>,
    /// What the table held before the group for the keys its batches name: key text →
    /// document (`None` when only presence was loaded, because every batch inserts).
    pub(super) stored: HashMap<String, Option<String>>,
    /// The digest hash of each stored record in `stored` (what a replacing row takes back).
    pub(super) stored_hashes: HashMap<String, u128>,
    /// The table's digest parts as stored before the group.
    pub(super) stored_parts: crate::store::digest::Parts,
    /// The latest document per key written by the group so far: key, text, update time,
    /// version.
    pub(super) rows: HashMap<String, RowWrite>,
    /// Attributes the group's documents bring that the table does not know yet.
    pub(super) new_attrs: Vec<String>,
    /// The latest update time the group writes.
    pub(super) last_updated: f64,
    /// Keys of `rows` in first-written order.
    pub(super) order: Vec<String>,
    /// Keys new to the table.
    pub(super) new_rows: i64,
    /// Whether any batch updates or upserts (so rows may replace stored ones).
    pub(super) replaces: bool,
}

/// A batch's effect, planned against its table's state and not yet applied to it.
pub(in crate::store) struct PlannedBatch {
    pub(super) outcome: WriteOutcome,
    /// `(key text, key, document text)` in first-written order.
    pub(super) docs: Vec<(String, Value, String)>,
    pub(super) new_rows: i64,
    pub(super) new_attrs: Vec<String>,
    pub(super) now: f64,
}

impl TableWrites {
    pub(super) fn new(meta: Arc<TableMeta>) -> TableWrites {
        TableWrites {
            meta,
            stored: HashMap::new(),
            stored_hashes: HashMap::new(),
            stored_parts: Default::default(),
            rows: HashMap::new(),
            new_attrs: Vec::new(),
            last_updated: 0.0,
            order: Vec::new(),
            new_rows: 0,
            replaces: false,
        }
    }

    pub(super) fn present(&self, kt: &str) -> bool {
        self.rows.contains_key(kt) || self.stored.contains_key(kt)
    }

    /// The current document for a key: written earlier in the group, else stored.
    pub(super) fn current(&self, kt: &str) -> Result<Option<Map<String, Value>>> {
        match self.rows.get(kt) {
            Some((_, text, _, _)) => parse_doc(text).map(Some),
            None => match self.stored.get(kt) {
                Some(Some(text)) => parse_doc(text).map(Some),
                Some(None) => Err(Error::Internal("a stored record's body was not loaded".into())),
                None => Ok(None),
            },
        }
    }

    /// Works out what `batch` writes; nothing changes until `apply`.
    pub(super) fn plan(&self, mode: WriteMode, prepared: Vec<(Value, Map<String, Value>)>) -> Result<PlannedBatch> {
        let meta = &self.meta;
        let now = now_ms();
        let mut outcome = WriteOutcome::default();
        // Final document per key, in first-written order; a key repeated in the batch merges again.
        let mut order: Vec<String> = Vec::new();
        let mut finals: HashMap<String, Map<String, Value>> = HashMap::new();
        let mut new_rows: i64 = 0;
        for (key, record) in prepared {
            let kt = key_text(&key);
            let in_batch = finals.contains_key(&kt);
            if mode == WriteMode::Insert {
                if in_batch || self.present(&kt) {
                    outcome.skipped.push(key);
                    continue;
                }
                finals.insert(kt.clone(), fresh_doc(meta, &key, record, now));
                order.push(kt);
                new_rows += 1;
                outcome.written.push(key);
                continue;
            }
            let base = if in_batch { finals.remove(&kt) } else { self.current(&kt)? };
            match base {
                Some(doc) => {
                    if !in_batch {
                        order.push(kt.clone());
                    }
                    finals.insert(kt, merge(doc, record, now));
                }
                None if mode == WriteMode::Update => {
                    outcome.skipped.push(key);
                    continue;
                }
                None => {
                    finals.insert(kt.clone(), fresh_doc(meta, &key, record, now));
                    order.push(kt);
                    new_rows += 1;
                }
            }
            outcome.written.push(key);
        }
        let mut docs = Vec::with_capacity(order.len());
        let mut new_attrs = Vec::new();
        for kt in order {
            if let Some(d) = finals.remove(&kt) {
                collect_new_attributes(meta, d.keys(), &mut new_attrs);
                let key = d.get(&meta.primary_key).cloned().unwrap_or(Value::Null);
                let text = serde_json::to_string(&d).map_err(|e| Error::Internal(e.to_string()))?;
                docs.push((kt, key, text));
            }
        }
        Ok(PlannedBatch { outcome, docs, new_rows, new_attrs, now })
    }

    /// Takes a planned batch, written at `version`, into the group's rows; answers its log
    /// payload (`[doc,…]`).
    pub(super) fn apply(&mut self, p: PlannedBatch, version: i64) -> (WriteOutcome, String, f64) {
        let PlannedBatch { outcome, docs, new_rows, new_attrs, now } = p;
        let mut payload = String::with_capacity(docs.iter().map(|(_, _, d)| d.len() + 1).sum::<usize>() + 2);
        payload.push('[');
        for (i, (kt, key, text)) in docs.into_iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(&text);
            if self.rows.insert(kt.clone(), (key, text, now, version)).is_none() {
                self.order.push(kt);
            }
        }
        payload.push(']');
        self.new_rows += new_rows;
        self.last_updated = self.last_updated.max(now);
        for a in new_attrs {
            if !self.new_attrs.contains(&a) {
                self.new_attrs.push(a);
            }
        }
        (outcome, payload, now)
    }
}


/// Validates every record and fixes its key before any write: `(key, record)` in request order.
pub(in crate::store) fn prepare(meta: &TableMeta, mode: WriteMode, records: Vec<Value>) -> Result<Vec<(Value, Map<String, Value>)>> {
    let pk = meta.primary_key.as_str();
    let mut out = Vec::with_capacity(records.len());
    for (i, rec) in records.into_iter().enumerate() {
        let mut obj = match rec {
            Value::Object(o) => o,
            other => {
                return Err(Error::bad(format!("record {i} must be an object, got {}", kind_of(&other))));
            }
        };
        let key = match obj.get(pk) {
            None | Some(Value::Null) => {
                if mode == WriteMode::Update {
                    return Err(Error::bad(format!("record {i} has no primary key '{pk}'; update needs it")));
                }
                Value::String(uuid::Uuid::new_v4().to_string())
            }
            Some(v) => normalize_key(v, pk).map_err(|e| Error::bad(format!("record {i}: {e}")))?,
        };
        obj.insert(pk.to_string(), key.clone());
        for (name, v) in obj.iter() {
            if name.is_empty() {
                return Err(Error::bad(format!("record {i} has an attribute with an empty name")));
            }
            if let Some(kind) = meta.attribute(name).and_then(|a| a.kind.as_deref()) {
                check_type(name, kind, v)?;
            }
        }
        out.push((key, obj));
    }
    Ok(out)
}

/// Type checks for schema-defined tables; unknown type names accept anything (as HarperDB does).
pub(in crate::store) fn check_type(name: &str, kind: &str, v: &Value) -> Result<()> {
    if v.is_null() {
        return Ok(());
    }
    let ok = match kind.to_ascii_lowercase().as_str() {
        "int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "long" | "bigint" => v.is_i64() || v.is_u64(),
        "float" | "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "id" => v.is_string() || v.is_number(),
        "date" => v.is_string() || v.is_number(),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let want = match kind.to_ascii_lowercase().as_str() {
        "int" => "an integer (from -2147483648 to 2147483647)".to_string(),
        "long" | "bigint" => "an integer".to_string(),
        "float" | "number" => "a number".to_string(),
        "string" => "a string".to_string(),
        "boolean" => "a boolean".to_string(),
        other => format!("of type {other}"),
    };
    Err(Error::bad(format!("Value {v} in property {name} must be {want}")))
}

/// Runs `statement` (whose `{keys}` stands for the key list) over `keys` in chunks. Its rows
/// are `pk` and, with `with_doc`, a document; answers canonical key → document.
pub(in crate::store) async fn rows_by_key(
    conn: &mut SqliteConnection,
    statement: &str,
    keys: &[Value],
    with_doc: bool,
) -> Result<HashMap<String, Option<String>>> {
    rows_by_key_as(conn, statement, keys, |row| if with_doc { row.try_get::<String, _>(1).map(Some).map_err(Into::into) } else { Ok(None) }).await
}

/// As `rows_by_key`, each row (`pk` first) read by `read`; answers canonical key → what it read.
pub(in crate::store) async fn rows_by_key_as<T>(
    conn: &mut SqliteConnection,
    statement: &str,
    keys: &[Value],
    read: impl Fn(&sqlx::sqlite::SqliteRow) -> Result<T>,
) -> Result<HashMap<String, T>> {
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = statement.replace("{keys}", &vec!["?"; chunk.len()].join(","));
        let params: Vec<Param> = chunk.iter().map(key_param).collect();
        for row in bind_all(sqlx::query(&sql), &params).fetch_all(&mut *conn).await? {
            found.insert(key_text(&key_from_row(&row, 0)?), read(&row)?);
        }
    }
    Ok(found)
}

pub(in crate::store) fn parse_doc(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::Internal("a stored record is not a JSON object".into())),
    }
}

/// A new record: key first, then its attributes, then the server's timestamps.
pub(in crate::store) fn fresh_doc(meta: &TableMeta, key: &Value, mut record: Map<String, Value>, now: f64) -> Map<String, Value> {
    record.shift_remove(CREATED);
    record.shift_remove(UPDATED);
    if record.keys().next() == Some(&meta.primary_key) {
        // The usual case: the key already leads, so the record's own map is the document.
        record.insert(CREATED.into(), now.into());
        record.insert(UPDATED.into(), now.into());
        return record;
    }
    let mut doc = Map::with_capacity(record.len() + 2);
    doc.insert(meta.primary_key.clone(), key.clone());
    record.shift_remove(&meta.primary_key);
    record.shift_remove(CREATED);
    record.shift_remove(UPDATED);
    doc.extend(record);
    doc.insert(CREATED.into(), now.into());
    doc.insert(UPDATED.into(), now.into());
    doc
}

/// Merges `record` into `doc`; `__createdtime__` is kept, `__updatedtime__` set to now.
pub(in crate::store) fn merge(mut doc: Map<String, Value>, mut record: Map<String, Value>, now: f64) -> Map<String, Value> {
    record.shift_remove(CREATED);
    record.shift_remove(UPDATED);
    for (k, v) in record {
        doc.insert(k, v);
    }
    if !doc.contains_key(CREATED) {
        doc.insert(CREATED.into(), now.into());
    }
    doc.insert(UPDATED.into(), now.into());
    doc
}

