//! Record writes: insert, update (merge), upsert and delete of whole batches. A batch commits
//! whole or not at all, together with the record count and its transaction-log entry; batches
//! submitted while a commit is under way share the next one (group commit).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};
use tokio::sync::oneshot;

use super::value::{bind_all, key_from_sql, key_param, key_text, kind_of, normalize_key, now_ms, Param};
use super::{AttributeMeta, Store, TableMeta, CREATED, UPDATED};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// New keys only; existing keys are skipped.
    Insert,
    /// Existing keys only, merged attribute by attribute; missing keys are skipped.
    Update,
    /// Merge into existing keys, insert the rest.
    Upsert,
}

impl WriteMode {
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Insert => "insert",
            WriteMode::Update => "update",
            WriteMode::Upsert => "upsert",
        }
    }
}

#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Keys written, in request order.
    pub written: Vec<Value>,
    /// Keys skipped (insert: already there; update: not there), in request order.
    pub skipped: Vec<Value>,
    /// The id of the transaction-log entry, when anything was written.
    pub txn_id: Option<i64>,
}

#[derive(Debug, Default)]
pub struct DeleteOutcome {
    pub deleted: Vec<Value>,
    pub skipped: Vec<Value>,
    pub txn_id: Option<i64>,
}

/// Rows per multi-row statement: 3 parameters each, well under SQLite's 32766.
const ROWS_PER_STATEMENT: usize = 500;

/// A validated batch: `(key, record)` in request order.
struct Batch {
    database: String,
    table: String,
    mode: WriteMode,
    prepared: Vec<(Value, Map<String, Value>)>,
    user: Option<String>,
}

/// A batch waiting for the next group commit, and who waits for its answer.
struct PendingWrite {
    batch: Batch,
    done: oneshot::Sender<Result<WriteOutcome>>,
}

/// Batches waiting for the writer. Invariant: whenever it is non-empty, one `commit_group` task
/// is scheduled that will take it (it is spawned by whoever makes the queue non-empty).
#[derive(Default)]
pub(super) struct WriteQueue(std::sync::Mutex<Vec<PendingWrite>>);

impl WriteQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PendingWrite>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Records one group commit takes at most; later batches wait for the next commit.
const GROUP_RECORDS: usize = 10_000;

/// What a committed batch announces on its channel once the group is durable.
struct Announcement {
    txn_id: i64,
    channel: String,
    operation: &'static str,
    user: Option<String>,
    payload: String,
    ts: f64,
}

impl Store {
    /// Writes a batch. Every record is validated before anything is written: one bad record
    /// rejects the whole batch and nothing changes.
    pub async fn write(
        self: &Arc<Self>,
        database: &str,
        table: &str,
        mode: WriteMode,
        records: Vec<Value>,
        user: Option<&str>,
    ) -> Result<WriteOutcome> {
        let done = self.submit(database, table, mode, records, user)?;
        done.await.unwrap_or_else(|_| Err(Error::Internal("the write was abandoned: the node is shutting down".into())))
    }

    /// Validates a batch and queues it for the next group commit without waiting for it: the
    /// receiver answers once the batch is durable (or was rejected). Batches are committed in the
    /// order they are submitted; batches that arrive while a commit is under way share the next
    /// one (one fsync for many small writes), each in its own savepoint with its own log entry.
    pub fn submit(
        self: &Arc<Self>,
        database: &str,
        table: &str,
        mode: WriteMode,
        records: Vec<Value>,
        user: Option<&str>,
    ) -> Result<oneshot::Receiver<Result<WriteOutcome>>> {
        let meta = self.table(database, table)?;
        let prepared = prepare(&meta, mode, records)?;
        let (done, answer) = oneshot::channel();
        let batch = Batch { database: database.to_string(), table: table.to_string(), mode, prepared, user: user.map(str::to_string) };
        let job = PendingWrite { batch, done };
        let first = {
            let mut q = self.queue.lock();
            q.push(job);
            q.len() == 1
        };
        if first {
            self.schedule_commit();
        }
        Ok(answer)
    }

    /// Spawns the task that will take the queue (a plain fn, so that `commit_group`, which
    /// schedules its successor, does not need its own future's type to be known).
    fn schedule_commit(self: &Arc<Self>) {
        tokio::spawn(self.clone().commit_group());
    }

    /// Takes the queued batches (up to GROUP_RECORDS records) under the writer and commits them
    /// in one SQLite transaction; answers each batch and announces its log entry afterwards.
    async fn commit_group(self: Arc<Self>) {
        let writer = self.writer().await;
        let jobs = {
            let mut q = self.queue.lock();
            let mut records = 0;
            let take = q
                .iter()
                .take_while(|j| {
                    records += j.batch.prepared.len();
                    records <= GROUP_RECORDS
                })
                .count()
                .max(1)
                .min(q.len());
            let jobs: Vec<PendingWrite> = q.drain(..take).collect();
            if !q.is_empty() {
                self.schedule_commit();
            }
            jobs
        };
        if jobs.is_empty() {
            return;
        }
        let mut w = match writer {
            Ok(w) => w,
            Err(e) => {
                for job in jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
                return;
            }
        };
        let mut answers = Vec::with_capacity(jobs.len());
        let mut announcements = Vec::new();
        // Table metadata with attributes added earlier in this group, installed after the commit.
        let mut staged: HashMap<(String, String), Arc<TableMeta>> = HashMap::new();
        let committed: Result<()> = async {
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            // A batch alone needs no savepoint: if it fails, the whole transaction rolls back.
            let alone = jobs.len() == 1;
            for PendingWrite { batch, done } in jobs {
                if !alone {
                    sqlx::query("SAVEPOINT batch").execute(&mut *tx).await?;
                }
                match self.write_batch(&mut tx, batch, &staged).await {
                    Ok((outcome, announcement, next_meta)) => {
                        if !alone {
                            sqlx::query("RELEASE batch").execute(&mut *tx).await?;
                        }
                        // Only a batch that stays in the transaction changes the staged catalog.
                        staged.extend(next_meta);
                        announcements.extend(announcement);
                        answers.push((done, Ok(outcome)));
                    }
                    Err(e) if alone => {
                        let _ = done.send(Err(e));
                        return Ok(()); // dropping `tx` rolls it back
                    }
                    Err(e) => {
                        sqlx::query("ROLLBACK TO batch").execute(&mut *tx).await?;
                        sqlx::query("RELEASE batch").execute(&mut *tx).await?;
                        answers.push((done, Err(e)));
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = committed {
            // Nothing of the group was written; every batch in it hears why.
            for (done, _) in answers {
                let _ = done.send(Err(e.clone()));
            }
            return;
        }
        for (_, meta) in staged {
            self.replace_meta(Arc::unwrap_or_clone(meta));
        }
        // Announced while the writer is still held, so the feed carries entries in log order
        // even when the next group commits right after.
        for a in &announcements {
            self.announce(a.txn_id, &a.channel, a.operation, a.user.as_deref(), &a.payload, a.ts);
        }
        drop(w);
        for (done, answer) in answers {
            let _ = done.send(answer);
        }
    }

    /// One batch inside the group's transaction.
    async fn write_batch(
        &self,
        tx: &mut SqliteConnection,
        batch: Batch,
        staged: &HashMap<(String, String), Arc<TableMeta>>,
    ) -> Result<(WriteOutcome, Option<Announcement>, Option<((String, String), Arc<TableMeta>)>)> {
        let Batch { database, table, mode, prepared, user } = batch;
        // The catalog may have changed while the batch waited for the writer.
        let meta = match staged.get(&(database.clone(), table.clone())) {
            Some(m) => m.clone(),
            None => self.table(&database, &table)?,
        };
        let keys: Vec<Value> = prepared.iter().map(|(k, _)| k.clone()).collect();
        let mut existing = existing_docs(tx, &meta, &keys, mode != WriteMode::Insert).await?;

        let now = now_ms();
        let mut outcome = WriteOutcome::default();
        // Final document per key, in first-written order; a key repeated in the batch merges again.
        let mut order: Vec<String> = Vec::new();
        let mut finals: HashMap<String, Map<String, Value>> = HashMap::new();
        let mut new_rows: i64 = 0;
        for (key, record) in prepared {
            let kt = key_text(&key);
            let in_batch = finals.contains_key(&kt);
            let stored = existing.contains_key(&kt);
            if mode == WriteMode::Insert {
                if in_batch || stored {
                    outcome.skipped.push(key);
                    continue;
                }
                finals.insert(kt.clone(), fresh_doc(&meta, &key, record, now));
                order.push(kt);
                new_rows += 1;
                outcome.written.push(key);
                continue;
            }
            let base = if in_batch {
                finals.remove(&kt)
            } else if let Some(Some(text)) = existing.remove(&kt) {
                Some(parse_doc(&text)?)
            } else {
                None
            };
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
                    finals.insert(kt.clone(), fresh_doc(&meta, &key, record, now));
                    order.push(kt);
                    new_rows += 1;
                }
            }
            outcome.written.push(key);
        }
        let mut docs: Vec<(Value, String, f64)> = Vec::with_capacity(order.len());
        for kt in &order {
            if let Some(d) = finals.get(kt) {
                let key = d.get(&meta.primary_key).cloned().unwrap_or(Value::Null);
                let text = serde_json::to_string(d).map_err(|e| Error::Internal(e.to_string()))?;
                docs.push((key, text, now));
            }
        }
        if docs.is_empty() {
            return Ok((outcome, None, None));
        }
        // Keys were checked under the write lock: in insert mode a conflict is a bug and fails loudly.
        upsert_rows(tx, &meta, &docs, &self.node_name, mode != WriteMode::Insert).await?;
        let new_attrs = new_attributes(&meta, order.iter().filter_map(|kt| finals.get(kt)));
        let next_meta = add_attributes(tx, &meta, new_attrs).await?.map(|next| ((database, table), Arc::new(next)));
        adjust_count(tx, meta.id, new_rows, Some(now)).await?;
        let mut payload = String::with_capacity(docs.iter().map(|(_, d, _)| d.len() + 1).sum::<usize>() + 2);
        payload.push('[');
        for (i, (_, d, _)) in docs.iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(d);
        }
        payload.push(']');
        let txn_id = self.append_log(tx, &meta, mode.name(), user.as_deref(), &payload, now).await?;
        outcome.txn_id = Some(txn_id);
        let announcement = Announcement { txn_id, channel: meta.channel(), operation: mode.name(), user, payload, ts: now };
        Ok((outcome, Some(announcement), next_meta))
    }

    /// Deletes records by key. Keys that do not exist are reported as skipped.
    pub async fn delete(&self, database: &str, table: &str, ids: &[Value], user: Option<&str>) -> Result<DeleteOutcome> {
        let meta = self.table(database, table)?;
        let keys = ids
            .iter()
            .map(|k| normalize_key(k, &meta.primary_key))
            .collect::<Result<Vec<_>>>()?;
        let mut w = self.writer().await?;
        let meta = self.table(database, table)?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let sql = format!("DELETE FROM {} WHERE pk IN ({{keys}}) RETURNING json_quote(pk)", meta.physical());
        let mut gone = rows_by_key(&mut tx, &sql, &keys, false).await?;
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
        adjust_count(&mut tx, meta.id, -(outcome.deleted.len() as i64), Some(now)).await?;
        let payload = Value::Array(outcome.deleted.clone()).to_string();
        let txn_id = self.append_log(&mut tx, &meta, "delete", user, &payload, now).await?;
        tx.commit().await?;
        self.announce(txn_id, &meta.channel(), "delete", user, &payload, now);
        outcome.txn_id = Some(txn_id);
        Ok(outcome)
    }

    /// Appends to the transaction log inside the caller's transaction; returns the new id.
    async fn append_log(
        &self,
        tx: &mut SqliteConnection,
        meta: &TableMeta,
        operation: &str,
        user: Option<&str>,
        records: &str,
        ts: f64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO txn_log (origin, channel, operation, user, records, ts) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&self.node_name)
        .bind(meta.channel())
        .bind(operation)
        .bind(user)
        .bind(records)
        .bind(ts)
        .fetch_one(&mut *tx)
        .await?)
    }
}

/// Validates every record and fixes its key before any write: `(key, record)` in request order.
fn prepare(meta: &TableMeta, mode: WriteMode, records: Vec<Value>) -> Result<Vec<(Value, Map<String, Value>)>> {
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
fn check_type(name: &str, kind: &str, v: &Value) -> Result<()> {
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

/// Loads what is stored for these keys. `bodies` false (insert) loads presence only.
async fn existing_docs(
    tx: &mut SqliteConnection,
    meta: &TableMeta,
    keys: &[Value],
    bodies: bool,
) -> Result<HashMap<String, Option<String>>> {
    let cols = if bodies { "json_quote(pk), doc" } else { "json_quote(pk)" };
    let sql = format!("SELECT {cols} FROM {} WHERE pk IN ({{keys}})", meta.physical());
    rows_by_key(tx, &sql, keys, bodies).await
}

/// Runs `statement` (whose `{keys}` stands for the key list) over `keys` in chunks. Its rows
/// are `json_quote(pk)` and, with `with_doc`, a document; answers canonical key → document.
pub(super) async fn rows_by_key(
    conn: &mut SqliteConnection,
    statement: &str,
    keys: &[Value],
    with_doc: bool,
) -> Result<HashMap<String, Option<String>>> {
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = statement.replace("{keys}", &vec!["?"; chunk.len()].join(","));
        let params: Vec<Param> = chunk.iter().map(key_param).collect();
        for row in bind_all(sqlx::query(&sql), &params).fetch_all(&mut *conn).await? {
            let k: String = row.try_get(0)?;
            let doc = if with_doc { Some(row.try_get::<String, _>(1)?) } else { None };
            found.insert(key_text(&key_from_sql(&k)?), doc);
        }
    }
    Ok(found)
}

fn parse_doc(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::Internal("a stored record is not a JSON object".into())),
    }
}

/// A new record: key first, then its attributes, then the server's timestamps.
fn fresh_doc(meta: &TableMeta, key: &Value, mut record: Map<String, Value>, now: f64) -> Map<String, Value> {
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
fn merge(mut doc: Map<String, Value>, mut record: Map<String, Value>, now: f64) -> Map<String, Value> {
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

/// Writes `(key, document, updated)` rows stamped with `origin`, in multi-row statements.
/// With `upsert` an existing key is replaced; without, an existing key is an error.
pub(super) async fn upsert_rows(
    tx: &mut SqliteConnection,
    meta: &TableMeta,
    rows: &[(Value, String, f64)],
    origin: &str,
    upsert: bool,
) -> Result<()> {
    let conflict = if upsert {
        " ON CONFLICT(pk) DO UPDATE SET doc = excluded.doc, updated = excluded.updated, origin = excluded.origin"
    } else {
        ""
    };
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let marks = vec!["(?, ?, ?, ?)"; chunk.len()].join(",");
        let sql = format!("INSERT INTO {} (pk, doc, updated, origin) VALUES {marks}{conflict}", meta.physical());
        let mut q = sqlx::query(&sql);
        for (key, doc, updated) in chunk {
            q = bind_all(q, &[key_param(key)]).bind(doc.as_str()).bind(*updated).bind(origin);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Records attributes new to the table; answers the table's next metadata, to install in the
/// catalog once the transaction commits.
pub(super) async fn add_attributes(tx: &mut SqliteConnection, meta: &TableMeta, names: Vec<String>) -> Result<Option<TableMeta>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut next = meta.clone();
    for name in names {
        sqlx::query("INSERT OR IGNORE INTO attributes (table_id, position, name, indexed) VALUES (?, ?, ?, 1)")
            .bind(meta.id)
            .bind(next.attributes.len() as i64)
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        next.attributes.push(AttributeMeta { name, kind: None, indexed: true });
    }
    Ok(Some(next))
}

/// Attribute names the written documents bring that the table does not know yet, first seen first.
fn new_attributes<'a>(meta: &TableMeta, docs: impl Iterator<Item = &'a Map<String, Value>>) -> Vec<String> {
    let mut out = Vec::new();
    for doc in docs {
        collect_new_attributes(meta, doc, &mut out);
    }
    out
}

/// Adds to `out` the attributes of `doc` that neither the table nor `out` has yet.
pub(super) fn collect_new_attributes(meta: &TableMeta, doc: &Map<String, Value>, out: &mut Vec<String>) {
    for k in doc.keys() {
        if !meta.has_attribute(k) && !out.iter().any(|o| o == k) {
            out.push(k.clone());
        }
    }
}

/// Moves a table's stored record count by `delta` (and its last-update time, when given), in
/// the caller's transaction: the counter describe_table reads instead of scanning.
pub(super) async fn adjust_count(tx: &mut SqliteConnection, table_id: i64, delta: i64, last_updated: Option<f64>) -> Result<()> {
    sqlx::query("UPDATE tables SET record_count = record_count + ?, last_updated = COALESCE(?, last_updated) WHERE id = ?")
        .bind(delta)
        .bind(last_updated)
        .bind(table_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
