//! `switchyard` against real nodes on loopback: a three-node cluster's wiring exported (no
//! password in it), a link removed by hand planned back (exit 2, exactly that link), applied,
//! planned again (exit 0), and SQL and the instance list from the same registry file, each
//! password from the environment.

use std::process::{Command, Output};

use serde_json::json;
use switchyard_studio::links::{plan_link, Direction, LinkChannel, LinkRequest, Party};
use switchyard_testkit::{TestNode, ADMIN, PASSWORD};

fn party(n: &TestNode) -> Party {
    Party { id: format!("id-{}", n.name), name: n.name.clone(), node_name: n.name.clone(), url: n.url(), trust: Default::default(), server_kind: Some(switchyard_client::ServerKind::SwitchyardNode), client: n.client.clone() }
}

/// Runs `switchyard --registry FILE ARGS…` with every node's password in its variable.
fn switchyard(registry: &std::path::Path, nodes: &[&TestNode], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    c.arg("--registry").arg(registry).args(args);
    for n in nodes {
        c.env(format!("SWITCHYARD_PASSWORD_{}", n.name.to_uppercase()), PASSWORD);
    }
    c.output().expect("switchyard runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiring_is_exported_planned_with_exit_2_applied_and_then_in_step() {
    let (a, b, c) = (TestNode::launch("a").await, TestNode::launch("b").await, TestNode::launch("c").await);
    let nodes = [&a, &b, &c];
    for n in nodes {
        n.table("t").await;
    }
    for (from, to) in [(&a, &b), (&c, &b)] {
        let req = LinkRequest { a: format!("id-{}", from.name), b: format!("id-{}", to.name), channels: vec![LinkChannel { channel: "dev:t".into(), direction: Direction::AToB }], ..Default::default() };
        assert!(plan_link(&req, party(from), party(to)).await.unwrap().apply().await.ok);
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("instances.json");
    let specs: Vec<_> = nodes.iter().map(|n| json!({"id": format!("id-{}", n.name), "name": n.name, "url": n.url(), "username": ADMIN, "kind": "remote"})).collect();
    std::fs::write(&registry, json!({"instances": specs}).to_string()).unwrap();

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
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no instance named 'nowhere'"));
}
