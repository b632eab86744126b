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
/// Log entries per multi-row statement: 7 parameters each.
const LOG_ROWS_PER_STATEMENT: usize = 500;

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

/// What a committed batch appends to the log and announces on its channel.
struct Announcement {
    channel: String,
    operation: &'static str,
    user: Option<String>,
    payload: String,
    ts: f64,
}

/// The batches of one group that write to one table, planned in memory: each batch sees what
/// the table held before the group plus what the batches before it wrote, exactly as if it
/// had committed alone after them. Only the final row per key is written.
struct TableWrites {
    meta: Arc<TableMeta>,
    /// What the table held before the group for the keys its batches name: key text →
    /// document (`None` when only presence was loaded, because every batch inserts).
    stored: HashMap<String, Option<String>>,
    /// The latest document per key written by the group so far: key, text, update time.
    rows: HashMap<String, (Value, String, f64)>,
    /// Attributes the group's documents bring that the table does not know yet.
    new_attrs: Vec<String>,
    /// The latest update time the group writes.
    last_updated: f64,
    /// Keys of `rows` in first-written order.
    order: Vec<String>,
    /// Keys new to the table.
    new_rows: i64,
    /// Whether any batch updates or upserts (so rows may replace stored ones).
    replaces: bool,
}

/// A batch's effect, planned against its table's state and not yet applied to it.
struct PlannedBatch {
    outcome: WriteOutcome,
    /// `(key text, key, document text)` in first-written order.
    docs: Vec<(String, Value, String)>,
    new_rows: i64,
    new_attrs: Vec<String>,
    now: f64,
}

impl TableWrites {
    fn present(&self, kt: &str) -> bool {
        self.rows.contains_key(kt) || self.stored.contains_key(kt)
    }

    /// The current document for a key: written earlier in the group, else stored.
    fn current(&self, kt: &str) -> Result<Option<Map<String, Value>>> {
        match self.rows.get(kt) {
            Some((_, text, _)) => parse_doc(text).map(Some),
            None => match self.stored.get(kt) {
                Some(Some(text)) => parse_doc(text).map(Some),
                Some(None) => Err(Error::Internal("a stored record's body was not loaded".into())),
                None => Ok(None),
            },
        }
    }

    /// Works out what `batch` writes; nothing changes until `apply`.
    fn plan(&self, mode: WriteMode, prepared: Vec<(Value, Map<String, Value>)>) -> Result<PlannedBatch> {
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
                collect_new_attributes(meta, &d, &mut new_attrs);
                let key = d.get(&meta.primary_key).cloned().unwrap_or(Value::Null);
                let text = serde_json::to_string(&d).map_err(|e| Error::Internal(e.to_string()))?;
                docs.push((kt, key, text));
            }
        }
        Ok(PlannedBatch { outcome, docs, new_rows, new_attrs, now })
    }

    /// Takes a planned batch into the group's rows; answers its log payload (`[doc,…]`).
    fn apply(&mut self, p: PlannedBatch) -> (WriteOutcome, String, f64) {
        let PlannedBatch { outcome, docs, new_rows, new_attrs, now } = p;
        let mut payload = String::with_capacity(docs.iter().map(|(_, _, d)| d.len() + 1).sum::<usize>() + 2);
        payload.push('[');
        for (i, (kt, key, text)) in docs.into_iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(&text);
            if self.rows.insert(kt.clone(), (key, text, now)).is_none() {
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
    /// one (one fsync for many small writes), each with its own log entry.
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
        tokio::task::yield_now().await;
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
        let (dones, batches): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.done, j.batch)).unzip();
        let committed = self.commit_batches(&mut w, batches).await;
        if sqlx::query("PRAGMA synchronous = FULL").execute(&mut *w).await.is_err() {
            // Never hand a connection that skips fsyncs to the next writer: the pool reopens one.
            w.close_on_drop();
        }
        let (answers, announcements) = match committed {
            Ok((answers, announcements, metas)) => {
                // The next group plans against these (the catalog changed with the commit).
                for meta in metas {
                    self.replace_meta(meta);
                }
                (answers, announcements)
            }
            Err(e) => {
                // Nothing of the group was written; every batch in it hears why.
                for done in dones {
                    let _ = done.send(Err(e.clone()));
                }
                return;
            }
        };
        let head = announcements.last().map(|(id, _)| *id).unwrap_or(0);
        // Live subscribers get the entries now, as any reader sees committed rows, in log order
        // (the writer is still held). Answers wait for the disk.
        for (id, a) in &announcements {
            if let Some(c) = self.committed(*id, &a.channel, a.operation, a.user.as_deref(), &a.payload, a.ts, &self.node_name, *id) {
                let _ = self.commits.send(c);
            }
        }
        self.barrier.queue(
            true,
            head,
            Box::new(move |synced| match synced {
                Ok(()) => {
                    for (done, answer) in dones.into_iter().zip(answers) {
                        let _ = done.send(answer);
                    }
                }
                Err(e) => {
                    for done in dones {
                        let _ = done.send(Err(e.clone()));
                    }
                }
            }),
        );
        drop(w);
    }

    /// Commits a group in one transaction with a handful of statements whatever its size: per
    /// table one read of the stored keys, one multi-row write of the final rows, one count
    /// update; one multi-row log append. Every batch is planned in memory first, in submission
    /// order, so a batch that fails (its table gone, a stored record unreadable) is refused
    /// alone and never reaches SQLite. Answers per batch, the log entries with their ids, and
    /// the catalog entries to install.
    #[allow(clippy::type_complexity)]
    async fn commit_batches(
        &self,
        conn: &mut SqliteConnection,
        batches: Vec<Batch>,
    ) -> Result<(Vec<Result<WriteOutcome>>, Vec<(i64, Announcement)>, Vec<TableMeta>)> {
        // This transaction skips SQLite's fsync (the caller restores it afterwards); the barrier
        // syncs the WAL while the next group writes.
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "PRAGMA synchronous = NORMAL; BEGIN").await?;
        // Each table the group writes, in first-named order, with every key its batches name.
        let mut tables: Vec<TableWrites> = Vec::new();
        let mut slot: HashMap<(&str, &str), usize> = HashMap::new();
        let mut table_of: Vec<Result<usize>> = Vec::with_capacity(batches.len());
        for b in &batches {
            let known = slot.get(&(b.database.as_str(), b.table.as_str())).copied();
            let at = match known {
                Some(i) => Ok(i),
                // The catalog may have changed while the batch waited for the writer.
                None => self.table(&b.database, &b.table).map(|meta| {
                    tables.push(TableWrites {
                        meta,
                        stored: HashMap::new(),
                        rows: HashMap::new(),
                        new_attrs: Vec::new(),
                        last_updated: 0.0,
                        order: Vec::new(),
                        new_rows: 0,
                        replaces: false,
                    });
                    slot.insert((b.database.as_str(), b.table.as_str()), tables.len() - 1);
                    tables.len() - 1
                }),
            };
            if let Ok(i) = at {
                tables[i].replaces |= b.mode != WriteMode::Insert;
            }
            table_of.push(at);
        }
        for (i, t) in tables.iter_mut().enumerate() {
            let mut seen = std::collections::HashSet::new();
            let keys: Vec<Value> = batches
                .iter()
                .zip(&table_of)
                .filter(|(_, at)| matches!(at, Ok(j) if *j == i))
                .flat_map(|(b, _)| b.prepared.iter().map(|(k, _)| k))
                .filter(|k| seen.insert(key_text(k)))
                .cloned()
                .collect();
            t.stored = existing_docs(&mut tx, &t.meta, &keys, t.replaces).await?;
        }

        let mut answers = Vec::with_capacity(batches.len());
        let mut announcements = Vec::new();
        for (b, at) in batches.into_iter().zip(table_of) {
            let Batch { mode, prepared, user, .. } = b;
            let planned = at.and_then(|i| tables[i].plan(mode, prepared).map(|p| (i, p)));
            let (i, p) = match planned {
                Ok(x) => x,
                Err(e) => {
                    answers.push(Err(e));
                    continue;
                }
            };
            if p.docs.is_empty() {
                answers.push(Ok(p.outcome));
                continue;
            }
            let t = &mut tables[i];
            let (mut outcome, payload, now) = t.apply(p);
            outcome.txn_id = Some(announcements.len() as i64); // the entry's index until ids are known
            announcements.push(Announcement { channel: t.meta.channel(), operation: mode.name(), user, payload, ts: now });
            answers.push(Ok(outcome));
        }

        let mut metas = Vec::new();
        for t in &mut tables {
            if t.order.is_empty() {
                continue;
            }
            let rows: Vec<(Value, String, f64)> = t.order.iter().filter_map(|kt| t.rows.remove(kt)).collect();
            // Keys were checked under the write lock: in insert mode a conflict is a bug and fails loudly.
            upsert_rows(&mut tx, &t.meta, &rows, &self.node_name, t.replaces).await?;
            metas.extend(add_attributes(&mut tx, &t.meta, std::mem::take(&mut t.new_attrs)).await?);
            adjust_count(&mut tx, t.meta.id, t.new_rows, Some(t.last_updated)).await?;
        }
        let ids = self.append_log_entries(&mut tx, &announcements).await?;
        tx.commit().await?;
        for outcome in answers.iter_mut().flatten() {
            if let Some(index) = outcome.txn_id {
                outcome.txn_id = ids.get(index as usize).copied();
            }
        }
        Ok((answers, ids.into_iter().zip(announcements).collect(), metas))
    }

    /// Appends entries to the transaction log in the caller's transaction, in order, with
    /// consecutive ids after the highest ever used (the log's AUTOINCREMENT counter, which
    /// explicit ids keep up to date); answers the ids. The caller holds the writer.
    async fn append_log_entries(&self, tx: &mut SqliteConnection, entries: &[Announcement]) -> Result<Vec<i64>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let last: i64 = sqlx::query_scalar(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'txn_log'), 0), COALESCE((SELECT MAX(id) FROM txn_log), 0))",
        )
        .fetch_one(&mut *tx)
        .await?;
        let ids: Vec<i64> = (last + 1..=last + entries.len() as i64).collect();
        for (chunk, chunk_ids) in entries.chunks(LOG_ROWS_PER_STATEMENT).zip(ids.chunks(LOG_ROWS_PER_STATEMENT)) {
            let marks = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
            let sql = format!("INSERT INTO txn_log (id, origin, channel, operation, user, records, ts) VALUES {marks}");
            let mut q = sqlx::query(&sql);
            for (a, id) in chunk.iter().zip(chunk_ids) {
                q = q.bind(id).bind(&self.node_name).bind(&a.channel).bind(a.operation).bind(a.user.as_deref()).bind(&a.payload).bind(a.ts);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(ids)
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
