//! Authentication and authorization: 401 for bad credentials (loopback is not trusted), 403 with
//! what was missing, users and roles, JWT operation and refresh tokens.


use crate::common::{TestNode, ADMIN, PASSWORD};
use serde_json::{json, Value};
use switchyard_client::{Credentials, Error, OpsClient};
use switchyard_protocol::ErrorCode;

async fn status(c: &OpsClient, op: Value) -> (u16, Value) {
    let r = c.send(&op).await.expect("transport");
    (r.status, r.body)
}

#[tokio::test]
async fn every_request_needs_valid_credentials_even_from_loopback() {
    let n = TestNode::start().await;
    let describe = json!({"operation": "describe_all"});
    assert_eq!(status(&n.anonymous(), describe.clone()).await.0, 401);
    assert_eq!(status(&n.as_user(ADMIN, "wrong"), describe.clone()).await, (401, json!({"error": "Login failed", "code": "unauthorized"})));
    assert_eq!(status(&n.as_user("nouser", "x"), describe.clone()).await, (401, json!({"error": "Login failed", "code": "unauthorized"})));
    let bearer = n.client.with_credentials(Credentials::Bearer("not.a.token".into()));
    assert_eq!(status(&bearer, describe.clone()).await, (401, json!({"error": "invalid token", "code": "unauthorized"})));
    let r = n.client.send_bytes(br#"{"operation":"describe_all"}"#.to_vec(), "application/json").await.unwrap();
    assert_eq!(r.status, 200);
    // The client maps the status to the code the studio branches on.
    let err = n.as_user(ADMIN, "wrong").call(&describe).await.unwrap_err();
    assert!(matches!(err, Error::Api { code: ErrorCode::Unauthorized, .. }), "{err:?}");
    // A failed login is in the node's log.
    let log = n.ok(json!({"operation": "read_log", "limit": 50})).await;
    assert!(log.as_array().unwrap().iter().any(|e| e["message"].as_str().unwrap_or("").contains("login failed for user 'nouser'")), "{log}");
}

#[tokio::test]
async fn roles_grant_per_table_permissions_and_403_names_what_is_missing() {
    let n = TestNode::start().await;
    n.table("breed").await;
    n.table("secret").await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "breed", "records": [{"id": 1, "name": "Beagle"}]})).await;
    let role = n.ok(json!({"operation": "add_role", "role": "reader", "permission": {"super_user": false,
        "dev": {"tables": {"breed": {"read": true, "insert": false, "update": true, "delete": false, "attribute_permissions": []}}}}})).await;
    assert_eq!(role["role"], "reader");
    assert_eq!(role["id"], "reader");
    assert_eq!(n.ok(json!({"operation": "add_user", "role": "reader", "username": "ann", "password": "pw123", "active": true})).await,
        json!({"message": "ann successfully added"}));
    let ann = n.as_user("ann", "pw123");

    let found = ann.call(&json!({"operation": "search_by_id", "database": "dev", "table": "breed", "ids": [1], "get_attributes": ["name"]})).await.unwrap();
    assert_eq!(found, json!([{"name": "Beagle"}]));
    let (s, body) = status(&ann, json!({"operation": "insert", "database": "dev", "table": "breed", "records": [{"id": 50}]})).await;
    assert_eq!(s, 403);
    assert_eq!(body, json!({
        "error": "This operation is not authorized due to role restrictions and/or invalid database items",
        "code": "forbidden",
        "unauthorized_access": [{"schema": "dev", "table": "breed", "required_table_permissions": ["insert"], "required_attribute_permissions": []}],
        "invalid_schema_items": []}));
    let (s, body) = status(&ann, json!({"operation": "upsert", "database": "dev", "table": "breed", "records": [{"id": 50}]})).await;
    assert_eq!((s, &body["unauthorized_access"][0]["required_table_permissions"]), (403, &json!(["insert"])));
    assert_eq!(status(&ann, json!({"operation": "sql", "sql": "DELETE FROM dev.breed"})).await.0, 403);
    assert_eq!(status(&ann, json!({"operation": "sql", "sql": "SELECT * FROM dev.secret"})).await.0, 403);
    assert_eq!(status(&ann, json!({"operation": "update", "database": "dev", "table": "breed", "records": [{"id": 1, "x": 1}]})).await.0, 200);
    let (s, body) = status(&ann, json!({"operation": "list_users"})).await;
    assert_eq!(s, 403);
    assert_eq!(body["unauthorized_access"], json!(["Operation 'list_users' is restricted to 'super_user' roles"]));
    assert_eq!(status(&ann, json!({"operation": "create_table", "database": "dev", "table": "x"})).await.0, 403);
    // describe_all shows only what the user may read.
    let all = ann.call(&json!({"operation": "describe_all"})).await.unwrap();
    assert_eq!(all.as_object().unwrap().keys().collect::<Vec<_>>(), ["dev"]);
    assert_eq!(all["dev"].as_object().unwrap().keys().collect::<Vec<_>>(), ["breed"]);
    let me = ann.call(&json!({"operation": "user_info"})).await.unwrap();
    assert_eq!(me["username"], "ann");
    assert_eq!(me["role"]["role"], "reader");
    assert_eq!(n.count("breed").await, 1, "nothing the user was refused was written");

    // Changing the role takes effect at once, without waiting for the credential cache.
    n.ok(json!({"operation": "alter_role", "id": "reader", "permission": {"dev": {"tables": {"breed": {"read": false}}}}})).await;
    assert_eq!(status(&ann, json!({"operation": "search_by_id", "database": "dev", "table": "breed", "ids": [1], "get_attributes": ["id"]})).await.0, 403);
}

#[tokio::test]
async fn users_and_roles_are_managed_with_clear_errors() {
    let n = TestNode::start().await;
    n.ok(json!({"operation": "add_role", "role": "r", "permission": {"super_user": false}})).await;
    n.ok(json!({"operation": "add_user", "role": "r", "username": "bob", "password": "pw1"})).await;
    assert_eq!(n.fails(json!({"operation": "add_user", "role": "r", "username": "bob", "password": "pw1"}), 409).await, "User bob already exists");
    assert_eq!(n.fails(json!({"operation": "add_user", "role": "no_such_role", "username": "r2", "password": "pw"}), 404).await, "no_such_role role not found");
    assert_eq!(n.fails(json!({"operation": "add_role", "role": "r", "permission": {}}), 409).await, "Role r already exists");
    assert!(n.fails(json!({"operation": "add_role", "role": "bad", "permission": {"dev": {"tables": {"t": {"read": "yes"}}}}}), 400).await.contains("not valid"));
    assert!(n.fails(json!({"operation": "drop_role", "id": "r"}), 400).await.contains("assigned to 1 user"));

    let bob = n.as_user("bob", "pw1");
    assert_eq!(status(&bob, json!({"operation": "user_info"})).await.0, 200);
    assert_eq!(n.ok(json!({"operation": "alter_user", "username": "bob", "password": "pw2"})).await,
        json!({"message": "updated 1 of 1 records", "update_hashes": ["bob"], "skipped_hashes": []}));
    assert_eq!(status(&bob, json!({"operation": "user_info"})).await.0, 401, "the old password stops working at once");
    assert_eq!(status(&n.as_user("bob", "pw2"), json!({"operation": "user_info"})).await.0, 200);
    n.ok(json!({"operation": "alter_user", "username": "bob", "active": false})).await;
    assert_eq!(status(&n.as_user("bob", "pw2"), json!({"operation": "user_info"})).await.0, 401, "inactive users cannot log in");

    let users = n.ok(json!({"operation": "list_users"})).await;
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "bob"]);
    assert!(!users.to_string().contains("argon2"), "password hashes are never listed");
    let roles = n.ok(json!({"operation": "list_roles"})).await;
    assert_eq!(roles.as_array().unwrap().len(), 3);

    n.ok(json!({"operation": "drop_user", "username": "bob"})).await;
    assert_eq!(n.fails(json!({"operation": "drop_user", "username": "bob"}), 404).await, "user 'bob' not found");
    assert!(n.fails(json!({"operation": "drop_user", "username": "admin"}), 400).await.contains("cannot drop itself"));
    n.ok(json!({"operation": "drop_role", "id": "r"})).await;
    assert!(n.fails(json!({"operation": "drop_role", "id": "super_user"}), 400).await.contains("built-in"));
}

#[tokio::test]
async fn operation_and_refresh_tokens() {
    let n = TestNode::start().await;
    let tokens = n.anonymous().call(&json!({"operation": "create_authentication_tokens", "username": ADMIN, "password": PASSWORD})).await.unwrap();
    let op_token = tokens["operation_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(op_token.split('.').count(), 3, "a JWT");
    // Basic auth with an empty body works too.
    let via_header = n.ok(json!({"operation": "create_authentication_tokens"})).await;
    assert!(via_header["operation_token"].is_string());
    let (s, body) = status(&n.anonymous(), json!({"operation": "create_authentication_tokens", "username": ADMIN, "password": "bad"})).await;
    assert_eq!((s, body), (401, json!({"error": "invalid credentials", "code": "unauthorized"})));

    let with_token = n.client.with_credentials(Credentials::Bearer(op_token.clone()));
    assert_eq!(with_token.call(&json!({"operation": "user_info"})).await.unwrap()["username"], ADMIN);
    let as_refresh = n.client.with_credentials(Credentials::Bearer(refresh.clone()));
    assert_eq!(status(&as_refresh, json!({"operation": "user_info"})).await, (401, json!({"error": "invalid token", "code": "unauthorized"})));
    let renewed = as_refresh.call(&json!({"operation": "refresh_operation_token"})).await.unwrap();
    let fresh = renewed["operation_token"].as_str().unwrap().to_string();
    let with_fresh = n.client.with_credentials(Credentials::Bearer(fresh));
    assert_eq!(status(&with_fresh, json!({"operation": "describe_all"})).await.0, 200);
    assert_eq!(status(&with_token, json!({"operation": "refresh_operation_token"})).await.0, 401, "an operation token cannot refresh");
    // A tampered token is refused.
    // Flip a character in the middle of the signature (the last one may carry only padding bits).
    let sig_start = op_token.rfind('.').unwrap() + 1;
    let mid = sig_start + (op_token.len() - sig_start) / 2;
    let mut bad = op_token.clone();
    let flipped = if &op_token[mid..mid + 1] == "A" { "B" } else { "A" };
    bad.replace_range(mid..mid + 1, flipped);
    let tampered = n.client.with_credentials(Credentials::Bearer(bad));
    assert_eq!(status(&tampered, json!({"operation": "user_info"})).await.0, 401);
    // login answers like HarperDB's.
    assert_eq!(n.anonymous().call(&json!({"operation": "login", "username": ADMIN, "password": PASSWORD})).await.unwrap(),
        json!({"message": "Login successful"}));
}
