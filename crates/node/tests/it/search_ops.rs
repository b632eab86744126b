//! search_by_id, search_by_value, search_by_conditions: matching, projection, sort, paging.


use crate::common::TestNode;
use serde_json::{json, Value};

async fn dogs() -> TestNode {
    let n = TestNode::start().await;
    n.table("dog").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "dog", "records": [
        {"id": 1, "name": "Penny", "age": 7, "size": "M"},
        {"id": 2, "name": "Harper", "age": 3, "size": "S"},
        {"id": 3, "name": "Poodle", "age": 5, "size": "L", "tags": ["snow"]},
        {"id": 4, "name": "Rex", "age": 11, "size": "L"},
        {"id": "x9", "name": "Stringy", "age": 1},
    ]})).await;
    n
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array().unwrap().iter().map(|r| r["id"].clone()).collect()
}

async fn cond(n: &TestNode, conditions: Value, extra: Value) -> Value {
    let mut op = json!({"operation": "search_by_conditions", "database": "dev", "table": "dog", "get_attributes": ["id"], "conditions": conditions});
    for (k, v) in extra.as_object().unwrap() {
        op[k] = v.clone();
    }
    n.ok(op).await
}

#[tokio::test]
async fn search_by_id_projects_and_skips_missing() {
    let n = dogs().await;
    let r = n.ok(json!({"operation": "search_by_hash", "database": "dev", "table": "dog", "hash_values": [1, 404, "x9"], "get_attributes": ["id", "name", "tags"]})).await;
    assert_eq!(r, json!([{"id": 1, "name": "Penny", "tags": null}, {"id": "x9", "name": "Stringy", "tags": null}]));
    let r = n.ok(json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [3], "get_attributes": ["*"]})).await;
    let keys: Vec<&str> = r[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "__createdtime__", "__updatedtime__", "name", "age", "size", "tags"]);
    assert_eq!(n.fails(json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [1]}), 400).await, "'get_attributes' is required");
    assert_eq!(n.fails(json!({"operation": "search_by_hash", "database": "dev", "table": "dog", "get_attributes": ["*"]}), 400).await, "'ids' is required");
}

#[tokio::test]
async fn search_by_value_supports_wildcards_and_paging() {
    let n = dogs().await;
    let by = |v: Value| json!({"operation": "search_by_value", "database": "dev", "table": "dog", "search_attribute": "name", "search_value": v, "get_attributes": ["id"]});
    assert_eq!(ids(&n.ok(by(json!("P*"))).await), [json!(1), json!(3)]);
    assert_eq!(ids(&n.ok(by(json!("*er"))).await), [json!(2)]);
    assert_eq!(ids(&n.ok(by(json!("*oo*"))).await), [json!(3)]);
    assert_eq!(ids(&n.ok(by(json!("Rex"))).await), [json!(4)]);
    assert_eq!(ids(&n.ok(by(json!("*"))).await).len(), 5);
    let age = n.ok(json!({"operation": "search_by_value", "database": "dev", "table": "dog", "search_attribute": "age", "search_value": 5, "get_attributes": ["id"]})).await;
    assert_eq!(ids(&age), [json!(3)]);
    let page = n.ok(json!({"operation": "search_by_value", "database": "dev", "table": "dog", "search_attribute": "id", "search_value": "*", "get_attributes": ["id"], "limit": 2, "offset": 1})).await;
    assert_eq!(ids(&page), [json!(2), json!(3)]);
    // Without get_attributes, the stored properties only.
    let raw = n.ok(json!({"operation": "search_by_value", "database": "dev", "table": "dog", "search_attribute": "id", "search_value": 2})).await;
    assert!(raw[0].get("tags").is_none() && raw[0]["name"] == "Harper", "{raw}");
    assert_eq!(n.fails(json!({"operation": "search_by_value", "database": "dev", "table": "dog", "search_attribute": "nope", "search_value": 1}), 400).await,
        "unknown attribute 'nope'");
}

#[tokio::test]
async fn search_by_conditions_compares_nests_and_sorts() {
    let n = dogs().await;
    let c = |a: &str, t: &str, v: Value| json!({"search_attribute": a, "search_type": t, "search_value": v});
    assert_eq!(ids(&cond(&n, json!([c("age", "greater_than", json!(5))]), json!({})).await), [json!(1), json!(4)]);
    assert_eq!(ids(&cond(&n, json!([c("age", "greater_than_equal", json!(5))]), json!({})).await), [json!(1), json!(3), json!(4)]);
    assert_eq!(ids(&cond(&n, json!([c("age", "less_than", json!(3))]), json!({})).await), [json!("x9")]);
    assert_eq!(ids(&cond(&n, json!([c("age", "less_than_equal", json!(3))]), json!({})).await), [json!(2), json!("x9")]);
    assert_eq!(ids(&cond(&n, json!([c("age", "between", json!([3, 7]))]), json!({})).await), [json!(1), json!(2), json!(3)]);
    assert_eq!(ids(&cond(&n, json!([c("name", "contains", json!("ar"))]), json!({})).await), [json!(2)]);
    assert_eq!(ids(&cond(&n, json!([c("name", "starts_with", json!("Po"))]), json!({})).await), [json!(3)]);
    assert_eq!(ids(&cond(&n, json!([c("name", "ends_with", json!("ny"))]), json!({})).await), [json!(1)]);
    assert_eq!(ids(&cond(&n, json!([c("size", "equals", json!("L"))]), json!({})).await), [json!(3), json!(4)]);
    assert_eq!(ids(&cond(&n, json!([c("size", "equals", json!(null))]), json!({})).await), [json!("x9")]);
    assert_eq!(ids(&cond(&n, json!([c("size", "not_equal", json!("L"))]), json!({})).await), [json!(1), json!(2), json!("x9")]);
    // or at the top, and a nested and/or group.
    let or = cond(&n, json!([c("size", "equals", json!("S")), c("name", "starts_with", json!("Pen"))]), json!({"operator": "or"})).await;
    assert_eq!(ids(&or), [json!(1), json!(2)]);
    let nested = cond(&n, json!([c("age", "greater_than", json!(2)),
        {"operator": "or", "conditions": [c("size", "equals", json!("S")), c("size", "equals", json!("M"))]}]), json!({})).await;
    assert_eq!(ids(&nested), [json!(1), json!(2)]);
    // Sort descending with a secondary key, then limit and offset.
    let sorted = cond(&n, json!([c("age", "greater_than", json!(0))]),
        json!({"sort": {"attribute": "size", "descending": true, "next": {"attribute": "age", "descending": true}}})).await;
    assert_eq!(ids(&sorted), [json!(2), json!(1), json!(4), json!(3), json!("x9")]);
    let paged = cond(&n, json!([c("age", "greater_than", json!(0))]), json!({"sort": {"attribute": "age"}, "limit": 2, "offset": 1})).await;
    assert_eq!(ids(&paged), [json!(2), json!(3)]);
}

#[tokio::test]
async fn range_conditions_do_not_mix_numbers_and_strings() {
    let n = dogs().await;
    let c = |t: &str, v: Value| json!([{"search_attribute": "id", "search_type": t, "search_value": v}]);
    // SQLite ranks every string above every number; the string key "x9" must not match id > 2.
    assert_eq!(ids(&cond(&n, c("greater_than", json!(2)), json!({})).await), [json!(3), json!(4)]);
    assert_eq!(ids(&cond(&n, c("greater_than_equal", json!("a")), json!({})).await), [json!("x9")]);
    assert_eq!(ids(&cond(&n, c("less_than", json!("z")), json!({})).await), [json!("x9")]);
}

#[tokio::test]
async fn keyset_paging_walks_a_table_in_key_order() {
    let n = TestNode::start().await;
    n.table("p").await;
    let records: Vec<Value> = (0..1000).rev().map(|i| json!({"id": i, "v": i * 2})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "p", "records": records})).await;
    let mut seen = Vec::new();
    let mut last: Option<Value> = None;
    for _ in 0..20 {
        let conditions = match &last {
            Some(k) => json!([{"search_attribute": "id", "search_type": "greater_than", "search_value": k}]),
            None => json!([{"search_attribute": "id", "search_type": "greater_than_equal", "search_value": 0}]),
        };
        let page = n.ok(json!({"operation": "search_by_conditions", "database": "dev", "table": "p", "get_attributes": ["id"],
            "sort": {"attribute": "id"}, "limit": 100, "conditions": conditions})).await;
        let page = ids(&page);
        if page.is_empty() {
            break;
        }
        last = page.last().cloned();
        seen.extend(page);
    }
    assert_eq!(seen, (0..1000).map(|i| json!(i)).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_searches_get_400_with_the_reason() {
    let n = dogs().await;
    let op = |conditions: Value| json!({"operation": "search_by_conditions", "database": "dev", "table": "dog", "conditions": conditions});
    assert_eq!(n.fails(op(json!([{"search_attribute": "size", "search_type": "bogus", "search_value": "x"}])), 400).await,
        "Unknown query comparator \"bogus\"");
    assert_eq!(n.fails(op(json!([{"search_attribute": "nonexistent_attr", "search_type": "equals", "search_value": 1}])), 400).await,
        "unknown attribute 'nonexistent_attr'");
    assert_eq!(n.fails(op(json!([])), 400).await, "'conditions' must contain at least 1 items");
    assert!(n.fails(op(json!([{"nope": 1}])), 400).await.contains("each condition needs"));
    assert!(n.fails(op(json!([{"search_attribute": "age", "search_type": "between", "search_value": 3}])), 400).await.contains("array of two"));
    assert!(n.fails(op(json!([{"search_attribute": "age", "search_type": "equals", "search_value": {"a": 1}}])), 400).await.contains("must be a string"));
    assert_eq!(n.fails(json!({"operation": "search_by_conditions", "database": "dev", "table": "missing", "conditions": []}), 404).await,
        "Table 'dev.missing' does not exist");
}
