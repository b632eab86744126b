//! The durability barrier: answering a writer, and letting replication read its log entries,
//! wait here until its commit is on disk.
//!
//! Group commits run with `synchronous = NORMAL`: SQLite writes the WAL frames without an fsync
//! and the commit joins this queue. One task drains the queue: it syncs the WAL file once for
//! everything queued before the sync started, then settles each item in order, so the next
//! group writes while the previous one's fsync is in flight and one fsync covers every group
//! queued behind it. Commits made with `synchronous = FULL` (every other writer) are on disk
//! already; they queue only to move the durable head, which must not pass entries still
//! waiting for their sync. Live subscribers are not held here: they get entries at commit.
//!
//! Invariants: items settle in the order they were queued (writers queue while they still hold
//! the connection, so queue order is log order); `durable_head` only grows and every log id at
//! or below it is on disk; a failed sync settles its items with the error and moves nothing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::error::{Error, Result};

/// Work to run once the commits before it are durable (or with the reason they may not be).
pub(super) type Settle = Box<dyn FnOnce(Result<()>) + Send>;

struct Item {
    /// Whether this commit skipped SQLite's own fsync.
    needs_sync: bool,
    /// The highest log id the commit wrote (0 when none).
    head: i64,
    settle: Settle,
}

/// The shortest time from one sync's start to the next one's while commits keep coming (some
/// were queued while the last sync ran). An idle node syncs at once; a busy one shares each
/// fsync among what committed meanwhile.
const MIN_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(1);

#[derive(Default)]
struct Queue {
    items: Vec<Item>,
    /// Whether a drain task is running; it takes every item queued before it stops.
    draining: bool,
}

pub(super) struct Barrier {
    wal: PathBuf,
    /// Where the drain task is spawned (the node's tracker).
    tasks: tokio_util::task::TaskTracker,
    /// Set by the first failed sync, never cleared: the node is read-only from then on (what
    /// reached the disk is unknown, so nothing more may be acknowledged). Holds the reason.
    failed: std::sync::OnceLock<String>,
    /// Test hook: the next sync fails as a disk that does not confirm would.
    fail_next_sync: std::sync::atomic::AtomicBool,
    /// Syncs made (a test's witness of which path a commit took).
    syncs: std::sync::atomic::AtomicU64,
    queue: Mutex<Queue>,
    /// The durable head; readers of the log wait on it for entries they were told about.
    durable_head: watch::Sender<i64>,
}

impl Barrier {
    /// `wal` is the database's `-wal` file; `head` the highest log id already on disk.
    pub(super) fn new(wal: PathBuf, head: i64, tasks: tokio_util::task::TaskTracker) -> Arc<Barrier> {
        Arc::new(Barrier {
            wal,
            tasks,
            failed: std::sync::OnceLock::new(),
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
            syncs: std::sync::atomic::AtomicU64::new(0),
            queue: Mutex::new(Queue::default()),
            durable_head: watch::channel(head).0,
        })
    }

    /// Why the node is read-only, once a sync has failed.
    pub(super) fn failure(&self) -> Option<&str> {
        self.failed.get().map(String::as_str)
    }

    /// Records that a sync failed, the barrier's or SQLite's own at a commit: the node is
    /// read-only from then on (the first reason stays).
    pub(super) fn sync_failed(&self, why: &str) {
        tracing::error!("the disk did not confirm committed writes: {why}");
        let _ = self.failed.set(format!("{} at {}", why, crate::store::value::now_ms() as u64));
    }

    /// Makes the next sync fail (fault injection for tests).
    pub(super) fn fail_next_sync(&self) {
        self.fail_next_sync.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every log id at or below this is on disk.
    pub(super) fn durable_head(&self) -> i64 {
        *self.durable_head.borrow()
    }

    /// Follows the durable head as it moves.
    pub(super) fn watch_durable_head(&self) -> watch::Receiver<i64> {
        self.durable_head.subscribe()
    }

    /// Queues `settle` behind everything queued so far. `needs_sync`: the commit was made
    /// without an fsync. Call it while still holding the writer, so that queue order is log order.
    pub(super) fn queue(self: &Arc<Self>, needs_sync: bool, head: i64, settle: Settle) {
        let start = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if !needs_sync && !q.draining {
                // On disk already, and nothing before it waits: it settles here, with the lock
                // held, so that nothing queued after it settles first.
                let settled = match self.failure() {
                    Some(why) => Err(Error::ReadOnly(why.to_string())),
                    None => {
                        self.move_head(head);
                        Ok(())
                    }
                };
                settle(settled);
                drop(q);
                return;
            }
            q.items.push(Item { needs_sync, head, settle });
            !std::mem::replace(&mut q.draining, true)
        };
        if start {
            self.tasks.spawn(self.clone().drain());
        }
    }

    /// Whether nothing waits here: a commit made now is the only one the disk owes. Not while
    /// a sync failure is injected: that failure is this barrier's, so commits come here for it.
    pub(super) fn is_idle(&self) -> bool {
        !self.fail_next_sync.load(std::sync::atomic::Ordering::SeqCst) && !self.queue.lock().unwrap_or_else(|p| p.into_inner()).draining
    }

    /// Syncs this barrier has made since the node started.
    #[cfg(test)]
    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves the durable head up to `head` (never down).
    fn move_head(&self, head: i64) {
        self.durable_head.send_if_modified(|h| {
            let moved = head > *h;
            *h = (*h).max(head);
            moved
        });
    }

    /// Ends the drain task when nothing is queued (the next `queue` starts another); answers
    /// whether it did.
    fn stop_if_idle(&self) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.items.is_empty() {
            q.draining = false;
            return true;
        }
        false
    }

    async fn drain(self: Arc<Self>) {
        let mut last_sync: Option<tokio::time::Instant> = None;
        loop {
            // Nothing queued: the task ends (the next `queue` starts another), so a lone commit
            // arriving later is synced at once instead of waiting out the spacing below.
            if self.stop_if_idle() {
                return;
            }
            // Under load (commits queued while the last sync ran), syncs are spaced: what commits
            // meanwhile shares the next one.
            if let Some(at) = last_sync {
                tokio::time::sleep_until(at + MIN_SYNC_INTERVAL).await;
            }
            // Not empty: only this task takes items.
            let items = std::mem::take(&mut self.queue.lock().unwrap_or_else(|p| p.into_inner()).items);
            let synced = if let Some(why) = self.failure() {
                // After a failed sync nothing more is confirmed, synced or not.
                Err(Error::ReadOnly(why.to_string()))
            } else if items.iter().any(|i| i.needs_sync) {
                last_sync = Some(tokio::time::Instant::now());
                self.syncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let wal = self.wal.clone();
                let injected = self.fail_next_sync.swap(false, std::sync::atomic::Ordering::SeqCst);
                match tokio::task::spawn_blocking(move || if injected { Err(injected_failure(&wal)) } else { sync_file(&wal) }).await {
                    Ok(r) => r,
                    Err(e) => Err(Error::Internal(format!("syncing the write-ahead log failed: {e}"))),
                }
            } else {
                Ok(())
            };
            if synced.is_ok() {
                self.move_head(items.iter().map(|i| i.head).max().unwrap_or(0));
            } else if let Err(e) = &synced {
                self.sync_failed(&e.to_string());
            }
            for item in items {
                (item.settle)(synced.clone());
            }
        }
    }
}

/// A failed sync: the file and cause go to the log, clients get the cause without the path.
fn disk_failed(path: &std::path::Path, cause: &str) -> Error {
    tracing::error!(file = %path.display(), "fsync failed: {cause}");
    Error::ReadOnly(format!("the disk did not confirm a write (fsync failed: {cause}); it may be lost"))
}

fn injected_failure(path: &std::path::Path) -> Error {
    disk_failed(path, "injected failure")
}

/// fdatasync of the file. A missing WAL was checkpointed into the database file and removed,
/// and a checkpoint syncs that file before it lets the WAL go.
fn sync_file(path: &std::path::Path) -> Result<()> {
    match std::fs::File::open(path) {
        Ok(f) => f.sync_data().map_err(|e| disk_failed(path, &e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Internal(format!("opening {} to sync it: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use crate::store::{Store, WriteMode};

    /// A store in `dir` with the table dev.t.
    async fn store_with_table(dir: &std::path::Path) -> Arc<Store> {
        let store = Arc::new(Store::open(dir, "n1", None, tokio_util::task::TaskTracker::new()).await.expect("open"));
        store.create_database("dev").await.expect("database");
        store.create_table("dev", "t", "id", None, None).await.expect("table");
        store
    }

    /// Writers are answered only after the barrier: every acknowledged entry is at or below the
    /// durable head, and so readable by replication. The writers' connection stays at full sync
    /// for the commits that sync on their own (lone groups and other writers; groups under load
    /// commit on the unsynced one).
    #[tokio::test]
    async fn acknowledged_writes_are_durable_and_the_writers_connection_stays_at_full_sync() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with_table(dir.path()).await;
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..40i64 {
            let store = store.clone();
            writers.spawn(async move {
                let records = vec![json!({"id": w})];
                let outcome = store.write("dev", "t", WriteMode::Insert, records, None).await.expect("write");
                let id = outcome.txn_id.expect("a log entry");
                assert!(store.durable_head() >= id, "answered before entry {id} was synced (head {})", store.durable_head());
                id
            });
        }
        let mut ids = Vec::new();
        while let Some(id) = writers.join_next().await {
            ids.push(id.expect("writer"));
        }
        ids.sort_unstable();
        assert_eq!(ids, (ids[0]..ids[0] + 40).collect::<Vec<_>>());
        let page = store.log_after("dev:t", 0, 100, "nobody").await.expect("log");
        assert_eq!(page.entries.len(), 40);
        let mut w = store.writer().await.expect("writer");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *w).await.expect("pragma");
        assert_eq!(sync, 2, "the writers' connection must stay at synchronous = FULL");
    }

    /// A write alone (nothing queued behind it, nothing waiting for the disk) is synced by its
    /// own commit on the writers' connection: answered durable without a sync of the barrier's.
    /// Writes that come while others wait share the barrier's syncs, and are answered durable too.
    #[tokio::test]
    async fn a_lone_write_is_synced_by_its_commit_and_writes_behind_others_by_the_barrier() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with_table(dir.path()).await;
        let before = store.barrier.syncs();
        for id in 0..3 {
            let outcome = store.write("dev", "t", WriteMode::Insert, vec![json!({"id": id})], None).await.expect("write");
            let txn = outcome.txn_id.expect("a log entry");
            assert!(store.durable_head() >= txn, "answered before entry {txn} was durable");
        }
        assert_eq!(store.barrier.syncs(), before, "lone writes are synced by their commits, not by the barrier");
        // Batches of more than one group's records: the first commits while the rest wait, so
        // at least one group is committed unsynced and synced by the barrier.
        let big = |from: i64| (from..from + 6_000).map(|id| json!({"id": id})).collect::<Vec<_>>();
        let answers: Vec<_> = (0..3).map(|k| store.submit("dev", "t", WriteMode::Insert, big(1_000 + k * 10_000), None).expect("queued")).collect();
        for answer in answers {
            let outcome = answer.await.expect("answered").expect("written");
            let txn = outcome.txn_id.expect("a log entry");
            assert!(store.durable_head() >= txn, "answered before entry {txn} was synced");
        }
        assert!(store.barrier.syncs() > before, "groups queued behind others go through the barrier");
        assert_eq!(store.log_after("dev:t", 0, 100, "nobody").await.expect("log").entries.len(), 6);
    }

    /// SQLite's own sync failing at a lone group's commit makes the node read-only, as a failed
    /// sync of the barrier's does; a failure of an unsynced commit is the barrier's to judge.
    #[tokio::test]
    async fn a_lone_commit_whose_own_sync_failed_makes_the_node_read_only() {
        use crate::error::Error;
        use crate::store::records::Durability;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), "n1", None, tokio_util::task::TaskTracker::new()).await.expect("open");
        let failed = Error::ReadOnly("the disk did not confirm a write (fsync failed: disk I/O error); it may be lost".into());
        assert!(!store.went_read_only(Durability::Unsynced, &failed));
        assert!(!store.went_read_only(Durability::Synced, &Error::StorageFull("database or disk is full".into())));
        assert!(store.read_only().is_none());
        assert!(store.went_read_only(Durability::Synced, &failed));
        assert!(store.read_only().is_some_and(|why| why.contains("fsync failed")), "{:?}", store.read_only());
        assert!(matches!(store.writable(), Err(Error::ReadOnly(_))));
    }
}
