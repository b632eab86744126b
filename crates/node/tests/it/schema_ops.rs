//! Databases, tables and attributes through the Operations API, against a real node.


use crate::common::TestNode;
use serde_json::json;

#[tokio::test]
async fn databases_are_created_described_and_dropped() {
    let n = TestNode::start().await;
    assert_eq!(n.ok(json!({"operation": "create_database", "database": "shop"})).await,
        json!({"message": "database 'shop' successfully created"}));
    assert_eq!(n.ok(json!({"operation": "create_schema", "schema": "legacy"})).await,
        json!({"message": "database 'legacy' successfully created"}));
    assert_eq!(n.fails(json!({"operation": "create_database", "database": "shop"}), 400).await,
        "database 'shop' already exists");
    assert_eq!(n.ok(json!({"operation": "describe_database", "database": "shop"})).await, json!({}));
    assert_eq!(n.fails(json!({"operation": "describe_database", "database": "nope_db"}), 404).await,
        "database 'nope_db' does not exist");
    n.ok(json!({"operation": "create_table", "database": "shop", "table": "item"})).await;
    n.ok(json!({"operation": "insert", "database": "shop", "table": "item", "records": [{"id": 1}]})).await;
    assert_eq!(n.ok(json!({"operation": "drop_database", "database": "shop"})).await,
        json!({"message": "successfully deleted 'shop'"}));
    assert_eq!(n.fails(json!({"operation": "drop_schema", "schema": "shop"}), 404).await,
        "database 'shop' does not exist");
    assert_eq!(n.fails(json!({"operation": "describe_table", "database": "shop", "table": "item"}), 404).await,
        "Table 'shop.item' does not exist");
    let all = n.ok(json!({"operation": "describe_all"})).await;
    assert!(all.get("shop").is_none() && all.get("legacy").is_some(), "{all}");
}

#[tokio::test]
async fn tables_have_keys_defaults_and_clear_errors() {
    let n = TestNode::start().await;
    assert_eq!(n.ok(json!({"operation": "create_table", "database": "dev", "table": "breed", "hash_attribute": "id"})).await,
        json!({"message": "table 'dev.breed' successfully created."}));
    assert_eq!(n.ok(json!({"operation": "create_table", "table": "nodb", "primary_key": "oid"})).await,
        json!({"message": "table 'data.nodb' successfully created."}));
    assert_eq!(n.fails(json!({"operation": "create_table", "database": "dev", "table": "breed"}), 400).await,
        "Table 'breed' already exists in 'dev'");
    assert_eq!(n.fails(json!({"operation": "create_table", "database": "dev"}), 400).await, "'table' is required");
    assert!(n.fails(json!({"operation": "create_table", "database": "dev", "table": ""}), 400).await.contains("must not be empty"));
    assert!(n.fails(json!({"operation": "create_table", "database": "dev", "table": "a.b"}), 400).await.contains("may not contain"));
    assert!(n.fails(json!({"operation": "create_table", "database": "dev", "table": 5}), 400).await.contains("invalid type"));

    let d = n.ok(json!({"operation": "describe_table", "database": "data", "table": "nodb"})).await;
    assert_eq!(d["hash_attribute"], "oid");
    assert_eq!(d["schema"], "data");
    assert_eq!(d["record_count"], 0);
    assert_eq!(d["attributes"], json!([
        {"attribute": "oid", "is_primary_key": true},
        {"attribute": "__createdtime__", "indexed": true},
        {"attribute": "__updatedtime__", "indexed": true}]));
    let d = n.ok(json!({"operation": "describe_table", "schema": "dev", "table": "breed"})).await;
    assert_eq!(d["name"], "breed");

    assert_eq!(n.ok(json!({"operation": "drop_table", "database": "dev", "table": "breed"})).await,
        json!({"message": "successfully deleted table 'dev.breed'"}));
    assert_eq!(n.fails(json!({"operation": "drop_table", "database": "dev", "table": "breed"}), 404).await,
        "Table 'dev.breed' does not exist");
    // The name is free again, and the new table starts empty.
    n.table("breed").await;
    assert_eq!(n.count("breed").await, 0);
}

#[tokio::test]
async fn attributes_appear_with_records_and_can_be_created_and_dropped() {
    let n = TestNode::start().await;
    n.table("dog").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "dog",
        "records": [{"id": 1, "name": "Penny", "meta": {"coat": "short"}}, {"id": 2, "age": 3}]})).await;
    let names = |d: &serde_json::Value| d["attributes"].as_array().unwrap().iter().map(|a| a["attribute"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let d = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "dog"})).await;
    assert_eq!(names(&d), ["id", "__createdtime__", "__updatedtime__", "name", "meta", "age"]);

    assert_eq!(n.ok(json!({"operation": "create_attribute", "database": "dev", "table": "dog", "attribute": "origin"})).await,
        json!({"message": "attribute 'dev.dog.origin' successfully created."}));
    assert_eq!(n.fails(json!({"operation": "create_attribute", "database": "dev", "table": "dog", "attribute": "origin"}), 400).await,
        "attribute 'origin' already exists in dev.dog");
    assert_eq!(n.ok(json!({"operation": "drop_attribute", "database": "dev", "table": "dog", "attribute": "name"})).await,
        json!({"message": "successfully deleted attribute 'name'"}));
    let d = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "dog"})).await;
    assert_eq!(names(&d), ["id", "__createdtime__", "__updatedtime__", "meta", "age", "origin"]);
    // The attribute is gone from the records too, and no deleted record comes back (HarperDB 5.4).
    let all = n.all("dog").await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.get("name").is_none()), "{all:?}");
    assert_eq!(d["record_count"], 2);
    assert_eq!(n.fails(json!({"operation": "drop_attribute", "database": "dev", "table": "dog", "attribute": "id"}), 400).await,
        "attribute 'id' cannot be dropped");
    assert_eq!(n.fails(json!({"operation": "drop_attribute", "database": "dev", "table": "dog", "attribute": "nope"}), 404).await,
        "attribute 'nope' does not exist in dev.dog");
}

#[tokio::test]
async fn schema_defined_tables_check_types_and_reject_whole_batches() {
    let n = TestNode::start().await;
    n.ok(json!({"operation": "create_table", "database": "dev", "table": "typed", "primary_key": "id",
        "attributes": [{"name": "id", "type": "ID"}, {"name": "name", "type": "String", "indexed": true}, {"name": "n", "type": "Int"}]})).await;
    let d = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "typed"})).await;
    assert_eq!(d["schema_defined"], true);
    assert_eq!(d["attributes"], json!([
        {"attribute": "id", "type": "ID", "is_primary_key": true},
        {"attribute": "name", "type": "String", "indexed": true},
        {"attribute": "n", "type": "Int"}]));
    let err = n.fails(json!({"operation": "insert", "database": "dev", "table": "typed",
        "records": [{"id": "a", "name": "ok", "n": 5}, {"id": "b", "name": "bad", "n": "notanint"}]}), 400).await;
    assert_eq!(err, "Value \"notanint\" in property n must be an integer (from -2147483648 to 2147483647)");
    assert_eq!(n.count("typed").await, 0, "a rejected batch writes nothing");
    n.ok(json!({"operation": "insert", "database": "dev", "table": "typed", "records": [{"id": "c", "name": "x", "n": 1, "extra": true}]})).await;
    assert_eq!(n.count("typed").await, 1);
}
