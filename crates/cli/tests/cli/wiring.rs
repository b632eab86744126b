//! `switchyard wiring`: a three-node cluster's wiring exported (no password in it), a link
//! removed by hand planned back (exit 2, exactly that link), applied, planned again (exit 0); a
//! saved plan refused once the cluster changed; SQL from the same registry file.

use serde_json::json;
use switchyard_testkit::{TestNode, PASSWORD};

use super::{errors, link, registry, switchyard, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiring_is_exported_planned_with_exit_2_applied_and_then_in_step() {
    let (a, b, c) = (TestNode::launch("a").await, TestNode::launch("b").await, TestNode::launch("c").await);
    let nodes = [&a, &b, &c];
    for n in nodes {
        n.table("t").await;
    }
    for (from, to) in [(&a, &b), (&c, &b)] {
        link(from, to, "dev:t").await;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(dir.path(), &nodes);

    let listed = switchyard(&registry, &nodes, &["instances", "list", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().map(|l| l.iter().filter(|i| i["online"] == true).count()), Some(3), "{listed}");

    let export = switchyard(&registry, &nodes, &["wiring", "export"]);
    assert!(export.status.success(), "{export:?}");
    let file = text(&export);
    assert!(file.contains("dialer = \"a\"") && file.contains("dialer = \"c\"") && !file.contains(PASSWORD) && !file.contains("password ="), "{file}");
    let path = dir.path().join("cluster.toml");
    std::fs::write(&path, &file).unwrap();
    let path = path.to_str().unwrap();
    let plan = switchyard(&registry, &nodes, &["wiring", "plan", path]);
    assert_eq!((plan.status.code(), text(&plan)), (Some(0), String::new()), "an unchanged cluster plans nothing");

    // c's link removed by hand: the plan is exactly that link, and says so with exit 2.
    c.ok(json!({"operation": "remove_node", "name": "b"})).await;
    let plan = switchyard(&registry, &nodes, &["wiring", "plan", path]);
    assert_eq!(plan.status.code(), Some(2), "{plan:?}");
    assert_eq!(text(&plan), "+ c → b: dev:t (push)\n");
    let applied = switchyard(&registry, &nodes, &["wiring", "apply", path]);
    assert!(applied.status.success(), "{applied:?}");
    assert_eq!(switchyard(&registry, &nodes, &["wiring", "plan", path]).status.code(), Some(0), "applied twice is nothing more to do");
    c.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1}]})).await;
    switchyard_testkit::eventually("c's writes reach b again", async || b.count("t").await == 1).await;

    let sql = switchyard(&registry, &nodes, &["sql", "--node", "b", "SELECT id FROM dev.t"]);
    assert_eq!((sql.status.code(), text(&sql)), (Some(0), "{\"id\":1}\n".to_string()), "{sql:?}");
    let missing = switchyard(&registry, &nodes, &["sql", "--node", "nowhere", "SELECT 1"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(errors(&missing).contains("no instance named 'nowhere'"), "{missing:?}");

    // A plan saved for review, then the cluster changes: applying the saved plan is refused and
    // changes nothing; planned again, it applies.
    a.ok(json!({"operation": "remove_node", "name": "b"})).await;
    let saved = dir.path().join("plan.json");
    let plan = switchyard(&registry, &nodes, &["wiring", "plan", path, "--out", saved.to_str().unwrap()]);
    assert_eq!((plan.status.code(), text(&plan)), (Some(2), "+ a → b: dev:t (push)\n".to_string()), "{plan:?}");
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(!saved_text.contains(PASSWORD) && saved_text.contains("a → b"), "{saved_text}");
    c.ok(json!({"operation": "remove_node", "name": "b"})).await;
    let stale = switchyard(&registry, &nodes, &["wiring", "apply", "--plan", saved.to_str().unwrap()]);
    assert_eq!(stale.status.code(), Some(1), "{stale:?}");
    assert!(errors(&stale).contains("changed since this plan was made"), "{stale:?}");
    assert_eq!(switchyard(&registry, &nodes, &["wiring", "plan", path]).status.code(), Some(2), "the refused plan changed nothing");
    let fresh = switchyard(&registry, &nodes, &["wiring", "plan", path, "--out", saved.to_str().unwrap()]);
    assert_eq!(text(&fresh).lines().count(), 2, "{fresh:?}");
    let applied = switchyard(&registry, &nodes, &["wiring", "apply", "--plan", saved.to_str().unwrap()]);
    assert!(applied.status.success(), "{applied:?}");
    assert_eq!(text(&applied).lines().filter(|l| l.starts_with("applied + ")).count(), 2, "{applied:?}");
    assert_eq!(switchyard(&registry, &nodes, &["wiring", "plan", path]).status.code(), Some(0));
}
