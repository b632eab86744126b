//! Durable storage in SQLite: the catalog, record tables, users and roles, the transaction log.
//!
//! Invariants: every write holds the write turn (`Writer`: SQLite has one writer; holding the
//! turn serialises catalog changes too). Record batches are group-committed, and replicated
//! batches applied, on a connection of their own with `synchronous = NORMAL` (`unsynced_writer`):
//! those that queue up while the writer is busy share its next transaction, and the durability
//! barrier (`durability`) syncs the WAL before anyone is answered. Every other writer commits on
//! `write`, with `synchronous = FULL`. Readers use `read` and never block the writer (WAL). A batch
//! commits whole or not at all; the log is read by replication only up to the durable head.

mod accounts;
mod apply;
mod catalog;
pub mod clock;
pub mod digest;
mod durability;
mod jobs;
mod peers;
mod records;
mod replica;
pub mod repair;
mod schema;
mod search;
pub mod sql;
pub mod value;
mod wal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite};

pub use catalog::{AttributeMeta, Catalog, TableMeta};
pub use records::{DeleteOutcome, WriteMode, WriteOutcome};
pub use accounts::{AccountChange, StoredRole, StoredUser};
pub use jobs::StoredJob;
pub use peers::StoredPeer;
pub use apply::{Applied, OnDisk, RemoteEntry};
pub use replica::LogPage;
use value::{bind_all, now_ms, Param};

use crate::error::{Error, Result};

/// A committed transaction-log entry, announced as data: the SocketCluster layer builds the
/// frame that carries it (once, in `frame`, for every subscriber).
#[derive(Debug)]
pub struct Committed {
    pub id: i64,
    pub channel: String,
    /// The node the write happened on when it is another (a log stream leaves out its peer's
    /// own); `None` for this node's writes, the feed's usual traffic, which then costs nothing.
    pub origin: Option<String>,
    /// The entry as subscribers receive it (`switchyard_protocol::sc::Transaction`, as JSON).
    pub entry: String,
    /// The frame the SocketCluster layer built from `entry`, shared, not copied, by every
    /// subscriber's socket. Empty until the first socket sends it.
    pub frame: std::sync::OnceLock<axum::extract::ws::Utf8Bytes>,
}

pub struct Store {
    read: SqlitePool,
    /// The writers' connection (`synchronous = FULL`).
    write: SqlitePool,
    /// The group commit's and replication's connection (`synchronous = NORMAL`).
    unsynced: SqlitePool,
    /// Held by whoever writes, on either connection: one writer at a time, in log order.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    catalog: RwLock<Catalog>,
    file: PathBuf,
    /// The name this node stamps on the transactions it originates.
    node_name: String,
    /// Every committed log entry, in commit order, for live subscribers.
    commits: tokio::sync::broadcast::Sender<std::sync::Arc<Committed>>,
    /// The highest log id announced (see `announced`).
    announced: std::sync::atomic::AtomicI64,
    /// Record batches waiting for the next group commit.
    queue: records::WriteQueue,
    /// Answers and announcements waiting for their commit to reach the disk.
    barrier: Arc<durability::Barrier>,
    /// The node's task tracker: the store's tasks are waited for when the node stops.
    tasks: tokio_util::task::TaskTracker,
    /// The versions of this node's writes (and the highest seen from peers).
    clock: clock::Clock,
}

/// A connection that writes, held with the write turn.
pub(crate) struct Writer {
    conn: PoolConnection<Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for Writer {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }
}

impl Writer {
    /// The transaction a script opens and commits in its own statements (`BEGIN` … `COMMIT`
    /// inside multi-statement queries, not sqlx's `Transaction`).
    pub(crate) fn script_txn(&mut self) -> ScriptTxn<'_> {
        ScriptTxn { writer: self, open: true }
    }
}

/// A transaction opened by a script's statements. Should the future running it be dropped
/// before it ends, the connection is closed rather than returned to its pool with the
/// transaction open (SQLite rolls back what a closing connection left).
pub(crate) struct ScriptTxn<'a> {
    writer: &'a mut Writer,
    open: bool,
}

impl ScriptTxn<'_> {
    pub(crate) fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.writer.conn
    }

    /// The script committed.
    pub(crate) fn ended(mut self) {
        self.open = false;
    }

    /// Rolls back whatever the script left open (harmless when nothing is).
    pub(crate) async fn rollback(mut self) {
        let _ = sqlx::query("ROLLBACK").execute(&mut *self.writer.conn).await;
        self.open = false;
    }
}

impl Drop for ScriptTxn<'_> {
    fn drop(&mut self) {
        if self.open {
            self.writer.conn.close_on_drop();
        }
    }
}

/// The attributes every table starts with after its primary key.
pub const CREATED: &str = "__createdtime__";
pub const UPDATED: &str = "__updatedtime__";

/// How long a writer waits for its turn before it fails.
const WRITE_TURN_WAIT: Duration = Duration::from_secs(30);

/// Entries a live subscriber may fall behind by before it is told it lagged.
const COMMIT_FEED_CAPACITY: usize = 16_384;

impl Store {
    /// `tasks` tracks the store's own tasks (group commits, the durability barrier).
    pub async fn open(dir: &Path, node_name: &str, max_bytes: Option<u64>, tasks: tokio_util::task::TaskTracker) -> Result<Store> {
        std::fs::create_dir_all(dir)?;
        let file = dir.join("switchyard.db");
        let opts = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-32768");
        // SQLite answers SQLITE_FULL past max_page_count (4 KiB pages), exactly as on a full disk.
        let opts = match max_bytes {
            Some(b) => opts.pragma("max_page_count", (b / 4096).max(16).to_string()),
            None => opts,
        };
        // A local file has nothing to ping: testing a connection before each use (sqlx's default)
        // only costs a round trip to its thread.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        // Its commits skip SQLite's fsync: the durability barrier syncs the WAL for them.
        let unsynced = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.clone().synchronous(SqliteSynchronous::Normal))
            .await?;
        // Nothing writes yet: the WAL (open, since the writers connected) is written out now.
        let wal = file.with_extension("db-wal");
        let written = tokio::task::spawn_blocking({
            let wal = wal.clone();
            move || wal::write_ahead(&wal, wal::WAL_BYTES)
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(file = %wal.display(), "the WAL could not be written out ahead (commits grow it instead): {e}"),
            Err(e) => tracing::warn!(file = %wal.display(), "the WAL could not be written out ahead: {e}"),
        }
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(4)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        let (catalog, head, high) = {
            let mut conn = write.acquire().await?;
            let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM txn_log").fetch_one(&mut *conn).await?;
            let catalog = Catalog::load(&mut conn).await?;
            upgrade_record_tables(&mut conn, &catalog).await?;
            // Every version stored is in the log (it is never trimmed): the clock starts past it.
            let high: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM txn_log").fetch_one(&mut *conn).await?;
            (catalog, head, high)
        };
        Ok(Store {
            read,
            write,
            unsynced,
            write_turn: Arc::new(tokio::sync::Mutex::new(())),
            catalog: RwLock::new(catalog),
            node_name: node_name.to_string(),
            commits: tokio::sync::broadcast::channel(COMMIT_FEED_CAPACITY).0,
            announced: std::sync::atomic::AtomicI64::new(0),
            queue: records::WriteQueue::default(),
            barrier: durability::Barrier::new(file.with_extension("db-wal"), head, tasks.clone()),
            clock: clock::Clock::starting_after(high),
            tasks,
            file,
        })
    }

    /// Checkpoints the WAL and closes every connection.
    pub async fn close(&self) {
        {
            let _turn = self.write_turn.lock().await;
            if let Ok(mut c) = self.write.acquire().await {
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *c).await;
            }
        }
        self.read.close().await;
        self.unsynced.close().await;
        self.write.close().await;
    }

    /// The highest log id announced on the feed so far. Read after `subscribe_commits`: every
    /// entry above it reaches that receiver (the id is set before the entry is sent).
    pub fn announced(&self) -> i64 {
        self.announced.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Live feed of committed entries; a receiver that falls too far behind gets `Lagged`.
    pub fn subscribe_commits(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<Committed>> {
        self.commits.subscribe()
    }

    /// Announces a committed entry (originated here or elsewhere), committed durably
    /// (`synchronous = FULL`). Called while the writer is still held, like the group commit's
    /// announcements, so the feed keeps log order; the durable head reaches it once the entries
    /// before it are synced too.
    pub(crate) fn announce(&self, e: &LogEntry) {
        self.announced.fetch_max(e.id, std::sync::atomic::Ordering::SeqCst);
        if let Some(c) = self.committed(e) {
            let _ = self.commits.send(c);
        }
        self.barrier.queue(false, e.id, Box::new(|_| {}));
    }

    /// Announces entries committed without an fsync (`synchronous = NORMAL`), in log order,
    /// while the writer is still held: live subscribers get them now; `settle` runs once the
    /// barrier has synced them (and the durable head passes them).
    pub(crate) fn announce_unsynced(&self, entries: &[LogEntry], settle: durability::Settle) {
        self.announce_group(entries, true, settle);
    }

    /// Announces a group's entries, in log order, while the writer is still held. `needs_sync`:
    /// committed without an fsync (see `announce_unsynced`); otherwise on disk already, and
    /// `settle` runs once every commit before it is too (at once when none waits).
    pub(crate) fn announce_group(&self, entries: &[LogEntry], needs_sync: bool, settle: durability::Settle) {
        if let Some(last) = entries.iter().map(|e| e.id).max() {
            self.announced.fetch_max(last, std::sync::atomic::Ordering::SeqCst);
        }
        for e in entries {
            if let Some(c) = self.committed(e) {
                let _ = self.commits.send(c);
            }
        }
        self.barrier.queue(needs_sync, entries.iter().map(|e| e.id).max().unwrap_or(0), settle);
    }

    /// The feed's item for an entry; `None` when nobody listens.
    fn committed(&self, e: &LogEntry) -> Option<Arc<Committed>> {
        if self.commits.receiver_count() == 0 {
            return None;
        }
        Some(Arc::new(Committed { id: e.id, channel: e.channel.to_string(), origin: (e.origin != self.node_name).then(|| e.origin.to_string()), entry: e.json(), frame: std::sync::OnceLock::new() }))
    }

    /// Every log id at or below this is on disk; readers of the log stop there.
    pub fn durable_head(&self) -> i64 {
        self.barrier.durable_head()
    }

    /// Follows the durable head: an entry announced on the feed can be read from the log once
    /// the head reaches its id.
    pub fn watch_durable_head(&self) -> tokio::sync::watch::Receiver<i64> {
        self.barrier.watch_durable_head()
    }

    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// The write turn on the writers' connection (commits sync); refused once the node is
    /// read-only.
    async fn writer(&self) -> Result<Writer> {
        let turn = self.write_turn().await?;
        Ok(Writer { conn: self.write.acquire().await?, _turn: turn })
    }

    /// The write turn on the connection whose commits skip the fsync: only for commits that
    /// queue on the durability barrier before anyone is answered.
    async fn unsynced_writer(&self) -> Result<Writer> {
        let turn = self.write_turn().await?;
        Ok(Writer { conn: self.unsynced.acquire().await?, _turn: turn })
    }

    /// Waits for the write turn as long as a pool waits for a connection (sqlx's 30 s).
    async fn write_turn(&self) -> Result<tokio::sync::OwnedMutexGuard<()>> {
        self.writable()?;
        tokio::time::timeout(WRITE_TURN_WAIT, self.write_turn.clone().lock_owned())
            .await
            .map_err(|_| Error::Storage(format!("no write turn within {} s", WRITE_TURN_WAIT.as_secs())))
    }

    /// Refuses writes once a sync has failed (see `read_only`).
    pub(crate) fn writable(&self) -> Result<()> {
        match self.barrier.failure() {
            Some(why) => Err(Error::ReadOnly(why.to_string())),
            None => Ok(()),
        }
    }

    /// Why the node refuses writes: the disk failed to confirm one. `None` while writable.
    pub fn read_only(&self) -> Option<String> {
        self.barrier.failure().map(str::to_string)
    }

    /// Fault injection for tests: the next sync of the write-ahead log fails.
    #[doc(hidden)]
    pub fn fail_next_sync(&self) {
        self.barrier.fail_next_sync();
    }

    fn read_pool(&self) -> &SqlitePool {
        &self.read
    }

    pub fn catalog(&self) -> Catalog {
        self.catalog.read().map(|c| c.clone()).unwrap_or_default()
    }

    fn with_catalog<T>(&self, f: impl FnOnce(&mut Catalog) -> T) -> T {
        let mut guard = match self.catalog.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn table(&self, database: &str, table: &str) -> Result<Arc<TableMeta>> {
        match self.catalog.read() {
            Ok(c) => c.table(database, table),
            Err(p) => p.into_inner().table(database, table),
        }
    }

    /// Size of the storage file in bytes (the WAL included).
    pub fn db_size(&self) -> u64 {
        let wal = self.file.with_extension("db-wal");
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        size(&self.file) + size(&wal)
    }

    // ---- node metadata -------------------------------------------------------------------

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM node_meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.read)
            .await?)
    }

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *w)
            .await?;
        Ok(())
    }

    /// Deletes records whose last update is older than the table's expiration, in batches;
    /// returns how many. Not logged: expiry is local.
    pub async fn expire(&self, meta: &TableMeta) -> Result<u64> {
        let Some(secs) = meta.expiration else { return Ok(0) };
        let cutoff = now_ms() - secs as f64 * 1000.0;
        let mut total = 0;
        loop {
            let mut w = self.writer().await?;
            if self.table(&meta.database, &meta.name).is_err() {
                return Ok(total); // dropped meanwhile
            }
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            let t = meta.physical();
            let rows = sqlx::query(&format!("DELETE FROM {t} WHERE pk IN (SELECT pk FROM {t} WHERE updated < ? LIMIT 5000) RETURNING pk, version, doc"))
                .bind(cutoff)
                .fetch_all(&mut *tx)
                .await?;
            let gone = rows.len() as u64;
            let mut changes = digest::Changes::default();
            for row in &rows {
                let (kt, hash) = digest::keyed_row_hash(row)?;
                changes.remove(meta.id, digest::bucket_of(&kt), hash);
            }
            changes.write(&mut tx).await?;
            if gone > 0 {
                records::adjust_count(&mut tx, meta.id, -(gone as i64), None).await?;
            }
            tx.commit().await?;
            total += gone;
            if gone < 5000 {
                return Ok(total);
            }
        }
    }

    /// `(record_count, last_updated_record)`: one primary-key lookup, never a scan.
    pub async fn table_stats(&self, meta: &TableMeta) -> Result<(u64, Option<f64>)> {
        let row = sqlx::query("SELECT record_count, last_updated FROM tables WHERE id = ?")
            .bind(meta.id)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(r) => Ok((r.try_get::<i64, _>(0)?.max(0) as u64, r.try_get(1)?)),
            None => Err(Error::NotFound(format!("Table '{}' does not exist", meta.qualified()))),
        }
    }

    // ---- reads -----------------------------------------------------------------------------

    /// Runs generated SQL with bound parameters on a read connection.
    async fn fetch(&self, sql: &str, params: &[Param]) -> Result<Vec<SqliteRow>> {
        let q = bind_all(sqlx::query(sql), params);
        q.fetch_all(&self.read).await.map_err(user_query_error)
    }

    /// The stored documents for these keys, in the order asked; missing keys are left out.
    pub async fn docs_by_keys(&self, meta: &TableMeta, keys: &[Value]) -> Result<Vec<String>> {
        let mut conn = self.read.acquire().await?;
        let sql = format!("SELECT pk, doc FROM {} WHERE pk IN ({{keys}})", meta.physical());
        let mut found = records::rows_by_key(&mut conn, &sql, keys, true).await?;
        Ok(keys.iter().filter_map(|k| found.remove(&value::key_text(k)).flatten()).collect())
    }
}

/// Brings record tables made by earlier versions of the node up to date, each in its own
/// transaction; idempotent (a table that has a column is left alone):
/// * a `version` column, each row the version of its update time (as migration 0006 does for
///   the log and tombstones);
/// * a `bucket` column and the table's digest (store/digest.rs).
async fn upgrade_record_tables(conn: &mut sqlx::SqliteConnection, catalog: &Catalog) -> Result<()> {
    for meta in catalog.databases.values().flat_map(|t| t.values()) {
        let t = meta.physical();
        let columns: Vec<String> = sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')")).fetch_all(&mut *conn).await?;
        let has = |name: &str| columns.iter().any(|c| c == name);
        if !has("version") {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(&format!("ALTER TABLE {t} ADD COLUMN version INTEGER NOT NULL DEFAULT 0")).execute(&mut *tx).await?;
            sqlx::query(&format!(
                "UPDATE {t} SET version = (CAST(updated AS INTEGER) << 20) | CAST((updated - CAST(updated AS INTEGER)) * 1000 AS INTEGER) WHERE updated > 0"
            ))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        if !has("bucket") {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(&format!("ALTER TABLE {t} ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0")).execute(&mut *tx).await?;
            digest::rebuild(&mut tx, meta).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// One log entry as subscribers and peers receive it (`switchyard_protocol::sc::Transaction`).
pub(crate) struct LogEntry<'a> {
    /// Its place in this node's log.
    pub id: i64,
    /// The node where the write happened, and its id there.
    pub origin: &'a str,
    pub origin_id: i64,
    pub channel: &'a str,
    pub operation: &'a str,
    pub user: Option<&'a str>,
    /// Commit time at the origin, epoch ms (for people; the version orders writes).
    pub ts: f64,
    /// The write's version from its origin's clock (`clock.rs`).
    pub version: i64,
    /// The `records` (or, for a delete, `ids`) as JSON text.
    pub records: &'a str,
}

impl LogEntry<'_> {
    pub fn json(&self) -> String {
        let key = if self.operation == "delete" { "ids" } else { "records" };
        format!(
            "{{\"id\":{},\"origin\":{},\"origin_id\":{},\"channel\":{},\"operation\":{},\"user\":{},\"ts\":{},\"version\":{},\"{key}\":{}}}",
            self.id,
            Value::String(self.origin.to_string()),
            self.origin_id,
            Value::String(self.channel.to_string()),
            Value::String(self.operation.to_string()),
            self.user.map(|u| Value::String(u.to_string())).unwrap_or(Value::Null),
            self.ts,
            self.version,
            self.records,
        )
    }
}

/// A failing query generated from a client's request (SQL, conditions, searches). What SQLite
/// refuses in such a query (a wrong argument count, an overflow, a bad ESCAPE, a non-integer
/// LIMIT, an expression too deep or too large) is the client's input: 400, with SQLite's
/// reason and never the generated SQL. Storage failures keep their own mapping.
pub(crate) fn user_query_error(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &e {
        let primary = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0) & 0xff;
        let msg = db.message();
        // SQLITE_ERROR (1), SQLITE_TOOBIG (18), SQLITE_MISMATCH (20), SQLITE_RANGE (25).
        if matches!(primary, 1 | 18 | 20 | 25) {
            tracing::debug!(error = %msg, "a generated query was refused");
            return Error::bad(format!("the query cannot run: {msg}"));
        }
    }
    Error::from(e)
}

/// Names of databases, tables and attributes: non-empty, at most 250 bytes, no control characters.
pub fn validate_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::bad(format!("{what} name must not be empty")));
    }
    if name.len() > 250 {
        return Err(Error::bad(format!("{what} name is longer than 250 bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad(format!("{what} name '{}' contains a control character", name.escape_debug())));
    }
    if what != "attribute" && what != "primary key" && (name.contains('.') || name.contains(':') || name.contains('/')) {
        return Err(Error::bad(format!("{what} name '{name}' may not contain '.', ':' or '/'")));
    }
    Ok(())
}
