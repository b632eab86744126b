//! The sql operation: SELECT with WHERE/ORDER BY/LIMIT/OFFSET/aggregates/GROUP BY, and DML.


use crate::common::TestNode;
use serde_json::{json, Value};

async fn breeds() -> TestNode {
    let n = TestNode::start().await;
    n.table("breed").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "breed", "records": [
        {"id": 1, "name": "Beagle", "size": "L", "weight": 10, "meta": {"coat": "short"}, "alive": true},
        {"id": 2, "name": "Poodle", "size": "XS", "weight": 4},
        {"id": 3, "name": "Husky", "size": "L", "weight": 25.5},
        {"id": 4, "name": "noid", "weight": 1},
    ]})).await;
    n
}

async fn sql(n: &TestNode, q: &str) -> Value {
    n.ok(json!({"operation": "sql", "sql": q})).await
}

#[tokio::test]
async fn select_star_fills_every_attribute_in_order() {
    let n = breeds().await;
    let r = sql(&n, "SELECT * FROM dev.breed ORDER BY id LIMIT 2 OFFSET 1").await;
    let rows = r.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], 2);
    let keys: Vec<&str> = rows[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "__createdtime__", "__updatedtime__", "name", "size", "weight", "meta", "alive"]);
    assert_eq!(rows[0]["meta"], Value::Null);
    let r = sql(&n, "SELECT id, meta, alive FROM `dev`.`breed` WHERE id = 1").await;
    assert_eq!(r, json!([{"id": 1, "meta": {"coat": "short"}, "alive": true}]), "objects and booleans keep their JSON type");
}

#[tokio::test]
async fn where_order_limit_and_aliases() {
    let n = breeds().await;
    assert_eq!(sql(&n, "SELECT name FROM dev.breed WHERE weight > 4 AND size = 'L' ORDER BY weight DESC").await,
        json!([{"name": "Husky"}, {"name": "Beagle"}]));
    assert_eq!(sql(&n, "SELECT b.name AS n FROM dev.breed AS b WHERE b.name LIKE 'p%' OR b.id IN (3) ORDER BY n").await,
        json!([{"n": "Husky"}, {"n": "Poodle"}]));
    assert_eq!(sql(&n, "SELECT id FROM dev.breed WHERE size IS NULL").await, json!([{"id": 4}]));
    assert_eq!(sql(&n, "SELECT id FROM dev.breed WHERE weight BETWEEN 4 AND 10 ORDER BY id").await, json!([{"id": 1}, {"id": 2}]));
    assert_eq!(sql(&n, "SELECT id, weight * 2 AS w2, UPPER(name) AS up FROM dev.breed WHERE id = 2").await,
        json!([{"id": 2, "w2": 8, "up": "POODLE"}]));
}

#[tokio::test]
async fn aggregates_and_group_by() {
    let n = breeds().await;
    assert_eq!(sql(&n, "SELECT COUNT(*) AS cnt FROM dev.breed").await, json!([{"cnt": 4}]));
    assert_eq!(sql(&n, "SELECT COUNT(*) FROM dev.breed WHERE size = 'L'").await, json!([{"COUNT(*)": 2}]));
    assert_eq!(sql(&n, "SELECT MIN(weight) AS lo, MAX(weight) AS hi, SUM(weight) AS s, COUNT(DISTINCT size) AS d FROM dev.breed").await,
        json!([{"lo": 1, "hi": 25.5, "s": 40.5, "d": 2}]));
    let groups = sql(&n, "SELECT size, COUNT(*) AS c FROM dev.breed GROUP BY size ORDER BY c DESC, size").await;
    assert_eq!(groups, json!([{"size": "L", "c": 2}, {"size": null, "c": 1}, {"size": "XS", "c": 1}]));
    assert_eq!(sql(&n, "SELECT size, AVG(weight) AS a FROM dev.breed GROUP BY size HAVING COUNT(*) > 1").await,
        json!([{"size": "L", "a": 17.75}]));
}

#[tokio::test]
async fn insert_update_delete_use_the_nosql_reply_shapes() {
    let n = breeds().await;
    assert_eq!(sql(&n, "INSERT INTO dev.breed (id, name, weight) VALUES (10, 'Pug', -2.5), (11, 'Rex', NULL)").await,
        json!({"message": "inserted 2 of 2 records", "inserted_hashes": [10, 11], "skipped_hashes": []}));
    assert_eq!(sql(&n, "UPDATE dev.breed SET weight = weight + 1, size = 'M' WHERE id = 10").await,
        json!({"message": "updated 1 of 1 records", "update_hashes": [10], "skipped_hashes": []}));
    assert_eq!(sql(&n, "SELECT weight, size FROM dev.breed WHERE id = 10").await, json!([{"weight": -1.5, "size": "M"}]));
    assert_eq!(sql(&n, "DELETE FROM dev.breed WHERE id >= 10").await,
        json!({"message": "2 of 2 records successfully deleted", "deleted_hashes": [10, 11], "skipped_hashes": []}));
    assert_eq!(sql(&n, "UPDATE dev.breed SET size = 'Q' WHERE id = 999").await,
        json!({"message": "updated 0 of 0 records", "update_hashes": [], "skipped_hashes": []}));
    assert_eq!(n.count("breed").await, 4);
}

#[tokio::test]
async fn string_keys_are_not_caught_by_numeric_ranges() {
    let n = breeds().await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "breed", "records": [{"id": "s1", "name": "Str"}]})).await;
    let r = sql(&n, "DELETE FROM dev.breed WHERE id >= 3").await;
    assert_eq!(r["deleted_hashes"], json!([3, 4]), "{r}");
    assert_eq!(sql(&n, "SELECT name FROM dev.breed WHERE id = 's1'").await, json!([{"name": "Str"}]));
}

#[tokio::test]
async fn bad_sql_gets_a_clear_400_or_404() {
    let n = breeds().await;
    let fails = |q: &str, status: u16| {
        let op = json!({"operation": "sql", "sql": q});
        let n = &n;
        async move { n.fails(op, status).await }
    };
    assert!(fails("SELEC * FROM x", 400).await.starts_with("Invalid SQL at: SELEC * FROM x."));
    assert_eq!(fails("SELECT * FROM dev.nope", 404).await, "Table 'dev.nope' does not exist");
    assert_eq!(fails("SELECT * FROM breed", 404).await, "Table 'data.breed' does not exist");
    assert!(fails("SELECT * FROM dev.breed a JOIN dev.breed b ON a.id = b.id", 400).await.contains("joins"));
    assert!(fails("DROP TABLE dev.breed", 400).await.contains("only SELECT, INSERT, UPDATE and DELETE"));
    assert!(fails("SELECT 1; SELECT 2", 400).await.contains("exactly one"));
    assert!(fails("SELECT load_extension('x') FROM dev.breed", 400).await.contains("function"));
    assert!(fails("SELECT * FROM dev.breed WHERE id = (SELECT 1)", 400).await.contains("unsupported"));
    assert!(fails("SELECT other.id FROM dev.breed", 400).await.contains("unknown column other.id"));
    assert!(fails("UPDATE dev.breed SET id = 5", 400).await.contains("cannot be changed"));
    assert!(fails("INSERT INTO dev.breed (id) VALUES (UPPER('a'))", 400).await.contains("constants"));
    assert!(fails("SELECT COUNT(*), * FROM dev.breed", 400).await.contains("cannot be combined"));
    assert_eq!(n.count("breed").await, 4);
}
