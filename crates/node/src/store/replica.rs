//! The storage side of replication, as a source: reading the log for a peer, the peers'
//! acknowledged positions and the tombstones they let go. Applying a peer's entries is `apply`.

use futures_util::TryStreamExt;
use sqlx::Row;

use super::{LogEntry, Store, TableMeta};
use crate::error::Result;

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
    /// The highest log id the read could see (the durable head for `log_after`).
    pub bound: i64,
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
        // Rows are taken one by one and the read stops once the page is full: a backlog of
        // large entries is read once, not again for every page cut from it (SQLite's thread reads
        // at most sqlx's row channel, 50 rows, ahead).
        let mut rows = sqlx::query(
            "SELECT id, origin, COALESCE(origin_id, id), operation, ts, records, user, version FROM txn_log \
             WHERE channel = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
        )
        .bind(channel)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch(self.read_pool());
        let mut page = LogPage { entries: Vec::new(), upto: after, bound: upto };
        let mut bytes = 0usize;
        while bytes < PAGE_BYTES {
            // Past the full page the rest goes in the next one; `upto` stops before it.
            let Some(row) = rows.try_next().await? else { break };
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

    /// What `peer` lacks on `channel` after `after`, in one read: how many entries (not from
    /// it), and the commit time at its origin (ms since the epoch) of the oldest of them.
    pub async fn lacking(&self, channel: &str, after: i64, peer: &str) -> Result<(i64, Option<f64>)> {
        // One scan: the count over every row it finds, beside the first row's time.
        let row = sqlx::query("SELECT COUNT(*) OVER (), ts FROM txn_log WHERE channel = ? AND id > ? AND id <= ? AND origin != ? ORDER BY id LIMIT 1")
            .bind(channel)
            .bind(after)
            .bind(self.durable_head())
            .bind(peer)
            .fetch_optional(self.read_pool())
            .await?;
        let (count, oldest): (i64, Option<f64>) = match row {
            Some(r) => (r.try_get(0)?, Some(r.try_get(1)?)),
            None => (0, None),
        };
        Ok((count, oldest))
    }

    pub async fn peer_position(&self, peer: &str, channel: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT last_id FROM peer_positions WHERE peer = ? AND channel = ?")
            .bind(peer)
            .bind(channel)
            .fetch_optional(self.read_pool())
            .await?
            .unwrap_or(0))
    }
}
