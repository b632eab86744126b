//! Table digests: per bucket of primary keys, a count and an additive hash of the records it
//! holds, kept in the same transaction as every write, so two nodes compare whole tables
//! without a scan (the anti-entropy of Riak's AAE and Cassandra's repair trees).
//!
//! Invariants: a record contributes `record_hash(key, version, doc)` to bucket `bucket_of(key)`;
//! a bucket's digest is the sum of its records' hashes modulo 2^128 and its count their number,
//! so equal tables have equal digests whatever order they were written in. Each row of a record
//! table stores its `bucket` (so a bucket lists without hashing every key); a write takes back
//! what a row it replaces held, from that row's version and document. Every
//! path that changes a record table's rows (group commit, replication, delete, SQL update,
//! expiry, drop_attribute) records its changes here in its own transaction, under the writer.
//! Buckets are stored 16 to a row (a part): a batch rewrites at most 16 small rows, a single
//! write one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use switchyard_protocol::ops::{BucketDigest, DigestRecord, DigestRecords, OriginMark, TableDigest};

use super::value::{bind_all, key_from_row, key_param, key_text, Param};
use super::{Store, TableMeta};
use crate::error::{Error, Result};

/// Buckets per table, by one byte of the key's hash.
pub const BUCKETS: usize = switchyard_protocol::ops::TableDigest::BUCKETS;
const _: () = assert!(BUCKETS == 256, "a bucket is one byte of the key's hash");

/// Buckets per stored part, and the bytes of one bucket in it (count i64, sum u128).
const PER_PART: usize = 16;
const BUCKET_BYTES: usize = 24;

/// The bucket of a key (its canonical text, `value::key_text`): the same on every node. FNV-1a
/// with a final mix: cheap, stable, and spread evenly (it places records, it proves nothing).
pub fn bucket_of(key_text: &str) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key_text.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finaliser: every input bit reaches the top byte.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((h ^ (h >> 31)) >> 56) as u8
}

/// The stored part a bucket is in.
pub(in crate::store) fn part_of(bucket: u8) -> u8 {
    bucket / PER_PART as u8
}

/// What a record contributes to its bucket: the first 128 bits of SHA-256 over its key, its
/// version and its document as stored (the document a peer receives is stored as the same text).
pub fn record_hash(key_text: &str, version: i64, doc: &str) -> u128 {
    let mut h = Sha256::new();
    h.update((key_text.len() as u64).to_le_bytes());
    h.update(key_text.as_bytes());
    h.update(version.to_le_bytes());
    h.update(doc.as_bytes());
    let out = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&out[..16]);
    u128::from_le_bytes(first)
}

/// The hash of a row read as `pk, version, …, doc` (the document last: `pk, version, doc` or
/// `pk, version, origin, doc`), with its key's text.
pub fn keyed_row_hash(row: &SqliteRow) -> Result<(String, u128)> {
    let kt = key_text(&key_from_row(row, 0)?);
    let doc: String = row.try_get(row.len() - 1)?;
    let hash = record_hash(&kt, row.try_get(1)?, &doc);
    Ok((kt, hash))
}

/// `keyed_row_hash` without the key.
pub fn row_hash(row: &SqliteRow) -> Result<u128> {
    keyed_row_hash(row).map(|(_, hash)| hash)
}

/// One bucket: how many records and the sum of their hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    pub count: i64,
    pub sum: u128,
}

impl Bucket {
    fn plus(self, other: Bucket) -> Bucket {
        Bucket { count: self.count + other.count, sum: self.sum.wrapping_add(other.sum) }
    }
}

/// A stored part: its 16 buckets.
fn decode(blob: &[u8]) -> Result<[Bucket; PER_PART]> {
    if blob.len() != PER_PART * BUCKET_BYTES {
        return Err(Error::Internal(format!("a stored digest part has {} bytes, not {}", blob.len(), PER_PART * BUCKET_BYTES)));
    }
    let mut part = [Bucket::default(); PER_PART];
    for (b, bytes) in part.iter_mut().zip(blob.chunks_exact(BUCKET_BYTES)) {
        let (count, sum) = bytes.split_at(8);
        b.count = i64::from_le_bytes(count.try_into().map_err(|_| Error::Internal("a digest count".into()))?);
        b.sum = u128::from_le_bytes(sum.try_into().map_err(|_| Error::Internal("a digest sum".into()))?);
    }
    Ok(part)
}

fn encode(part: &[Bucket; PER_PART]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PER_PART * BUCKET_BYTES);
    for b in part {
        out.extend_from_slice(&b.count.to_le_bytes());
        out.extend_from_slice(&b.sum.to_le_bytes());
    }
    out
}

/// Stored parts by (table id, part number).
pub(in crate::store) type Parts = HashMap<(i64, u8), Vec<u8>>;

/// The digest changes of one transaction: per (table id, bucket), what was added less what
/// was removed.
#[derive(Debug, Default)]
pub(in crate::store) struct Changes(BTreeMap<(i64, u8), Bucket>);

impl Changes {
    /// A record now holds `hash` in `bucket`.
    pub fn add(&mut self, table: i64, bucket: u8, hash: u128) {
        let b = self.0.entry((table, bucket)).or_default();
        *b = b.plus(Bucket { count: 1, sum: hash });
    }

    /// A record that held `hash` in `bucket` is gone or replaced.
    pub fn remove(&mut self, table: i64, bucket: u8, hash: u128) {
        let b = self.0.entry((table, bucket)).or_default();
        *b = Bucket { count: b.count - 1, sum: b.sum.wrapping_sub(hash) };
    }

    /// Adds `other`'s changes to these.
    pub fn absorb(&mut self, other: Changes) {
        for (at, delta) in other.0 {
            let b = self.0.entry(at).or_default();
            *b = b.plus(delta);
        }
    }

    /// The parts the changes touch, per table.
    pub fn parts(&self) -> BTreeMap<i64, BTreeSet<u8>> {
        let mut touched: BTreeMap<i64, BTreeSet<u8>> = BTreeMap::new();
        for (t, b) in self.0.keys() {
            touched.entry(*t).or_default().insert(b / PER_PART as u8);
        }
        touched
    }

    /// The touched parts as they are to be stored, from the parts as stored now (a part not in
    /// `stored` is empty): `(table id, part, data)`.
    pub fn merged(&self, stored: &Parts) -> Result<Vec<(i64, u8, Vec<u8>)>> {
        let mut parts: BTreeMap<(i64, u8), [Bucket; PER_PART]> = BTreeMap::new();
        for ((t, b), delta) in &self.0 {
            let key = (*t, b / PER_PART as u8);
            let part = match parts.entry(key) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => v.insert(match stored.get(&key) {
                    Some(blob) => decode(blob)?,
                    None => [Bucket::default(); PER_PART],
                }),
            };
            let slot = &mut part[*b as usize % PER_PART];
            *slot = slot.plus(*delta);
        }
        Ok(parts.into_iter().map(|((t, p), part)| (t, p, encode(&part))).collect())
    }

    /// Reads the parts the changes touch and writes them back changed, inside the caller's
    /// transaction (which holds the writer).
    pub async fn write(&self, tx: &mut SqliteConnection) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut stored = Parts::new();
        for (table, parts) in self.parts() {
            let list = parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
            // Integers of ours, never client text.
            let rows = sqlx::query(&format!("SELECT part, data FROM digests WHERE table_id = {table} AND part IN ({list})")).fetch_all(&mut *tx).await?;
            for row in rows {
                stored.insert((table, row.try_get::<i64, _>(0)? as u8), row.try_get(1)?);
            }
        }
        let merged = self.merged(&stored)?;
        let sql = write_sql(merged.len());
        let mut q = sqlx::query(&sql);
        for (t, p, data) in merged {
            q = q.bind(t).bind(p as i64).bind(data);
        }
        q.execute(&mut *tx).await?;
        Ok(())
    }
}

/// Stores `n` parts `(table_id, part, data)`.
pub(in crate::store) fn write_sql(n: usize) -> String {
    format!("INSERT OR REPLACE INTO digests (table_id, part, data) VALUES {}", vec!["(?, ?, ?)"; n].join(","))
}

/// The statement that reads a table's stored parts for a group commit's first round trip, as
/// rows `(-2 - index, part, NULL, data)` (`index` is the table's place in the group).
pub(in crate::store) fn parts_sql(index: usize, table_id: i64) -> String {
    format!("SELECT {}, part, NULL, data FROM digests WHERE table_id = {table_id};", -2 - index as i64)
}

/// A table's buckets as stored (every bucket, empty ones included), read on `conn` (inside the
/// caller's snapshot).
pub(in crate::store) async fn read(conn: &mut SqliteConnection, table_id: i64) -> Result<Vec<Bucket>> {
    let rows = sqlx::query("SELECT part, data FROM digests WHERE table_id = ?").bind(table_id).fetch_all(&mut *conn).await?;
    let mut buckets = vec![Bucket::default(); BUCKETS];
    for row in rows {
        let p: i64 = row.try_get(0)?;
        let at = usize::try_from(p).ok().filter(|p| *p < BUCKETS / PER_PART).ok_or_else(|| Error::Internal(format!("a stored digest names part {p}")))?;
        let part = decode(&row.try_get::<Vec<u8>, _>(1)?)?;
        buckets[at * PER_PART..(at + 1) * PER_PART].copy_from_slice(&part);
    }
    Ok(buckets)
}

/// The records of some buckets in key order, after `after` (exclusive), at most `limit`.
pub(in crate::store) async fn list(conn: &mut SqliteConnection, meta: &TableMeta, buckets: &[u8], after: Option<&Value>, limit: i64) -> Result<Vec<DigestRecord>> {
    let t = meta.physical();
    let (filter, mut params): (&str, Vec<Param>) = match after {
        Some(k) => (" AND pk > ?", vec![key_param(k)]),
        None => ("", Vec::new()),
    };
    params.push(Param::Int(limit));
    // Bucket numbers are ours (bytes), never client text.
    let list = buckets.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT pk, version, origin, bucket, doc FROM {t} WHERE bucket IN ({list}){filter} ORDER BY pk LIMIT ?");
    let rows = bind_all(sqlx::query(&sql), &params).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let (_, hash) = keyed_row_hash(r)?;
            Ok(DigestRecord { key: key_from_row(r, 0)?, version: r.try_get(1)?, origin: r.try_get(2)?, bucket: r.try_get::<i64, _>(3)? as u16, hash: hex(hash) })
        })
        .collect()
}

/// A digest sum as written on the wire: 32 hex digits.
pub fn hex(sum: u128) -> String {
    format!("{sum:032x}")
}

/// Records a bucket lists per page unless asked for fewer.
pub const LIST_LIMIT: u32 = 100_000;

impl Store {
    /// The table's digest and the watermark it reflects, read in one snapshot: what this node
    /// applied of each origin on the table's channel, and its own clock.
    pub async fn table_digest(&self, meta: &TableMeta) -> Result<TableDigest> {
        let mut tx = self.read_pool().begin().await?;
        let buckets = read(&mut tx, meta.id).await?;
        // Read once the snapshot is open: every write of this node in it is at or below it.
        let own = self.clock.last();
        let channel = meta.channel();
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT origin, MAX(last_id), MAX(last_version) FROM (SELECT origin, last_id, last_version FROM origin_positions WHERE channel = ?1 \
             UNION ALL SELECT origin, last_id, last_version FROM relay_positions WHERE channel = ?1) GROUP BY origin ORDER BY origin",
        )
        .bind(&channel)
        .fetch_all(&mut *tx)
        .await?;
        let own_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM txn_log WHERE channel = ? AND origin = ? AND origin_id IS NULL")
            .bind(&channel)
            .bind(&self.node_name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut watermark: Vec<OriginMark> = rows.into_iter().filter(|(o, _, _)| *o != self.node_name).map(|(origin, id, version)| OriginMark { origin, id, version }).collect();
        watermark.push(OriginMark { origin: self.node_name.clone(), id: own_id, version: own });
        watermark.sort_by(|a, b| a.origin.cmp(&b.origin));
        let total = buckets.iter().fold(Bucket::default(), |acc, b| Bucket { count: acc.count + b.count, sum: acc.sum.wrapping_add(b.sum) });
        Ok(TableDigest {
            node: self.node_name.clone(),
            database: meta.database.clone(),
            table: meta.name.clone(),
            count: total.count.max(0) as u64,
            digest: hex(total.sum),
            buckets: buckets.iter().map(|b| BucketDigest { count: b.count.max(0) as u64, digest: hex(b.sum) }).collect(),
            watermark,
        })
    }

    /// The records of some buckets (one pass over the table), in key order after `after`, at
    /// most `limit`.
    pub async fn digest_records(&self, meta: &TableMeta, buckets: &[u8], after: Option<&Value>, limit: u32) -> Result<DigestRecords> {
        let mut conn = self.read_pool().acquire().await?;
        let mut listed = list(&mut conn, meta, buckets, after, limit as i64 + 1).await?;
        let more = listed.len() > limit as usize;
        listed.truncate(limit as usize);
        Ok(DigestRecords {
            node: self.node_name.clone(),
            buckets: buckets.iter().map(|b| *b as u16).collect(),
            records: listed,
            more,
        })
    }
}

/// Gives every row of a table its bucket and rebuilds the table's digest from them
/// (tables made before digests). Runs inside the caller's transaction.
pub(in crate::store) async fn rebuild(tx: &mut SqliteConnection, meta: &TableMeta) -> Result<()> {
    let t = meta.physical();
    let rows = sqlx::query(&format!("SELECT pk, version, doc FROM {t}")).fetch_all(&mut *tx).await?;
    let update = format!("UPDATE {t} SET bucket = ? WHERE pk = ?");
    let mut changes = Changes::default();
    for row in &rows {
        let key = key_from_row(row, 0)?;
        let kt = key_text(&key);
        let version: i64 = row.try_get(1)?;
        let doc: String = row.try_get(2)?;
        let (bucket, hash) = (bucket_of(&kt), record_hash(&kt, version, &doc));
        changes.add(meta.id, bucket, hash);
        bind_all(sqlx::query(&update).bind(bucket as i64), &[key_param(&key)]).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM digests WHERE table_id = ?").bind(meta.id).execute(&mut *tx).await?;
    changes.write(tx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_add_to_what_is_stored_and_a_removal_takes_back_exactly_its_hash() {
        let hashes = [u128::MAX, 1, 0x1234_5678_9abc_def0_1122_3344_5566_7788, u128::MAX - 7];
        let mut c = Changes::default();
        for h in hashes {
            c.add(7, 33, h);
        }
        c.remove(7, 33, hashes[1]);
        c.add(7, 200, 5);
        let merged = c.merged(&Parts::new()).unwrap();
        assert_eq!(merged.iter().map(|(t, p, _)| (*t, *p)).collect::<Vec<_>>(), vec![(7, 2), (7, 12)]);
        let part = decode(&merged[0].2).unwrap();
        let want = hashes[0].wrapping_add(hashes[2]).wrapping_add(hashes[3]);
        assert_eq!(part[33 % PER_PART], Bucket { count: 3, sum: want });
        // Applied again on top of what was stored, then taken back: the part is as before.
        let stored: Parts = merged.into_iter().map(|(t, p, d)| ((t, p), d)).collect();
        let mut undo = Changes::default();
        undo.remove(7, 33, hashes[0]);
        undo.remove(7, 33, hashes[2]);
        undo.remove(7, 33, hashes[3]);
        let again = undo.merged(&stored).unwrap();
        assert_eq!(decode(&again[0].2).unwrap(), [Bucket::default(); PER_PART]);
        assert!(decode(&[0u8; 10]).is_err());
    }

    #[test]
    fn a_record_s_hash_changes_with_its_key_version_and_document() {
        let h = record_hash("1", 5, "{\"id\":1}");
        assert_ne!(h, record_hash("2", 5, "{\"id\":1}"));
        assert_ne!(h, record_hash("1", 6, "{\"id\":1}"));
        assert_ne!(h, record_hash("1", 5, "{\"id\":1,\"a\":2}"));
        // The key's length is hashed: a key cannot borrow the version's bytes.
        assert_ne!(record_hash("1", 5, "x"), record_hash("1\u{5}", 5, "x"));
    }

    #[test]
    fn keys_spread_evenly_over_the_buckets() {
        let mut counts = [0u32; BUCKETS];
        for i in 0..25_600 {
            counts[bucket_of(&i.to_string()) as usize] += 1;
        }
        // 100 expected per bucket: every bucket used, none far off.
        assert!(counts.iter().all(|c| (50..=160).contains(c)), "{counts:?}");
    }
}
