//! Property tests: random and malformed bodies never get a 5xx, never panic the server, and never
//! change stored data. Malformed bodies sent as a super user must get exactly 400.


use crate::common::TestNode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use switchyard_client::OpsClient;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[a-z_*%'\"\\\\ ]{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["dev", "seed", "id", "*", "data", "admin", "equals", "SELECT * FROM dev.seed"]).prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,10}", inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "database", "schema", "table", "records", "ids", "hash_values", "get_attributes", "search_attribute", "search_value",
    "conditions", "operator", "sort", "limit", "offset", "sql", "data", "action", "attribute", "primary_key", "username",
    "password", "role", "permission", "id", "attributes", "expiration", "level", "order", "start",
];

/// Valid requests on dev.seed; each named field is a string (s) or an array (a) that is required.
fn templates() -> Vec<(Value, Vec<(&'static str, char)>)> {
    vec![
        (json!({"operation": "insert", "database": "dev", "table": "seed", "records": [{"id": 100}]}), vec![("database", 's'), ("table", 's'), ("records", 'a')]),
        (json!({"operation": "upsert", "database": "dev", "table": "seed", "records": [{"id": 1, "v": 0}]}), vec![("table", 's'), ("records", 'a')]),
        (json!({"operation": "update", "database": "dev", "table": "seed", "records": [{"id": 1, "v": 0}]}), vec![("database", 's'), ("records", 'a')]),
        (json!({"operation": "delete", "database": "dev", "table": "seed", "ids": [1, 2]}), vec![("table", 's'), ("ids", 'a')]),
        (json!({"operation": "search_by_id", "database": "dev", "table": "seed", "ids": [1], "get_attributes": ["*"]}), vec![("ids", 'a'), ("get_attributes", 'a')]),
        (json!({"operation": "search_by_conditions", "database": "dev", "table": "seed", "conditions": [{"search_attribute": "id", "search_type": "equals", "search_value": 1}]}), vec![("conditions", 'a'), ("table", 's')]),
        (json!({"operation": "search_by_value", "database": "dev", "table": "seed", "search_attribute": "id", "search_value": "*"}), vec![("search_attribute", 's'), ("table", 's')]),
        (json!({"operation": "sql", "sql": "DELETE FROM dev.seed"}), vec![("sql", 's')]),
        (json!({"operation": "drop_table", "database": "dev", "table": "seed"}), vec![("table", 's'), ("database", 's')]),
        (json!({"operation": "drop_database", "database": "dev"}), vec![("database", 's')]),
        (json!({"operation": "drop_attribute", "database": "dev", "table": "seed", "attribute": "v"}), vec![("attribute", 's'), ("table", 's')]),
        (json!({"operation": "csv_data_load", "database": "dev", "table": "seed", "data": "id\n500\n"}), vec![("data", 's'), ("table", 's')]),
        (json!({"operation": "drop_user", "username": "fuzzer"}), vec![("username", 's')]),
        (json!({"operation": "alter_role", "id": "reader", "permission": {"super_user": true}}), vec![]),
    ]
}

fn wrong_type(kind: char) -> impl Strategy<Value = Value> {
    let s: BoxedStrategy<Value> = match kind {
        's' => prop_oneof![any::<i64>().prop_map(Value::from), Just(json!([])), Just(json!({"a": 1})), any::<bool>().prop_map(Value::Bool)].boxed(),
        _ => prop_oneof![any::<i64>().prop_map(Value::from), "[a-z]{0,5}".prop_map(Value::String), Just(json!({"a": 1})), any::<bool>().prop_map(Value::Bool)].boxed(),
    };
    s
}

/// A body that no server may accept: the tag says why.
fn malformed() -> impl Strategy<Value = (String, Vec<u8>)> {
    let t = templates();
    let n = t.len();
    let mutated = (0..n, any::<prop::sample::Index>(), any::<bool>(), any::<prop::sample::Index>()).prop_flat_map(move |(i, fi, drop, _)| {
        let (tpl, fields) = templates().swap_remove(i);
        let base = tpl.clone();
        if fields.is_empty() {
            // alter_role without 'permission' is refused.
            let mut b = base;
            b.as_object_mut().unwrap().remove("permission");
            return Just(("missing permission".to_string(), b.to_string().into_bytes())).boxed();
        }
        let (field, kind) = fields[fi.index(fields.len())];
        if drop && field != "database" {
            let mut b = base;
            b.as_object_mut().unwrap().remove(field);
            return Just((format!("missing {field}"), b.to_string().into_bytes())).boxed();
        }
        wrong_type(kind)
            .prop_map(move |v| {
                let mut b = base.clone();
                b[field] = v;
                (format!("wrong type for {field}"), b.to_string().into_bytes())
            })
            .boxed()
    });
    let truncated = (0..n, any::<prop::sample::Index>()).prop_map(|(i, cut)| {
        let text = templates().swap_remove(i).0.to_string();
        let at = 1 + cut.index(text.len() - 1);
        ("truncated".to_string(), text.as_bytes()[..at].to_vec())
    });
    let bytes = prop::collection::vec(any::<u8>(), 0..512).prop_filter("not JSON", |b| serde_json::from_slice::<Value>(b).is_err()).prop_map(|b| ("random bytes".to_string(), b));
    let not_object = arb_json().prop_filter("no operation", |v| v.get("operation").and_then(Value::as_str).is_none()).prop_map(|v| ("no operation".to_string(), v.to_string().into_bytes()));
    prop_oneof![4 => mutated, 2 => truncated, 1 => bytes, 1 => not_object]
}

fn soup() -> impl Strategy<Value = Value> {
    let ops = switchyard_node::ops::OPERATIONS.to_vec();
    (prop::sample::select(ops), prop::collection::vec((prop::sample::select(FIELDS.to_vec()), arb_json()), 0..6)).prop_map(|(op, fields)| {
        let mut m = Map::new();
        m.insert("operation".into(), Value::String(op.into()));
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        Value::Object(m)
    })
}

/// What must not change: every table's description and records, the users and the roles.
async fn snapshot(n: &TestNode) -> Value {
    let mut all = n.ok(json!({"operation": "describe_all"})).await;
    for db in all.as_object_mut().unwrap().values_mut() {
        for t in db.as_object_mut().unwrap().values_mut() {
            t.as_object_mut().unwrap().remove("db_size");
        }
    }
    json!({
        "schema": all,
        "seed": n.ok(json!({"operation": "sql", "sql": "SELECT * FROM dev.seed ORDER BY id"})).await,
        "users": n.ok(json!({"operation": "list_users"})).await,
        "roles": n.ok(json!({"operation": "list_roles"})).await,
    })
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

#[test]
fn malformed_bodies_get_400_and_change_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let n = TestNode::start().await;
        n.table("seed").await;
        n.ok(json!({"operation": "insert", "database": "dev", "table": "seed", "records": [{"id": 1, "v": 1}, {"id": 2, "v": 2}]})).await;
        n.ok(json!({"operation": "add_role", "role": "reader", "permission": {"dev": {"tables": {"seed": {"read": true}}}}})).await;
        n
    });
    let before = rt.block_on(snapshot(&n));
    let client: OpsClient = n.client.clone();
    runner(400)
        .run(&malformed(), |(why, body)| {
            let r = rt.block_on(client.send_bytes(body.clone(), "application/json")).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(r.status, 400, "{}: {} -> {}", why, String::from_utf8_lossy(&body), r.text);
            prop_assert!(r.body["error"].is_string(), "{}: no error text in {}", why, r.text);
            Ok(())
        })
        .unwrap();
    // Pathological nesting is refused, not a stack overflow.
    let deep = format!("{{\"operation\":\"insert\",\"records\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let r = rt.block_on(client.send_bytes(deep.into_bytes(), "application/json")).unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(rt.block_on(snapshot(&n)), before, "stored data changed");
}

#[test]
fn random_operations_never_get_a_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let n = TestNode::start().await;
        n.table("seed").await;
        n.ok(json!({"operation": "insert", "database": "dev", "table": "seed", "records": [{"id": 1, "v": 1, "o": {"x": [1]}}, {"id": "s", "v": "t"}]})).await;
        n.ok(json!({"operation": "add_role", "role": "reader", "permission": {"dev": {"tables": {"seed": {"read": true}}}}})).await;
        n.ok(json!({"operation": "add_user", "role": "reader", "username": "fuzzer", "password": "pw"})).await;
        n
    });
    let before = rt.block_on(snapshot(&n));
    let reader = n.as_user("fuzzer", "pw");
    let answered = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    runner(600)
        .run(&soup(), |op| {
            let r = rt.block_on(reader.send(&op)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(r.status < 500, "{} -> {} {}", op, r.status, r.text);
            prop_assert!(r.status == 200 || r.body["error"].is_string(), "{} -> {}", op, r.text);
            *answered.borrow_mut().entry(r.status).or_default() += 1;
            Ok(())
        })
        .unwrap();
    let answered = answered.into_inner();
    assert!(answered.len() >= 3, "the soup should reach several outcomes, got {answered:?}");
    assert_eq!(rt.block_on(snapshot(&n)), before, "a read-only user changed stored data");
}

/// A random SQL statement over dev.seed from fragments that stress SQLite's own checks:
/// functions with any argument count, huge and odd literals, LIMIT/OFFSET expressions,
/// ESCAPE strings, aggregates where they are not allowed.
fn arb_sql() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        Just("-9223372036854775807 - 1".to_string()),
        Just("9223372036854775808".to_string()),
        Just("1e308 * 10".to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        "'[a-z%_\\\\]{0,4}'".prop_map(|s| s),
        Just("NULL".to_string()),
        Just("v".to_string()),
        Just("id".to_string()),
        Just("missing".to_string()),
    ];
    let function = prop::sample::select(vec![
        "LOWER", "UPPER", "LENGTH", "ABS", "ROUND", "COALESCE", "IFNULL", "NULLIF", "TRIM", "SUBSTR", "INSTR", "REPLACE", "COUNT", "SUM", "AVG", "MIN", "MAX",
    ]);
    let expr = (function, prop::collection::vec(literal.clone(), 0..4), literal.clone(), prop::sample::select(vec!["+", "-", "*", "/", "%", "||", "=", "<"]))
        .prop_map(|(f, args, lit, op)| format!("{f}({}) {op} {lit}", args.join(", ")));
    let escape = "'[a-z%]{0,3}'";
    (expr.clone(), expr, literal.clone(), literal, escape, 0..6usize).prop_map(|(e1, e2, l1, l2, esc, shape)| match shape {
        0 => format!("SELECT {e1} FROM dev.seed WHERE {e2}"),
        1 => format!("SELECT * FROM dev.seed LIMIT {l1} OFFSET {l2}"),
        2 => format!("SELECT id FROM dev.seed WHERE v LIKE {l1} ESCAPE {esc}"),
        3 => format!("UPDATE dev.seed SET v = {e1} WHERE id = {l1}"),
        4 => format!("DELETE FROM dev.seed WHERE {e2} AND id = 'no such key'"),
        _ => format!("SELECT {e1} AS x FROM dev.seed GROUP BY {l1} HAVING {e2} ORDER BY x"),
    })
}

#[test]
fn random_sql_never_gets_a_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let n = TestNode::start().await;
        n.table("seed").await;
        n.ok(json!({"operation": "insert", "database": "dev", "table": "seed", "records": [{"id": 1, "v": 1}, {"id": "s", "v": "t"}, {"id": 2.5, "v": null}]})).await;
        n
    });
    let client: OpsClient = n.client.clone();
    runner(500)
        .run(&arb_sql(), |q| {
            let r = rt.block_on(client.send(&json!({"operation": "sql", "sql": q}))).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(r.status < 500, "{} -> {} {}", q, r.status, r.text);
            prop_assert!(r.status == 200 || r.body["error"].is_string(), "{} -> {}", q, r.text);
            Ok(())
        })
        .unwrap();
}

/// Any JSON number or string key is stored and found exactly, or refused with 400 at insert;
/// every attribute count up to well past one statement's bind limit is written.
#[test]
fn any_key_round_trips_or_is_refused_and_any_attribute_count_is_written() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rt.block_on(async {
        let n = TestNode::start().await;
        n.table("keys").await;
        n
    });
    let key = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        (any::<i32>(), 0..20i32).prop_map(|(m, e)| Value::from(m as f64 * 10f64.powi(e))),
        "[a-z0-9 .'\"]{0,8}".prop_map(Value::String),
    ];
    let client = n.client.clone();
    runner(300)
        .run(&key, |k| {
            let r = rt.block_on(client.send(&json!({"operation": "insert", "database": "dev", "table": "keys", "records": [{"id": k, "v": 1}]}))).unwrap();
            if r.status == 400 {
                prop_assert!(k.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() >= 9_223_372_036_854_775_808.0), "only integers beyond i64 are refused: {} -> {}", k, r.text);
                return Ok(());
            }
            prop_assert_eq!(r.status, 200, "{} -> {}", k, r.text);
            let stored = r.body["inserted_hashes"].get(0).or_else(|| r.body["skipped_hashes"].get(0)).cloned().unwrap();
            let found = rt.block_on(client.call(&json!({"operation": "search_by_id", "database": "dev", "table": "keys", "ids": [stored.clone()], "get_attributes": ["id"]}))).unwrap();
            prop_assert_eq!(found, json!([{"id": stored.clone()}]), "key {} stored as {}", k, stored);
            let del = rt.block_on(client.call(&json!({"operation": "delete", "database": "dev", "table": "keys", "ids": [stored.clone()]}))).unwrap();
            prop_assert_eq!(&del["deleted_hashes"], &json!([stored]), "{}", del);
            Ok(())
        })
        .unwrap();
    assert_eq!(rt.block_on(n.count("keys")), 0, "every key was found and deleted again");
    runner(6)
        .run(&(1usize..16_000), |count| {
            let table = format!("wide{count}");
            rt.block_on(n.table(&table));
            let mut rec = Map::new();
            rec.insert("id".into(), json!(1));
            for i in 0..count {
                rec.insert(format!("a{i}"), json!(i));
            }
            let r = rt.block_on(client.send(&json!({"operation": "insert", "database": "dev", "table": table, "records": [rec]}))).unwrap();
            prop_assert_eq!(r.status, 200, "{} attributes -> {}", count, r.text);
            Ok(())
        })
        .unwrap();
}
