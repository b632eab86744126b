//! `switchyard verify`: exit 0 and "in sync" for linked nodes that converged, exit 2 and the
//! differing key with each node's state for nodes that did not.

use serde_json::json;
use switchyard_testkit::TestNode;

use super::{link, registry, switchyard, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_exits_0_and_differences_exit_2_with_the_keys() {
    let (a, b) = (TestNode::launch("a").await, TestNode::launch("b").await);
    for n in [&a, &b] {
        n.table("t").await;
        n.table("u").await;
    }
    link(&a, &b, "dev:t").await;
    for id in 1..=20 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": id}]})).await;
    }
    switchyard_testkit::eventually("b has a's 20 records", async || b.count("t").await == 20).await;
    // dev:u is not linked: a record written on a alone differs for good.
    a.ok(json!({"operation": "insert", "database": "dev", "table": "u", "records": [{"id": 7, "only": "a"}]})).await;
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), &[&a, &b]);

    let same = switchyard(&reg, &[&a, &b], &["verify", "dev:t", "--nodes", "a,b"]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    assert!(text(&same).starts_with("dev:t\tin sync\t0 differing"), "{same:?}");
    let differ = switchyard(&reg, &[&a, &b], &["verify", "dev:t", "dev:u", "--nodes", "a,b"]);
    assert_eq!(differ.status.code(), Some(2), "{differ:?}");
    let out = text(&differ);
    assert!(out.contains("dev:u\tDIFFERS\t1 differing"), "{out}");
    assert!(out.contains("key 7") && out.contains("a: live") && out.contains("b: absent"), "{out}");
    let json = switchyard(&reg, &[&a, &b], &["--json", "verify", "dev:u", "--nodes", "a,b"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((report["verdict"].as_str(), report["channels"][0]["rows"][0]["key"].as_i64()), (Some("differs"), Some(7)), "{report}");
    let one = switchyard(&reg, &[&a, &b], &["verify", "dev:t", "--nodes", "a"]);
    assert_eq!(one.status.code(), Some(1), "{one:?}");
}
