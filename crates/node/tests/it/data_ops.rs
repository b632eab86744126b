//! insert, update, upsert, delete: reply shapes, keys, timestamps, all-or-nothing batches.


use crate::common::TestNode;
use serde_json::{json, Value};

#[tokio::test]
async fn insert_reports_inserted_and_skipped_keys_and_generates_uuids() {
    let n = TestNode::start().await;
    n.table("breed").await;
    let r = n.ok(json!({"operation": "insert", "database": "dev", "table": "breed",
        "records": [{"id": 1, "name": "Beagle"}, {"id": 2, "name": "Poodle"}, {"name": "NoId"}]})).await;
    assert_eq!(r["message"], "inserted 3 of 3 records");
    assert_eq!(r["skipped_hashes"], json!([]));
    let hashes = r["inserted_hashes"].as_array().unwrap();
    assert_eq!(&hashes[..2], &[json!(1), json!(2)]);
    // The generated key is a UUID and is reported, not null (HarperDB reports null).
    let generated = hashes[2].as_str().expect("generated key is a string");
    assert_eq!(generated.len(), 36, "{generated}");
    let found = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "breed", "ids": [generated], "get_attributes": ["name"]})).await;
    assert_eq!(found, json!([{"name": "NoId"}]));

    let dup = n.ok(json!({"operation": "insert", "database": "dev", "table": "breed", "records": [{"id": 1, "name": "Dup"}, {"id": 5}, {"id": 5}]})).await;
    assert_eq!(dup, json!({"message": "inserted 1 of 3 records", "inserted_hashes": [5], "skipped_hashes": [1, 5]}));
    let one = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "breed", "ids": [1], "get_attributes": ["name"]})).await;
    assert_eq!(one, json!([{"name": "Beagle"}]), "a skipped insert leaves the record alone");
    assert_eq!(n.count("breed").await, 4);
}

#[tokio::test]
async fn keys_may_be_strings_integers_or_floats_and_nothing_else() {
    let n = TestNode::start().await;
    n.table("k").await;
    let r = n.ok(json!({"operation": "insert", "database": "dev", "table": "k",
        "records": [{"id": "a"}, {"id": 7}, {"id": 2.5}, {"id": 3.0}, {"id": "7"}]})).await;
    assert_eq!(r["inserted_hashes"], json!(["a", 7, 2.5, 3, "7"]), "3.0 is the key 3; \"7\" is not 7");
    let again = n.ok(json!({"operation": "insert", "database": "dev", "table": "k", "records": [{"id": 3}]})).await;
    assert_eq!(again["skipped_hashes"], json!([3]));
    for bad in [json!(true), json!([1]), json!({"a": 1})] {
        let err = n.fails(json!({"operation": "insert", "database": "dev", "table": "k", "records": [{"id": 100}, {"id": bad}]}), 400).await;
        assert!(err.contains("primary key 'id' must be a string or a number"), "{err}");
    }
    assert_eq!(n.count("k").await, 5, "rejected batches wrote nothing, not even their valid records");
}

#[tokio::test]
async fn timestamps_are_set_by_the_server_and_kept_on_update() {
    let n = TestNode::start().await;
    n.table("t").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1, "a": 1, "__createdtime__": 5}]})).await;
    let before = n.all("t").await.remove(0);
    let created = before["__createdtime__"].as_f64().unwrap();
    assert!(created > 1.7e12, "epoch milliseconds, not the client's value: {before}");
    assert_eq!(before["__updatedtime__"], before["__createdtime__"]);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    n.ok(json!({"operation": "update", "database": "dev", "table": "t", "records": [{"id": 1, "b": 2}]})).await;
    let after = n.all("t").await.remove(0);
    assert_eq!(after["__createdtime__"].as_f64().unwrap(), created);
    assert!(after["__updatedtime__"].as_f64().unwrap() > created);
}

#[tokio::test]
async fn update_merges_upsert_inserts_or_merges() {
    let n = TestNode::start().await;
    n.table("b").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "b", "records": [{"id": 1, "name": "Beagle", "size": "M"}]})).await;
    let r = n.ok(json!({"operation": "update", "database": "dev", "table": "b", "records": [{"id": 1, "size": "L"}, {"id": 999, "name": "missing"}]})).await;
    assert_eq!(r, json!({"message": "updated 1 of 2 records", "update_hashes": [1], "skipped_hashes": [999]}));
    let r = n.ok(json!({"operation": "upsert", "database": "dev", "table": "b", "records": [{"id": 1, "tags": ["a"]}, {"id": 3, "name": "Husky"}]})).await;
    assert_eq!(r, json!({"message": "upserted 2 of 2 records", "upserted_hashes": [1, 3]}));
    let rows = n.all("b").await;
    let strip = |v: &Value| {
        let mut v = v.clone();
        let o = v.as_object_mut().unwrap();
        o.shift_remove("__createdtime__");
        o.shift_remove("__updatedtime__");
        v
    };
    assert_eq!(strip(&rows[0]), json!({"id": 1, "name": "Beagle", "size": "L", "tags": ["a"]}));
    assert_eq!(strip(&rows[1]), json!({"id": 3, "name": "Husky"}));
    assert_eq!(n.count("b").await, 2);
    // The same key twice in one batch merges twice.
    n.ok(json!({"operation": "upsert", "database": "dev", "table": "b", "records": [{"id": 9, "a": 1}, {"id": 9, "b": 2}]})).await;
    let nine = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "b", "ids": [9], "get_attributes": ["a", "b"]})).await;
    assert_eq!(nine, json!([{"a": 1, "b": 2}]));
    assert_eq!(n.count("b").await, 3);
    let err = n.fails(json!({"operation": "update", "database": "dev", "table": "b", "records": [{"name": "no key"}]}), 400).await;
    assert!(err.contains("no primary key 'id'"), "{err}");
}

#[tokio::test]
async fn delete_reports_what_existed_and_counts_stay_exact() {
    let n = TestNode::start().await;
    n.table("d").await;
    let records: Vec<Value> = (0..10).map(|i| json!({"id": i})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "d", "records": records})).await;
    let r = n.ok(json!({"operation": "delete", "database": "dev", "table": "d", "hash_values": [3, 404]})).await;
    assert_eq!(r, json!({"message": "1 of 2 records successfully deleted", "deleted_hashes": [3], "skipped_hashes": [404]}));
    let r = n.ok(json!({"operation": "delete", "database": "dev", "table": "d", "ids": [2]})).await;
    assert_eq!(r, json!({"message": "1 of 1 record successfully deleted", "deleted_hashes": [2], "skipped_hashes": []}));
    assert_eq!(n.count("d").await, 8);
    assert_eq!(n.all("d").await.len(), 8);
}

#[tokio::test]
async fn bad_writes_are_refused_with_reasons_and_change_nothing() {
    let n = TestNode::start().await;
    n.table("w").await;
    assert_eq!(n.fails(json!({"operation": "insert", "database": "dev", "table": "nope", "records": [{"id": 1}]}), 404).await,
        "Table 'dev.nope' does not exist");
    assert_eq!(n.fails(json!({"operation": "insert", "database": "dev", "table": "w"}), 400).await, "'records' is required");
    assert_eq!(n.fails(json!({"operation": "insert", "database": "dev", "table": "w", "records": []}), 400).await,
        "'records' must contain at least 1 item");
    assert_eq!(n.fails(json!({"operation": "insert", "database": "dev", "table": "w", "records": [{"id": 1}, 5]}), 400).await,
        "record 1 must be an object, got a number");
    assert!(n.fails(json!({"operation": "insert", "database": "dev", "table": "w", "records": {"id": 1}}), 400).await.contains("invalid type"));
    assert!(n.fails(json!({"operation": "delete", "database": "dev", "table": "w", "ids": [[1]]}), 400).await.contains("primary key"));
    assert_eq!(n.count("w").await, 0);
    assert!(n.all("w").await.is_empty());
}

#[tokio::test]
async fn large_batches_and_nested_values_round_trip() {
    let n = TestNode::start().await;
    n.table("big").await;
    let records: Vec<Value> = (0..5000)
        .map(|i| json!({"id": format!("k{i:05}"), "v": i, "obj": {"nested": {"deep": [i, "x"]}}, "flag": i % 2 == 0, "nul": null, "f": 1.25}))
        .collect();
    let r = n.ok(json!({"operation": "insert", "database": "dev", "table": "big", "records": records})).await;
    assert_eq!(r["message"], "inserted 5000 of 5000 records");
    assert_eq!(n.count("big").await, 5000);
    let one = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "big", "ids": ["k00042"], "get_attributes": ["v", "obj", "flag", "nul", "f"]})).await;
    assert_eq!(one, json!([{"v": 42, "obj": {"nested": {"deep": [42, "x"]}}, "flag": true, "nul": null, "f": 1.25}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits_and_each_batch_stands_alone() {
    let n = TestNode::start().await;
    n.table("burst").await;
    // 60 writers at once: 40 insert ten new keys each, 20 insert keys 0..10 again (all skipped).
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..60u64 {
        let client = n.client.clone();
        writers.spawn(async move {
            let first = if w < 40 { w * 10 } else { 0 };
            let records: Vec<Value> = (first..first + 10).map(|k| json!({"id": k, "writer": w})).collect();
            let answer = client.call(&json!({"operation": "insert", "database": "dev", "table": "burst", "records": records})).await;
            (w, answer.expect("insert"))
        });
    }
    let mut written = 0;
    let mut skipped = 0;
    while let Some(done) = writers.join_next().await {
        let (w, answer) = done.expect("writer task");
        let ins = answer["inserted_hashes"].as_array().expect("inserted_hashes").len();
        let skp = answer["skipped_hashes"].as_array().expect("skipped_hashes").len();
        assert_eq!(ins + skp, 10, "writer {w}: {answer}");
        written += ins;
        skipped += skp;
    }
    // Keys 0..10 were written by exactly one writer; every other batch with them was skipped whole.
    assert_eq!((written, skipped), (400, 200));
    assert_eq!(n.count("burst").await, 400);
    let all = n.all("burst").await;
    assert_eq!(all.len(), 400);
    let owner = all[0]["writer"].clone();
    assert!(all[..10].iter().all(|r| r["writer"] == owner), "keys 0..10 come from one batch: {:?}", &all[..10]);
    // A bad batch among concurrent good ones is refused alone.
    let bad = n.client.call(&json!({"operation": "insert", "database": "dev", "table": "burst", "records": [{"id": 9999}, 5]})).await;
    assert!(bad.is_err(), "{bad:?}");
    assert_eq!(n.count("burst").await, 400);
}

#[tokio::test]
async fn batches_in_one_group_see_each_others_writes_and_log_in_order() {
    let n = TestNode::start().await;
    n.table("merged").await;
    n.table("other").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "merged", "records": [{"id": 1, "base": true}]})).await;
    // 30 concurrent merges into one record (each its own attribute) and 30 concurrent upserts
    // of new keys: however they group, every merge must build on the ones before it.
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..80u64 {
        let client = n.client.clone();
        writers.spawn(async move {
            let op = if w >= 60 {
                // A second table in the same groups, each writer bringing a new attribute.
                json!({"operation": "insert", "database": "dev", "table": "other", "records": [{"id": w, format!("x{w}"): w}]})
            } else if w < 30 {
                json!({"operation": "update", "database": "dev", "table": "merged", "records": [{"id": 1, format!("a{w}"): w}]})
            } else {
                json!({"operation": "upsert", "database": "dev", "table": "merged", "records": [{"id": 100 + w, "w": w}, {"id": 100 + w, "again": true}]})
            };
            client.call(&op).await.expect("write")
        });
    }
    while let Some(done) = writers.join_next().await {
        let answer = done.expect("writer task");
        let written = answer["update_hashes"].as_array().or(answer["upserted_hashes"].as_array()).or(answer["inserted_hashes"].as_array()).map(Vec::len);
        assert!(written == Some(1) || written == Some(2), "{answer}");
    }
    let one = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "merged", "ids": [1], "get_attributes": ["*"]})).await;
    let doc = one[0].as_object().expect("record 1");
    assert_eq!(doc["base"], json!(true));
    for w in 0..30u64 {
        assert_eq!(doc.get(&format!("a{w}")), Some(&json!(w)), "merge {w} lost: {one}");
    }
    for w in 30..60u64 {
        let r = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "merged", "ids": [100 + w], "get_attributes": ["w", "again"]})).await;
        assert_eq!(r, json!([{"w": w, "again": true}]), "key {}", 100 + w);
    }
    assert_eq!(n.count("merged").await, 31);
    assert_eq!(n.count("other").await, 20);
    let described = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "other"})).await;
    let attrs: Vec<&str> = described["attributes"].as_array().expect("attributes").iter().filter_map(|a| a["attribute"].as_str()).collect();
    for w in 60..80u64 {
        assert!(attrs.contains(&format!("x{w}").as_str()), "attribute x{w} missing: {attrs:?}");
    }
    assert_eq!(attrs.len(), 20 + 3, "each attribute once, plus id and the two timestamps: {attrs:?}");
    // One log entry per write, ids consecutive after the first insert's.
    let store = &n.running.as_ref().expect("running").node.store;
    let page = store.log_after("dev:merged", 0, 1000, "nobody").await.expect("log");
    assert_eq!(page.entries.len(), 61);
    let ids: Vec<i64> = page.entries.iter().map(|e| serde_json::from_str::<Value>(e).expect("entry")["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|p| p[1] == p[0] + 1), "{ids:?}");
    // The last entry touching key 1 carries every merge made before it.
    let last_update = page.entries.iter().rev().map(|e| serde_json::from_str::<Value>(e).expect("entry")).find(|e| e["operation"] == "update").expect("an update entry");
    assert_eq!(last_update["records"][0].as_object().map(|d| d.keys().filter(|k| k.starts_with('a')).count()), Some(30), "{last_update}");
}
