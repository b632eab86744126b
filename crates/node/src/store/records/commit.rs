//! The group commit: queued batches taken in turns by one committer, written in one transaction,
//! answered and announced once durable.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use sqlx::SqliteConnection;
use tokio::sync::oneshot;

use super::*;
use crate::store::value::key_text;
use crate::store::{LogEntry, Store, Writer};
use crate::error::{Error, Result};

impl Store {
    /// Spawns the task that will take the queue (a plain fn, so that `commit_loop`, which
    /// may schedule its successor, does not need its own future's type to be known).
    pub(super) fn schedule_commit(self: &Arc<Self>) {
        self.tasks.spawn(self.clone().commit_loop());
    }

    /// Commits queued groups one after the other while batches keep coming, holding the write
    /// turn for up to GROUPS_PER_TURN groups; its transactions skip SQLite's fsync (the
    /// connection is the unsynced one: the barrier syncs the WAL).
    ///
    /// A group alone (nothing queued behind it, nothing waiting for the disk) has no commit to
    /// overlap its fsync with: it commits on the writers' connection, whose commit syncs on
    /// SQLite's thread, and is answered at once, without the barrier's turns between threads.
    /// Should that sync fail, the node goes read-only, as after a failed sync of the barrier's.
    pub(super) async fn commit_loop(self: Arc<Self>) {
        // Let the tasks that are ready run first: what they submit joins the first group.
        tokio::task::yield_now().await;
        if self.queue.is_one_group() && self.barrier.is_idle() {
            let mut w = match self.writer().await {
                Ok(w) => w,
                Err(e) => return self.refuse_queued(&e),
            };
            let Some(jobs) = self.queue.next_group() else { return };
            self.commit_group(&mut w, jobs, Durability::Synced).await;
            drop(w);
            // What was queued meanwhile is committed below, unsynced, behind it.
            if !self.queue.more_or_stop() {
                return;
            }
        }
        let mut w = match self.unsynced_writer().await {
            Ok(w) => w,
            Err(e) => return self.refuse_queued(&e),
        };
        let mut turns = 0;
        while let Some(jobs) = self.queue.next_group() {
            self.commit_group(&mut w, jobs, Durability::Unsynced).await;
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
    }

    /// Answers every queued batch with `e` (the writer cannot be had or set up).
    pub(super) fn refuse_queued(&self, e: &Error) {
        while let Some(jobs) = self.queue.next_group() {
            refuse(jobs.into_iter().map(|j| j.done), e);
        }
    }

    /// Commits one group in one SQLite transaction (without fsync: `w` is the unsynced
    /// connection); announces its entries at once and answers each batch once the
    /// barrier has synced the WAL.
    ///
    /// A group that SQLite refuses as a whole (a batch too large for the storage quota, say)
    /// is rolled back and its batches are committed again one by one, so the batch that fails
    /// is refused alone and every other one is written.
    pub(super) async fn commit_group(&self, w: &mut Writer, jobs: Vec<PendingWrite>, durability: Durability) {
        let (dones, mut batches): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.done, j.batch)).unzip();
        if let Err(e) = self.writable() {
            return refuse(dones, &e);
        }
        // A group of several batches keeps them, to commit each alone should the group fail.
        let keep = batches.len() > 1;
        match self.commit_batches(w, &mut batches, keep).await {
            Ok(committed) => self.finish_group(dones, committed, durability),
            // The disk did not confirm the commit's own sync: nothing more is tried.
            Err(e) if self.went_read_only(durability, &e) => refuse(dones, &e),
            Err(e) if keep => {
                tracing::debug!(error = %e, batches = batches.len(), "a group commit failed; committing its batches one by one");
                for (done, mut batch) in dones.into_iter().zip(batches) {
                    let committed = match self.writable() {
                        Ok(()) => self.commit_batches(w, std::slice::from_mut(&mut batch), false).await,
                        Err(e) => Err(e),
                    };
                    match committed {
                        Ok(committed) => self.finish_group(vec![done], committed, durability),
                        Err(e) => {
                            self.went_read_only(durability, &e);
                            refuse([done], &e)
                        }
                    }
                }
            }
            // Nothing of the batch was written; it hears why.
            Err(e) => refuse(dones, &e),
        }
    }

    /// Makes the node read-only when `e` says the disk did not confirm a commit's own sync, as
    /// after a failed sync of the barrier's, and answers whether it did (`Synced` commits only:
    /// an unsynced one is synced by the barrier, which sees its own failures).
    pub(in crate::store) fn went_read_only(&self, durability: Durability, e: &Error) -> bool {
        match (durability, e) {
            (Durability::Synced, Error::ReadOnly(why)) => {
                self.barrier.sync_failed(why);
                true
            }
            _ => false,
        }
    }

    /// Installs a committed group's catalog changes, announces its entries and answers its
    /// batches once they are on disk (at once when its commit synced them and nothing before it
    /// waits; otherwise once the barrier has synced them).
    pub(super) fn finish_group(&self, dones: Vec<oneshot::Sender<Result<WriteOutcome>>>, committed: GroupCommitted, durability: Durability) {
        let GroupCommitted { answers, announcements, metas } = committed;
        // The next group plans against these (the catalog changed with the commit).
        for meta in metas {
            self.replace_meta(meta);
        }
        // Live subscribers get the entries now, as any reader sees committed rows, in log order
        // (the writer is still held). Answers wait for the disk.
        let entries: Vec<LogEntry> = announcements
            .iter()
            .map(|(id, a)| LogEntry {
                id: *id,
                origin: &self.node_name,
                origin_id: *id,
                channel: &a.channel,
                operation: a.operation,
                user: a.user.as_deref(),
                ts: a.ts,
                version: a.version,
                records: &a.payload,
            })
            .collect();
        self.announce_group(
            &entries,
            durability == Durability::Unsynced,
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
    pub(super) async fn commit_batches(
        &self,
        w: &mut Writer,
        batches: &mut [Batch],
        keep: bool,
    ) -> Result<GroupCommitted> {
        let mut txn = w.script_txn();
        let done = self.plan_and_write(txn.conn(), batches, keep).await;
        match done {
            Ok(_) => txn.ended(),
            // Whatever failed (a statement, the commit), nothing of the group stays.
            Err(_) => txn.rollback().await,
        }
        done
    }

    /// `commit_batches` without the rollback: the transaction is opened by the read and
    /// committed by the write (two round trips, not four). With `keep` the batches' records are
    /// planned from copies and stay; without, they are taken.
    pub(super) async fn plan_and_write(
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
            // Every entry its own version, newer than all this node wrote or received before.
            let version = self.clock.tick();
            let (outcome, payload, now) = t.apply(p, version);
            entry_of.push(Some(announcements.len()));
            announcements.push(Announcement { channel: t.meta.channel(), operation: mode.name(), user: user.clone(), payload, ts: now, version });
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

}

/// How a group's commit reaches the disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Durability {
    /// SQLite syncs it at commit (the writers' connection).
    Synced,
    /// The barrier syncs it (the unsynced connection).
    Unsynced,
}

/// Answers each waiting batch with `e`.
pub(in crate::store) fn refuse(dones: impl IntoIterator<Item = oneshot::Sender<Result<WriteOutcome>>>, e: &Error) {
    for done in dones {
        let _ = done.send(Err(e.clone()));
    }
}

