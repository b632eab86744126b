//! Record writes: insert, update (merge), upsert and delete of whole batches. A batch commits
//! whole or not at all, together with the record count and its transaction-log entry; batches
//! submitted while a commit is under way share the next one (group commit).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use sqlx::{Row, SqliteConnection};
use tokio::sync::oneshot;

use super::value::{bind_all, key_from_row, key_param, key_text, kind_of, normalize_key, now_ms, Param};
use super::{user_query_error, AttributeMeta, Store, TableMeta, CREATED, UPDATED};
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

/// Batches waiting for the writer. Invariant: whenever `jobs` is non-empty, `committing` is
/// set and one `commit_loop` task is running or scheduled that will take them; only that task
/// clears `committing`, under the lock, when it finds `jobs` empty.
#[derive(Default)]
pub(super) struct WriteQueue(std::sync::Mutex<QueueState>);

#[derive(Default)]
pub(super) struct QueueState {
    jobs: Vec<PendingWrite>,
    committing: bool,
}

impl WriteQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next group (up to GROUP_RECORDS records, at least one batch), or `None` after
    /// clearing `committing` when nothing waits.
    fn next_group(&self) -> Option<Vec<PendingWrite>> {
        let mut q = self.lock();
        if q.jobs.is_empty() {
            q.committing = false;
            return None;
        }
        let mut records = 0;
        let take = q
            .jobs
            .iter()
            .take_while(|j| {
                records += j.batch.prepared.len();
                records <= GROUP_RECORDS
            })
            .count()
            .clamp(1, q.jobs.len());
        Some(q.jobs.drain(..take).collect())
    }
}

/// Scheduler turns a committer gives a queue of fewer than GATHERED batches before committing
/// it: one commit and one burst of frames per subscriber then carry several publishes.
const GATHER_TURNS: usize = 3;
const GATHERED: usize = 4;

/// Groups one committer commits before it lets other writers (catalog changes, replication,
/// deletes) have the connection.
const GROUPS_PER_TURN: usize = 32;

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

/// What a committed group answers: per batch its outcome, the log entries with their ids, and
/// the catalog entries to install.
struct GroupCommitted {
    answers: Vec<Result<WriteOutcome>>,
    announcements: Vec<(i64, Announcement)>,
    metas: Vec<TableMeta>,
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
    fn new(meta: Arc<TableMeta>) -> TableWrites {
        TableWrites {
            meta,
            stored: HashMap::new(),
            rows: HashMap::new(),
            new_attrs: Vec::new(),
            last_updated: 0.0,
            order: Vec::new(),
            new_rows: 0,
            replaces: false,
        }
    }

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
        self.writable()?;
        let meta = self.table(database, table)?;
        let prepared = prepare(&meta, mode, records)?;
        let (done, answer) = oneshot::channel();
        let batch = Batch { database: database.to_string(), table: table.to_string(), mode, prepared, user: user.map(str::to_string) };
        let job = PendingWrite { batch, done };
        let start = {
            let mut q = self.queue.lock();
            q.jobs.push(job);
            !std::mem::replace(&mut q.committing, true)
        };
        if start {
            self.schedule_commit();
        }
        Ok(answer)
    }

    /// Spawns the task that will take the queue (a plain fn, so that `commit_loop`, which
    /// may schedule its successor, does not need its own future's type to be known).
    fn schedule_commit(self: &Arc<Self>) {
        self.tasks.spawn(self.clone().commit_loop());
    }

    /// Commits queued groups one after the other while batches keep coming, holding the writer
    /// for up to GROUPS_PER_TURN groups; its transactions skip SQLite's fsync (the barrier
    /// syncs the WAL), and the connection is back to full sync before anyone else gets it.
    async fn commit_loop(self: Arc<Self>) {
        // Let the tasks that are ready run first: what they submit joins the first group.
        tokio::task::yield_now().await;
        let mut w = match self.writer().await {
            Ok(w) => w,
            Err(e) => return self.refuse_queued(&e),
        };
        if let Err(e) = sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *w).await {
            return self.refuse_queued(&e.into());
        }
        let mut turns = 0;
        while let Some(jobs) = self.queue.next_group() {
            self.commit_group(&mut w, jobs).await;
            turns += 1;
            if turns == GROUPS_PER_TURN {
                // More may be waiting: a successor takes them after the other writers' turn
                // (`committing` stays set).
                self.schedule_commit();
                break;
            }
            // Let the ready tasks (sockets reading publishes) run before the next group; a
            // small queue gets a few more scheduler turns to grow (each turn polls the sockets).
            for _ in 0..GATHER_TURNS {
                tokio::task::yield_now().await;
                if self.queue.lock().jobs.len() >= GATHERED {
                    break;
                }
            }
        }
        if sqlx::query("PRAGMA synchronous = FULL").execute(&mut *w).await.is_err() {
            // Never hand a connection that skips fsyncs to another writer: the pool reopens one.
            w.close_on_drop();
        }
    }

    /// Answers every queued batch with `e` (the writer cannot be had or set up).
    fn refuse_queued(&self, e: &Error) {
        while let Some(jobs) = self.queue.next_group() {
            refuse(jobs.into_iter().map(|j| j.done), e);
        }
    }

    /// Commits one group in one SQLite transaction (without fsync: the caller set
    /// `synchronous = NORMAL`); announces its entries at once and answers each batch once the
    /// barrier has synced the WAL.
    ///
    /// A group that SQLite refuses as a whole (a batch too large for the storage quota, say)
    /// is rolled back and its batches are committed again one by one, so the batch that fails
    /// is refused alone and every other one is written.
    async fn commit_group(&self, w: &mut SqliteConnection, jobs: Vec<PendingWrite>) {
        let (dones, mut batches): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.done, j.batch)).unzip();
        if let Err(e) = self.writable() {
            return refuse(dones, &e);
        }
        // A group of several batches keeps them, to commit each alone should the group fail.
        let keep = batches.len() > 1;
        match self.commit_batches(w, &mut batches, keep).await {
            Ok(committed) => self.finish_group(dones, committed),
            Err(e) if keep => {
                tracing::debug!(error = %e, batches = batches.len(), "a group commit failed; committing its batches one by one");
                for (done, mut batch) in dones.into_iter().zip(batches) {
                    match self.commit_batches(w, std::slice::from_mut(&mut batch), false).await {
                        Ok(committed) => self.finish_group(vec![done], committed),
                        Err(e) => refuse([done], &e),
                    }
                }
            }
            // Nothing of the batch was written; it hears why.
            Err(e) => refuse(dones, &e),
        }
    }

    /// Installs a committed group's catalog changes, announces its entries and answers its
    /// batches once the barrier has synced them.
    fn finish_group(&self, dones: Vec<oneshot::Sender<Result<WriteOutcome>>>, committed: GroupCommitted) {
        let GroupCommitted { answers, announcements, metas } = committed;
        // The next group plans against these (the catalog changed with the commit).
        for meta in metas {
            self.replace_meta(meta);
        }
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
                Err(e) => refuse(dones, &e),
            }),
        );
    }

    /// Commits a group in one transaction with a handful of statements whatever its size: per
    /// table one read of the stored keys, one multi-row write of the final rows, one count
    /// update; one multi-row log append. Every batch is planned in memory first, in submission
    /// order, so a batch that fails (its table gone, a stored record unreadable) is refused
    /// alone and never reaches SQLite. Answers per batch, the log entries with their ids, and
    /// the catalog entries to install.
    async fn commit_batches(
        &self,
        conn: &mut SqliteConnection,
        batches: &mut [Batch],
        keep: bool,
    ) -> Result<GroupCommitted> {
        let done = self.plan_and_write(conn, batches, keep).await;
        if done.is_err() {
            // Whatever failed (a statement, the commit), nothing of the group stays. Without an
            // open transaction this fails harmlessly.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        }
        done
    }

    /// `commit_batches` without the rollback: the transaction is opened by the read and
    /// committed by the write (two round trips, not four). With `keep` the batches' records are
    /// planned from copies and stay; without, they are taken.
    async fn plan_and_write(
        &self,
        tx: &mut SqliteConnection,
        batches: &mut [Batch],
        keep: bool,
    ) -> Result<GroupCommitted> {
        // Each table the group writes, in first-named order, with every key its batches name.
        let mut tables: Vec<TableWrites> = Vec::new();
        let mut slot: HashMap<(&str, &str), usize> = HashMap::new();
        let mut table_of: Vec<Result<usize>> = Vec::with_capacity(batches.len());
        for b in batches.iter() {
            let known = slot.get(&(b.database.as_str(), b.table.as_str())).copied();
            let at = match known {
                Some(i) => Ok(i),
                // The catalog may have changed while the batch waited for the writer.
                None => self.table(&b.database, &b.table).map(|meta| {
                    tables.push(TableWrites::new(meta));
                    slot.insert((b.database.as_str(), b.table.as_str()), tables.len() - 1);
                    tables.len() - 1
                }),
            };
            if let Ok(i) = at {
                tables[i].replaces |= b.mode != WriteMode::Insert;
            }
            table_of.push(at);
        }
        let keys: Vec<Vec<Value>> = (0..tables.len())
            .map(|i| {
                let mut seen = std::collections::HashSet::new();
                batches
                    .iter()
                    .zip(&table_of)
                    .filter(|(_, at)| matches!(at, Ok(j) if *j == i))
                    .flat_map(|(b, _)| b.prepared.iter().map(|(k, _)| k))
                    .filter(|k| seen.insert(key_text(k)))
                    .cloned()
                    .collect()
            })
            .collect();
        let last_log_id = read_group_state(tx, &mut tables, &keys).await?;
        let mut answers = Vec::with_capacity(batches.len());
        // Per answer, the index of its log entry in `announcements` (ids are known at the end).
        let mut entry_of: Vec<Option<usize>> = Vec::with_capacity(batches.len());
        let mut announcements = Vec::new();
        for (b, at) in batches.iter_mut().zip(table_of) {
            let mode = b.mode;
            let user = &b.user;
            let prepared = if keep { b.prepared.clone() } else { std::mem::take(&mut b.prepared) };
            let planned = at.and_then(|i| tables[i].plan(mode, prepared).map(|p| (i, p)));
            let (i, p) = match planned {
                Ok(x) => x,
                Err(e) => {
                    answers.push(Err(e));
                    entry_of.push(None);
                    continue;
                }
            };
            if p.docs.is_empty() {
                answers.push(Ok(p.outcome));
                entry_of.push(None);
                continue;
            }
            let t = &mut tables[i];
            let (outcome, payload, now) = t.apply(p);
            entry_of.push(Some(announcements.len()));
            announcements.push(Announcement { channel: t.meta.channel(), operation: mode.name(), user: user.clone(), payload, ts: now });
            answers.push(Ok(outcome));
        }

        let ids: Vec<i64> = (last_log_id + 1..=last_log_id + announcements.len() as i64).collect();
        let metas = write_group(tx, &mut tables, &announcements, &ids, &self.node_name).await?;
        for (answer, entry) in answers.iter_mut().zip(entry_of) {
            if let (Ok(outcome), Some(index)) = (answer, entry) {
                outcome.txn_id = ids.get(index).copied();
            }
        }
        Ok(GroupCommitted { answers, announcements: ids.into_iter().zip(announcements).collect(), metas })
    }

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

    async fn delete_picked(&self, database: &str, table: &str, pick: Pick<'_>, user: Option<&str>) -> Result<DeleteOutcome> {
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
        let sql = format!("DELETE FROM {} WHERE pk IN ({{keys}}) RETURNING pk", meta.physical());
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
        put_tombstones(&mut tx, &meta, &outcome.deleted, now, &self.node_name, txn_id).await?;
        tx.commit().await?;
        self.announce(txn_id, &meta.channel(), "delete", user, &payload, now);
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
        let mut outcome = WriteOutcome::default();
        let mut docs: Vec<(Value, String, f64)> = Vec::with_capacity(rows.len());
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
            collect_new_attributes(&meta, &doc, &mut new_attrs);
            docs.push((key.clone(), serde_json::to_string(&doc).map_err(|e| Error::Internal(e.to_string()))?, now));
            outcome.written.push(key);
        }
        if docs.is_empty() {
            tx.commit().await?;
            return Ok(outcome);
        }
        upsert_rows(&mut tx, &meta, &docs, &self.node_name, true).await?;
        let next_meta = add_attributes(&mut tx, &meta, new_attrs).await?;
        adjust_count(&mut tx, meta.id, 0, Some(now)).await?;
        let mut payload = String::from("[");
        for (i, (_, doc, _)) in docs.iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(doc);
        }
        payload.push(']');
        let txn_id = self.append_log(&mut tx, &meta, "update", user, &payload, now).await?;
        tx.commit().await?;
        if let Some(next) = next_meta {
            self.replace_meta(next);
        }
        self.announce(txn_id, &meta.channel(), "update", user, &payload, now);
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

/// Records that `keys` were deleted at `at` on `origin`; a tombstone only ever moves forward
/// by (time, origin), the order last-writer-wins uses. `log_id` is the delete's entry in this
/// node's log (what peers acknowledge before the tombstone may go).
pub(super) async fn put_tombstones(tx: &mut SqliteConnection, meta: &TableMeta, keys: &[Value], at: f64, origin: &str, log_id: i64) -> Result<()> {
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let marks = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(",");
        let sql = format!(
            "INSERT INTO tombstones (table_id, pk, updated, origin, log_id) VALUES {marks} ON CONFLICT(table_id, pk) DO UPDATE \
             SET updated = excluded.updated, origin = excluded.origin, log_id = excluded.log_id \
             WHERE (excluded.updated, excluded.origin) > (tombstones.updated, tombstones.origin)"
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = bind_all(q.bind(meta.id), &[key_param(k)]).bind(at).bind(origin).bind(log_id);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Which records a delete removes: these keys, or what a query on the table answers.
enum Pick<'a> {
    Keys(Vec<Value>),
    Query(&'a str, &'a [Param]),
}

/// Answers each waiting batch with `e`.
fn refuse(dones: impl IntoIterator<Item = oneshot::Sender<Result<WriteOutcome>>>, e: &Error) {
    for done in dones {
        let _ = done.send(Err(e.clone()));
    }
}

/// One round trip: opens the group's transaction, reads what each table holds for the keys the
/// group names (bodies only where a batch updates or upserts) into `TableWrites::stored`, and
/// answers the log's last id (its AUTOINCREMENT counter; the log is never trimmed, so nothing
/// above it was ever used).
async fn read_group_state(tx: &mut SqliteConnection, tables: &mut [TableWrites], keys: &[Vec<Value>]) -> Result<i64> {
    let mut sql = String::from("BEGIN IMMEDIATE; SELECT -1, NULL, CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'txn_log';");
    let mut params: Vec<Param> = Vec::new();
    for (i, (t, keys)) in tables.iter().zip(keys).enumerate() {
        let doc = if t.replaces { "doc" } else { "NULL" };
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(",");
            sql.push_str(&format!("SELECT {i}, pk, {doc} FROM {} WHERE pk IN ({marks});", t.meta.physical()));
            params.extend(chunk.iter().map(key_param));
        }
    }
    let mut last_log_id = 0;
    for row in bind_all(sqlx::query(&sql), &params).fetch_all(&mut *tx).await? {
        let table: i64 = row.try_get(0)?;
        let third: Option<String> = row.try_get(2)?;
        if table < 0 {
            last_log_id = third.and_then(|s| s.parse().ok()).unwrap_or(0);
            continue;
        }
        let key = key_from_row(&row, 1)?;
        if let Some(t) = tables.get_mut(table as usize) {
            let doc = if t.replaces { Some(third.unwrap_or_default()) } else { None };
            t.stored.insert(key_text(&key), doc);
        }
    }
    Ok(last_log_id)
}

/// An argument of a group's write script, borrowed from the plan.
enum Arg<'a> {
    Key(&'a Value),
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    Real(f64),
}

/// One round trip: per table the final rows, the attributes it learns and its count; then the
/// log entries with their ids; then the commit. Answers the catalog entries to install.
async fn write_group(
    tx: &mut SqliteConnection,
    tables: &mut [TableWrites],
    entries: &[Announcement],
    ids: &[i64],
    origin: &str,
) -> Result<Vec<TableMeta>> {
    let mut metas = Vec::new();
    let rows: Vec<Vec<(Value, String, f64)>> =
        tables.iter_mut().map(|t| t.order.iter().filter_map(|kt| t.rows.remove(kt)).collect()).collect();
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
            for (key, doc, updated) in chunk {
                args.extend([Arg::Key(key), Arg::Text(doc), Arg::Real(*updated), Arg::Text(origin)]);
            }
        }
        if !t.new_attrs.is_empty() {
            let mut next = (*t.meta).clone();
            for names in t.new_attrs.chunks(ROWS_PER_STATEMENT) {
                sql.push_str(&add_attributes_sql(names.len()));
                sql.push(';');
                for name in names {
                    args.extend([Arg::Int(t.meta.id), Arg::Int(next.attributes.len() as i64), Arg::Text(name)]);
                    next.attributes.push(AttributeMeta { name: name.clone(), kind: None, indexed: true });
                }
            }
            metas.push(next);
        }
        sql.push_str(ADJUST_COUNT_SQL);
        sql.push(';');
        args.extend([Arg::Int(t.new_rows), Arg::Real(t.last_updated), Arg::Int(t.meta.id)]);
    }
    for (chunk, chunk_ids) in entries.chunks(LOG_ROWS_PER_STATEMENT).zip(ids.chunks(LOG_ROWS_PER_STATEMENT)) {
        let marks = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
        sql.push_str(&format!("INSERT INTO txn_log (id, origin, channel, operation, user, records, ts) VALUES {marks};"));
        for (e, id) in chunk.iter().zip(chunk_ids) {
            args.extend([Arg::Int(*id), Arg::Text(origin), Arg::Text(&e.channel), Arg::Text(e.operation), Arg::OptText(e.user.as_deref()), Arg::Text(&e.payload), Arg::Real(e.ts)]);
        }
    }
    sql.push_str("COMMIT;");
    let mut q = sqlx::query(&sql);
    for a in args {
        q = match a {
            Arg::Key(k) => bind_all(q, &[key_param(k)]),
            Arg::Text(s) => q.bind(s),
            Arg::OptText(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Real(f) => q.bind(f),
        };
    }
    q.execute(&mut *tx).await?;
    Ok(metas)
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

/// Runs `statement` (whose `{keys}` stands for the key list) over `keys` in chunks. Its rows
/// are `pk` and, with `with_doc`, a document; answers canonical key → document.
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
            let doc = if with_doc { Some(row.try_get::<String, _>(1)?) } else { None };
            found.insert(key_text(&key_from_row(&row, 0)?), doc);
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

/// An insert of `n` rows `(pk, doc, updated, origin)`; with `upsert` an existing key is replaced.
fn insert_rows_sql(meta: &TableMeta, n: usize, upsert: bool) -> String {
    let conflict = if upsert {
        " ON CONFLICT(pk) DO UPDATE SET doc = excluded.doc, updated = excluded.updated, origin = excluded.origin"
    } else {
        ""
    };
    let marks = vec!["(?, ?, ?, ?)"; n].join(",");
    format!("INSERT INTO {} (pk, doc, updated, origin) VALUES {marks}{conflict}", meta.physical())
}

/// Records `n` attributes `(table_id, position, name)`, indexed; names already known are kept.
fn add_attributes_sql(n: usize) -> String {
    let marks = vec!["(?, ?, ?, 1)"; n].join(",");
    format!("INSERT OR IGNORE INTO attributes (table_id, position, name, indexed) VALUES {marks}")
}

/// Moves a table's count by `?` and sets its last update (`?`, unless null) for table `?`.
const ADJUST_COUNT_SQL: &str = "UPDATE tables SET record_count = record_count + ?, last_updated = COALESCE(?, last_updated) WHERE id = ?";

/// Writes `(key, document, updated)` rows stamped with `origin`, in multi-row statements.
/// With `upsert` an existing key is replaced; without, an existing key is an error.
pub(super) async fn upsert_rows(
    tx: &mut SqliteConnection,
    meta: &TableMeta,
    rows: &[(Value, String, f64)],
    origin: &str,
    upsert: bool,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = insert_rows_sql(meta, chunk.len(), upsert);
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
        sqlx::query(&add_attributes_sql(1))
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
    sqlx::query(ADJUST_COUNT_SQL)
        .bind(delta)
        .bind(last_updated)
        .bind(table_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
