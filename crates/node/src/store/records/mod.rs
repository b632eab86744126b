//! Record writes: insert, update (merge), upsert and delete of whole batches. A batch commits
//! whole or not at all, together with the record count and its transaction-log entry; batches
//! submitted while a commit is under way share the next one (group commit).

mod commit;
#[cfg(test)]
pub(in crate::store) use commit::Durability;
mod delete;
mod plan;
mod rows;

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::{Store, TableMeta};
use crate::error::{Error, Result};
pub(in crate::store) use {delete::*, plan::*, rows::*};

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

/// A row as written: key, document, update time, version.
pub(in crate::store) type RowWrite = (Value, String, f64, i64);

/// Rows per multi-row statement: 3 parameters each, well under SQLite's 32766.
pub(in crate::store) const ROWS_PER_STATEMENT: usize = 500;
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

    /// Whether what is queued is exactly one group (and something is).
    fn is_one_group(&self) -> bool {
        let q = self.lock();
        !q.jobs.is_empty() && group_len(&q.jobs) == q.jobs.len()
    }

    /// Whether batches wait; when none does, the committer stops (`committing` is cleared
    /// under the same lock, so a batch queued next starts another).
    fn more_or_stop(&self) -> bool {
        let mut q = self.lock();
        if q.jobs.is_empty() {
            q.committing = false;
            return false;
        }
        true
    }

    /// The next group, or `None` after clearing `committing` when nothing waits.
    fn next_group(&self) -> Option<Vec<PendingWrite>> {
        let mut q = self.lock();
        if q.jobs.is_empty() {
            q.committing = false;
            return None;
        }
        let take = group_len(&q.jobs);
        Some(q.jobs.drain(..take).collect())
    }
}

/// How many of the queued `jobs` (not none) the next group takes: up to GROUP_RECORDS records,
/// at least one batch.
fn group_len(jobs: &[PendingWrite]) -> usize {
    let mut records = 0;
    jobs.iter()
        .take_while(|j| {
            records += j.batch.prepared.len();
            records <= GROUP_RECORDS
        })
        .count()
        .clamp(1, jobs.len())
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
pub(in crate::store) struct Announcement {
    channel: String,
    operation: &'static str,
    user: Option<String>,
    payload: String,
    ts: f64,
    version: i64,
}

/// What a committed group answers: per batch its outcome, the log entries with their ids, and
/// the catalog entries to install.
struct GroupCommitted {
    answers: Vec<Result<WriteOutcome>>,
    announcements: Vec<(i64, Announcement)>,
    metas: Vec<TableMeta>,
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

}
