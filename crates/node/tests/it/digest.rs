//! Table digests (issue 31, item 4): kept by every kind of write in its transaction, equal to
//! one built from scratch, equal on nodes that converged, and pointing at exactly the records
//! that differ when they did not.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use switchyard_protocol::ops::{DigestRecords, TableDigest};

use crate::common::{eventually_some, TestNode, ADMIN, PASSWORD};

async fn digest(n: &TestNode, table: &str) -> TableDigest {
    serde_json::from_value(n.ok(json!({"operation": "table_digest", "database": "dev", "table": table})).await).expect("a table digest")
}

/// Every record of a bucket, paging with `after` by `page` records.
async fn bucket(n: &TestNode, table: &str, b: usize, page: u32) -> BTreeMap<String, (i64, String)> {
    let mut all = BTreeMap::new();
    let mut after: Option<Value> = None;
    for _ in 0..10_000 {
        let mut op = json!({"operation": "table_digest_records", "database": "dev", "table": table, "buckets": [b], "limit": page});
        if let Some(a) = &after {
            op["after"] = a.clone();
        }
        let got: DigestRecords = serde_json::from_value(n.ok(op).await).expect("digest records");
        for r in &got.records {
            assert_eq!(r.bucket as usize, b, "a listed record is in the bucket asked for");
            all.insert(r.key.to_string(), (r.version, r.hash.clone()));
        }
        if !got.more {
            return all;
        }
        after = Some(got.records.last().expect("a page with more has records").key.clone());
    }
    panic!("bucket {b} never ended");
}

/// The buckets where two digests differ.
fn differing(a: &TableDigest, b: &TableDigest) -> Vec<usize> {
    assert_eq!((a.buckets.len(), b.buckets.len()), (TableDigest::BUCKETS, TableDigest::BUCKETS));
    (0..TableDigest::BUCKETS).filter(|i| a.buckets[*i] != b.buckets[*i]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_write_keeps_the_digest_equal_to_one_built_from_scratch() {
    let mut n = TestNode::start().await;
    n.table("d").await;
    let empty = digest(&n, "d").await;
    assert_eq!((empty.count, empty.digest.as_str(), empty.buckets.len()), (0, "0".repeat(32).as_str(), TableDigest::BUCKETS));
    let records: Vec<Value> = (0..300).map(|i| json!({"id": i, "name": format!("r{i}"), "extra": i % 7})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "d", "records": records})).await;
    let inserted = digest(&n, "d").await;
    assert_eq!(inserted.count, 300);
    assert!(inserted.buckets.iter().filter(|b| b.count > 0).count() > 150, "300 keys spread over the buckets (about 177 of 256 hold one)");
    n.ok(json!({"operation": "upsert", "database": "dev", "table": "d", "records": (280..330).map(|i| json!({"id": i, "name": "up"})).collect::<Vec<_>>()})).await;
    n.ok(json!({"operation": "update", "database": "dev", "table": "d", "records": (0..30).map(|i| json!({"id": i, "name": "changed"})).collect::<Vec<_>>()})).await;
    n.ok(json!({"operation": "delete", "database": "dev", "table": "d", "ids": (30..50).collect::<Vec<_>>()})).await;
    n.ok(json!({"operation": "sql", "sql": "UPDATE dev.d SET name = 'by sql' WHERE id >= 50 AND id < 60"})).await;
    n.ok(json!({"operation": "sql", "sql": "DELETE FROM dev.d WHERE id >= 60 AND id < 65"})).await;
    n.ok(json!({"operation": "drop_attribute", "database": "dev", "table": "d", "attribute": "extra"})).await;
    let before = digest(&n, "d").await;
    assert_eq!(before.count, n.count("d").await, "the digest counts what the table holds");
    assert_ne!(before.digest, inserted.digest);
    // Every bucket's records, listed, make up its count.
    let b0 = before.buckets.iter().position(|b| b.count > 1).expect("a bucket with two records");
    let listed = bucket(&n, "d", b0, 1).await;
    assert_eq!(listed.len() as u64, before.buckets[b0].count, "paging one by one lists the whole bucket");

    // The same table from scratch: the store rebuilds a digest for a table without one.
    let dir = n.dir.path().to_path_buf();
    let id: i64 = {
        let node = &n.running.as_ref().unwrap().node;
        node.store.table("dev", "d").unwrap().id
    };
    n.running.take().unwrap().stop().await;
    {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("switchyard.db")).connect().await.unwrap();
        for sql in [format!("ALTER TABLE r{id} DROP COLUMN bucket"), "DELETE FROM digests".to_string()] {
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
        }
    }
    n.restart().await;
    let rebuilt = digest(&n, "d").await;
    assert_eq!((rebuilt.count, &rebuilt.digest, &rebuilt.buckets), (before.count, &before.digest, &before.buckets), "incremental = from scratch");
    // Dropping the table drops its digest with it; a new table of the name starts empty.
    n.ok(json!({"operation": "drop_table", "database": "dev", "table": "d"})).await;
    n.table("d").await;
    assert_eq!(digest(&n, "d").await.count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_converged_have_equal_digests_and_a_difference_is_found_in_its_bucket() {
    let a = TestNode::launch("a").await;
    let b = TestNode::launch("b").await;
    a.table("t").await;
    b.table("t").await;
    let port = a.running.as_ref().unwrap().addr.port();
    b.ok(json!({"operation": "add_node", "name": "a", "host": "127.0.0.1", "port": port,
        "authorization": {"username": ADMIN, "password": PASSWORD},
        "subscriptions": [{"channel": "dev:t", "subscribe": true, "publish": true}]})).await;
    let records: Vec<Value> = (0..500).map(|i| json!({"id": i, "v": i * 3})).collect();
    a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": records})).await;
    b.ok(json!({"operation": "upsert", "database": "dev", "table": "t", "records": [{"id": 1000, "from": "b"}]})).await;
    let (da, db) = eventually_some("the digests of a and b meet at 501 records", async || {
        let (da, db) = (digest(&a, "t").await, digest(&b, "t").await);
        (da.digest == db.digest && da.count == 501).then_some((da, db))
    })
    .await;
    assert_eq!((da.buckets == db.buckets, db.count), (true, 501));
    // b's watermark says it holds a's writes up to a's own entry, and a's holds b's.
    let mark = |d: &TableDigest, origin: &str| d.watermark.iter().find(|m| m.origin == origin).cloned().unwrap_or_else(|| panic!("{origin} in {:?}", d.watermark));
    assert_eq!(mark(&db, "a").id, mark(&da, "a").id, "b applied a's log up to its head on the channel");
    assert!(mark(&db, "a").version <= mark(&da, "a").version && mark(&db, "a").version > 0);
    assert_eq!(mark(&da, "b").id, mark(&db, "b").id);

    // Apart again: a record changed on b only, one deleted on a only.
    b.ok(json!({"operation": "remove_node", "name": "a"})).await;
    b.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 7, "v": "b alone"}]})).await;
    a.ok(json!({"operation": "delete", "database": "dev", "table": "t", "ids": [8]})).await;
    let (da, db) = (digest(&a, "t").await, digest(&b, "t").await);
    let buckets = differing(&da, &db);
    assert!(!buckets.is_empty() && buckets.len() <= 2, "two records differ: buckets {buckets:?}");
    // Both buckets in one pass on each node.
    let list = json!({"operation": "table_digest_records", "database": "dev", "table": "t", "buckets": buckets});
    let (ra, rb): (DigestRecords, DigestRecords) = (serde_json::from_value(a.ok(list.clone()).await).unwrap(), serde_json::from_value(b.ok(list).await).unwrap());
    assert!(!ra.more && !rb.more);
    let by_key = |d: &DigestRecords| d.records.iter().map(|r| (r.key.to_string(), (r.version, r.hash.clone()))).collect::<BTreeMap<_, _>>();
    let (ka, kb) = (by_key(&ra), by_key(&rb));
    let mut differ: Vec<String> = ka.keys().chain(kb.keys()).filter(|k| ka.get(*k) != kb.get(*k)).cloned().collect();
    differ.sort();
    differ.dedup();
    assert_eq!(differ, vec!["7".to_string(), "8".to_string()], "exactly the records that differ");
}

#[tokio::test]
async fn digest_requests_are_checked_like_reads() {
    let n = TestNode::start().await;
    n.table("t").await;
    n.table("secret").await;
    n.ok(json!({"operation": "add_role", "role": "t_reader", "permission": {"super_user": false, "dev": {"tables": {"t": {"read": true, "insert": false, "update": false, "delete": false}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "t_reader", "username": "reader", "password": "pw-reader", "active": true})).await;
    let reader = n.as_user("reader", "pw-reader");
    let ok = reader.send(&json!({"operation": "table_digest", "database": "dev", "table": "t"})).await.unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text);
    let denied = reader.send(&json!({"operation": "table_digest", "database": "dev", "table": "secret"})).await.unwrap();
    assert_eq!(denied.status, 403, "{}", denied.text);
    let denied = reader.send(&json!({"operation": "table_digest_records", "database": "dev", "table": "secret", "buckets": [0]})).await.unwrap();
    assert_eq!(denied.status, 403, "{}", denied.text);
    n.fails(json!({"operation": "table_digest", "database": "dev", "table": "nope"}), 404).await;
    let e = n.fails(json!({"operation": "table_digest_records", "database": "dev", "table": "t", "buckets": [3, 256]}), 400).await;
    assert!(e.contains("'buckets' must be from 0 to 255"), "{e}");
    let e = n.fails(json!({"operation": "table_digest_records", "database": "dev", "table": "t", "buckets": []}), 400).await;
    assert!(e.contains("no bucket"), "{e}");
    let e = n.fails(json!({"operation": "table_digest_records", "database": "dev", "table": "t", "buckets": [1], "limit": 0}), 400).await;
    assert!(e.contains("'limit'"), "{e}");
    n.fails(json!({"operation": "table_digest_records", "database": "dev", "table": "t", "buckets": [1], "after": {"no": "object keys"}}), 400).await;
}

async fn states(n: &TestNode, table: &str, keys: Value) -> switchyard_protocol::ops::RecordStates {
    serde_json::from_value(n.ok(json!({"operation": "record_states", "database": "dev", "table": table, "keys": keys})).await).expect("record states")
}

/// Verify's read and Repair's write (issue 31, item 5): record_states tells a record, a
/// tombstone and nothing apart; repair_records sets the winner's exact version, so the digests
/// become equal, and leaves alone a key that moved since the repair was planned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_sets_the_winning_state_exactly_and_never_over_a_newer_write() {
    use switchyard_protocol::ops::{RecordMark, RecordRepair, RecordState, RepairReport};
    let (a, b) = (TestNode::start().await, TestNode::start().await);
    for n in [&a, &b] {
        n.table("t").await;
        n.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1, "v": "one"}, {"id": 2, "v": "two"}]})).await;
    }
    a.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 1, "v": "newer on a"}]})).await;
    a.ok(json!({"operation": "delete", "database": "dev", "table": "t", "ids": [2]})).await;
    a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 3, "v": "only a"}]})).await;
    let sa = states(&a, "t", json!([1, 2, 3, 4])).await;
    assert!(matches!(&sa.keys[0].state, RecordState::Live { record, .. } if record["v"] == "newer on a"), "{sa:?}");
    assert!(matches!(&sa.keys[1].state, RecordState::Deleted { version, .. } if *version > 0), "{sa:?}");
    assert!(matches!(&sa.keys[3].state, RecordState::Absent), "{sa:?}");
    let sb = states(&b, "t", json!([1, 2, 3])).await;
    let repairs: Vec<RecordRepair> = (0..3).map(|i| RecordRepair { key: sa.keys[i].key.clone(), expected: sb.keys[i].state.mark(), set: sa.keys[i].state.clone() }).collect();
    let op = json!({"operation": "repair_records", "database": "dev", "table": "t", "repairs": repairs});

    // Only a super user repairs; a reader may read states.
    b.ok(json!({"operation": "add_role", "role": "t_reader", "permission": {"super_user": false, "dev": {"tables": {"t": {"read": true, "insert": true, "update": true, "delete": true}}}}})).await;
    b.ok(json!({"operation": "add_user", "role": "t_reader", "username": "writer", "password": "pw-writer", "active": true})).await;
    let writer = b.as_user("writer", "pw-writer");
    assert_eq!(writer.send(&op).await.unwrap().status, 403);
    assert_eq!(writer.send(&json!({"operation": "record_states", "database": "dev", "table": "t", "keys": [1]})).await.unwrap().status, 200);

    // Key 2 moves on b after the plan: left alone and answered as changed.
    b.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 2, "v": "moved"}]})).await;
    let report: RepairReport = serde_json::from_value(b.ok(op.clone()).await).unwrap();
    assert_eq!((report.repaired, report.changed.clone()), (2, vec![json!(2)]), "{report:?}");
    let again = states(&b, "t", json!([1, 2, 3])).await;
    assert_eq!(again.keys[0].state, sa.keys[0].state, "the winner's version, origin, time and document exactly");
    assert_eq!(again.keys[2].state, sa.keys[2].state);
    assert!(matches!(&again.keys[1].state, RecordState::Live { record, .. } if record["v"] == "moved"), "the newer write stays");
    // Replanned from what b holds now, key 2 takes a's tombstone: the tables are equal.
    let fix = json!({"operation": "repair_records", "database": "dev", "table": "t", "repairs": [RecordRepair { key: json!(2), expected: again.keys[1].state.mark(), set: sa.keys[1].state.clone() }]});
    b.ok(fix).await;
    let (da, db) = (digest(&a, "t").await, digest(&b, "t").await);
    assert_eq!((da.count, &da.digest), (db.count, &db.digest), "equal digests after the repair");
    assert_eq!(states(&b, "t", json!([2])).await.keys[0].state, sa.keys[1].state);
    let described = b.ok(json!({"operation": "describe_table", "database": "dev", "table": "t"})).await;
    assert_eq!(described["record_count"], 2, "the count follows the repair");

    // Undo is a repair back: absent again, and the digest with it.
    let undo = json!({"operation": "repair_records", "database": "dev", "table": "t", "repairs": [RecordRepair { key: json!(3), expected: sa.keys[2].state.mark(), set: RecordState::Absent }]});
    b.ok(undo).await;
    assert_eq!(states(&b, "t", json!([3])).await.keys[0].state.mark(), RecordMark::Absent);
    assert_eq!(digest(&b, "t").await.count, 1);

    // A record whose key is not the key repaired, or too many keys, is refused whole.
    let wrong = json!({"operation": "repair_records", "database": "dev", "table": "t", "repairs": [{"key": 9, "expected": {"state": "absent"}, "set": {"state": "live", "version": 5, "origin": "x", "updated": 1.0, "record": {"id": 10}}}]});
    let e = b.fails(wrong, 400).await;
    assert!(e.contains("does not hold that key"), "{e}");
    let many: Vec<i64> = (0..1001).collect();
    let e = b.fails(json!({"operation": "record_states", "database": "dev", "table": "t", "keys": many}), 400).await;
    assert!(e.contains("at most 1000 keys"), "{e}");
    assert_eq!(states(&b, "t", json!([9])).await.keys[0].state, RecordState::Absent);
}
