//! The SQL of a received batch: one round trip that opens the transaction and reads what the
//! batch needs (positions, the log's counter, the keys' rows and tombstones, their digest parts),
//! and one that writes the plan and commits.

use std::collections::BTreeSet;

use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::plan::{Found, Held, Plan};
use crate::error::Result;
use crate::store::digest::{self, record_hash};
use crate::store::records::{bind_args, insert_rows_sql, learn_attributes, put_tombstones_sql, Arg, ADJUST_COUNT_SQL, ROWS_PER_STATEMENT};
use crate::store::value::{key_from_row, key_text};
use crate::store::TableMeta;

/// A batch's statements, run in as few round trips as their texts allow. A statement over a
/// full chunk has the same text every time (prepared once per connection, from sqlx's cache) and
/// runs as a query of its own; the others, whose texts vary, run together as one multi-statement
/// query (prepared afresh, which costs more than a round trip only for a large statement).
#[derive(Default)]
struct Script<'a> {
    alone: Vec<(String, Vec<Arg<'a>>)>,
    together: String,
    together_args: Vec<Arg<'a>>,
}

impl<'a> Script<'a> {
    /// Adds a statement over `rows` rows (or keys).
    fn push(&mut self, sql: String, args: impl IntoIterator<Item = Arg<'a>>, rows: usize) {
        if rows == ROWS_PER_STATEMENT {
            self.alone.push((sql, args.into_iter().collect()));
        } else {
            self.together.push_str(&sql);
            self.together.push(';');
            self.together_args.extend(args);
        }
    }

    /// Runs a script of reads: the together statements first (the first may open the
    /// transaction), then the full chunks. Answers every row.
    async fn read(self, conn: &mut SqliteConnection) -> Result<Vec<SqliteRow>> {
        let mut rows = bind_args(sqlx::query(&self.together), self.together_args).fetch_all(&mut *conn).await?;
        for (sql, args) in self.alone {
            rows.extend(bind_args(sqlx::query(&sql), args).fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }

    /// Runs a script of writes: the full chunks first, then the together statements (the last
    /// may commit).
    async fn write(self, conn: &mut SqliteConnection) -> Result<()> {
        for (sql, args) in self.alone {
            bind_args(sqlx::query(&sql), args).execute(&mut *conn).await?;
        }
        if !self.together.is_empty() {
            bind_args(sqlx::query(&self.together), self.together_args).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Who sent the batch and by which path: its entries are checked against these positions.
pub(super) struct Source<'a> {
    pub peer: &'a str,
    pub channel: &'a str,
    /// The limited user the peer pushed as (None: a trusted peer).
    pub relay: Option<&'a str>,
}

// Rows of the read are `(tag, pk, integer, text, body)`; the tag says what a row is.
const PEER_AT: i64 = -1;
const LOG_SEQ: i64 = -2;
const OWN: i64 = -3;
const PATH: i64 = -4;
const PART: i64 = -5;
const ROW: i64 = 0;
const TOMB: i64 = 1;

/// Reads what planning `keys` from `origins` needs: one round trip, and one per full chunk of
/// keys. The `first` read opens the batch's transaction (BEGIN IMMEDIATE: the writer's turn is
/// held, so it never waits).
pub(super) async fn read(conn: &mut SqliteConnection, meta: &TableMeta, from: &Source<'_>, origins: &[&str], keys: &[&Value], first: bool, parts: &BTreeSet<u8>) -> Result<Found> {
    let mut script = Script::default();
    let begin = if first { "BEGIN IMMEDIATE; " } else { "" };
    script.push(format!("{begin}SELECT {PEER_AT}, NULL, last_id, NULL, NULL FROM peer_positions WHERE peer = ? AND channel = ?"), [Arg::Text(from.peer), Arg::Text(from.channel)], 1);
    script.push(format!("SELECT {LOG_SEQ}, NULL, seq, NULL, NULL FROM sqlite_sequence WHERE name = 'txn_log'"), [], 1);
    if !origins.is_empty() {
        let marks = vec!["?"; origins.len()].join(",");
        let named = origins.iter().map(|o| Arg::Text(o));
        script.push(
            format!("SELECT {OWN}, NULL, last_id, origin, NULL FROM origin_positions WHERE channel = ? AND origin IN ({marks})"),
            std::iter::once(Arg::Text(from.channel)).chain(named.clone()),
            1,
        );
        if let Some(via) = from.relay {
            script.push(
                format!("SELECT {PATH}, NULL, last_id, origin, NULL FROM relay_positions WHERE channel = ? AND via = ? AND origin IN ({marks})"),
                [Arg::Text(from.channel), Arg::Text(via)].into_iter().chain(named),
                1,
            );
        }
    }
    if !parts.is_empty() {
        let list = parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
        // Table ids and part numbers are ours (integers), never client text.
        script.push(format!("SELECT {PART}, NULL, part, NULL, data FROM digests WHERE table_id = {} AND part IN ({list})", meta.id), [], 1);
    }
    if !keys.is_empty() {
        // A table that never had a delete has no tombstones to look keys up in (the EXISTS is
        // evaluated once, before any key is).
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(",");
            script.push(
                format!(
                    "SELECT {ROW}, pk, version, origin, doc FROM {} WHERE pk IN ({marks}) UNION ALL \
                     SELECT {TOMB}, pk, version, origin, NULL FROM tombstones WHERE table_id = {id} AND pk IN ({marks}) \
                     AND EXISTS (SELECT 1 FROM tombstones WHERE table_id = {id})",
                    meta.physical(),
                    id = meta.id
                ),
                chunk.iter().chain(chunk.iter()).map(|k| Arg::Key(k)),
                chunk.len(),
            );
        }
    }
    let mut found = Found::default();
    for row in script.read(conn).await? {
        let tag: i64 = row.try_get(0)?;
        match tag {
            PEER_AT => found.peer_at = row.try_get(2)?,
            LOG_SEQ => found.last_log_id = row.try_get(2)?,
            OWN => {
                found.own.insert(row.try_get(3)?, row.try_get(2)?);
            }
            PATH => {
                found.path.insert(row.try_get(3)?, row.try_get(2)?);
            }
            PART => {
                let part: i64 = row.try_get(2)?;
                found.parts.insert((meta.id, part as u8), row.try_get(4)?);
            }
            ROW => {
                let kt = key_text(&key_from_row(&row, 1)?);
                let version: i64 = row.try_get(2)?;
                let doc: String = row.try_get(4)?;
                let hash = record_hash(&kt, version, &doc);
                found.keys.entry(kt).or_insert_with(Held::default).row = Some((version, row.try_get(3)?, hash));
            }
            _ => {
                let kt = key_text(&key_from_row(&row, 1)?);
                found.keys.entry(kt).or_insert_with(Held::default).tomb = Some((row.try_get(2)?, row.try_get(3)?));
            }
        }
    }
    Ok(found)
}

/// What the last segment of a batch writes for the whole batch before it commits.
pub(super) struct Finish {
    /// The peer's position.
    pub upto: i64,
    /// The table's count moves by this, and its last update is this time, when any entry was
    /// applied.
    pub count: Option<(i64, Option<f64>)>,
    /// The digest parts to store: (table id, part, data).
    pub parts: Vec<(i64, u8, Vec<u8>)>,
}

/// Writes `plan` in one round trip (and one per full chunk of rows): the log entries, the rows,
/// the tombstones, the attributes, the origins' positions; with `finish` (the batch's last
/// segment) the count, the digest and the peer's position too, and commits. Answers the table's
/// next metadata when it learnt attributes (to install once committed).
pub(super) async fn write(conn: &mut SqliteConnection, meta: &TableMeta, from: &Source<'_>, plan: &Plan, finish: Option<Finish>) -> Result<Option<TableMeta>> {
    let mut script = Script::default();
    for chunk in plan.log.chunks(ROWS_PER_STATEMENT) {
        let marks = vec!["(?, ?, ?, ?, ?, NULL, ?, ?, ?)"; chunk.len()].join(",");
        let sql = format!("INSERT INTO txn_log (id, origin, origin_id, channel, operation, user, records, ts, version) VALUES {marks}");
        let args = chunk.iter().flat_map(|e| {
            [
                Arg::Int(e.id),
                Arg::Text(&e.origin),
                Arg::Int(e.origin_id),
                Arg::Text(from.channel),
                Arg::Text(&e.operation),
                Arg::Text(&e.payload),
                Arg::Real(e.ts),
                Arg::Int(e.version),
            ]
        });
        script.push(sql, args, chunk.len());
    }
    for chunk in plan.deletes.chunks(ROWS_PER_STATEMENT) {
        script.push(format!("DELETE FROM {} WHERE pk IN ({})", meta.physical(), vec!["?"; chunk.len()].join(",")), chunk.iter().map(Arg::Key), chunk.len());
    }
    for chunk in plan.upserts.chunks(ROWS_PER_STATEMENT) {
        let args = chunk.iter().flat_map(|r| [Arg::Key(&r.key), Arg::Text(&r.doc), Arg::Real(r.updated), Arg::Text(&r.origin), Arg::Int(r.version), Arg::Int(r.bucket)]);
        script.push(insert_rows_sql(meta, chunk.len(), true), args, chunk.len());
    }
    for chunk in plan.tombs.chunks(ROWS_PER_STATEMENT) {
        let sql = put_tombstones_sql(chunk.len());
        let args = chunk.iter().flat_map(|t| [Arg::Int(meta.id), Arg::Key(&t.key), Arg::Real(t.at), Arg::Text(&t.origin), Arg::Int(t.log_id), Arg::Int(t.version)]);
        script.push(sql, args, chunk.len());
    }
    let next = learn_attributes(meta, &plan.new_attrs, |sql, args, n| script.push(sql, args, n));
    if !plan.positions.is_empty() {
        let (marks, conflict) = match from.relay {
            None => ("(?, ?, ?, ?)", "INSERT INTO origin_positions (origin, channel, last_id, last_version) VALUES {} ON CONFLICT(origin, channel)"),
            Some(_) => ("(?, ?, ?, ?, ?)", "INSERT INTO relay_positions (origin, channel, via, last_id, last_version) VALUES {} ON CONFLICT(origin, channel, via)"),
        };
        let values = vec![marks; plan.positions.len()].join(",");
        let sql = format!("{} DO UPDATE SET last_id = excluded.last_id, last_version = excluded.last_version", conflict.replace("{}", &values));
        let mut args = Vec::new();
        for (origin, id, version) in &plan.positions {
            args.extend([Arg::Text(origin), Arg::Text(from.channel)]);
            if let Some(via) = from.relay {
                args.push(Arg::Text(via));
            }
            args.extend([Arg::Int(*id), Arg::Int(*version)]);
        }
        script.push(sql, args, 1);
    }
    if let Some(finish) = &finish {
        if let Some((delta, last_ts)) = finish.count {
            script.push(ADJUST_COUNT_SQL.to_string(), [Arg::Int(delta), Arg::OptReal(last_ts), Arg::Int(meta.id)], 1);
        }
        if !finish.parts.is_empty() {
            let args = finish.parts.iter().flat_map(|(t, p, data)| [Arg::Int(*t), Arg::Int(*p as i64), Arg::Bytes(data)]);
            script.push(digest::write_sql(finish.parts.len()), args, 1);
        }
        script.push(
            "INSERT INTO peer_positions (peer, channel, last_id) VALUES (?, ?, ?) \
             ON CONFLICT(peer, channel) DO UPDATE SET last_id = MAX(last_id, excluded.last_id); COMMIT"
                .to_string(),
            [Arg::Text(from.peer), Arg::Text(from.channel), Arg::Int(finish.upto)],
            1,
        );
    }
    script.write(conn).await?;
    Ok(next)
}
