//! Wiring as code against real nodes: a three-node cluster's links exported to a file (no
//! password in it), a link removed by hand shows in the plan as exactly that link to add, the
//! plan restores it and data flows again, an unchanged cluster plans nothing, and a plan made
//! against a cluster that changed since is refused.

use std::collections::BTreeMap;

use serde_json::json;
use switchyard_client::ServerKind;
use switchyard_e2e::loopback::LoopbackNode;
use switchyard_studio::links::{plan_link, Direction, LinkChannel, LinkRequest, Party, Request};
use switchyard_studio::wiring::{Change, Wiring, WiringPlan};
use switchyard_testkit::eventually;

const PW: &str = "wiring-admin-pw";

/// The live wiring of `nodes`, as the studio reads it.
async fn live(nodes: &[&LoopbackNode]) -> Wiring {
    let mut seen = Vec::new();
    for n in nodes {
        let status = n.client().run_as(&switchyard_protocol::Operation::ClusterStatus(switchyard_protocol::operation::NoFields {})).await.unwrap();
        seen.push((n.spec(), n.name.clone(), status, ServerKind::SwitchyardNode));
    }
    let (w, unknown) = Wiring::live(&seen);
    assert!(unknown.is_empty(), "{unknown:?}");
    w
}

async fn count(n: &LoopbackNode) -> u64 {
    n.client().describe_table("dev", "t").await.map(|d| d.record_count).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_exported_changed_by_hand_is_planned_back_exactly_and_a_stale_plan_is_refused() {
    let (a, b, c) = (LoopbackNode::start("a", PW).await.unwrap(), LoopbackNode::start("b", PW).await.unwrap(), LoopbackNode::start("c", PW).await.unwrap());
    for n in [&a, &b, &c] {
        n.client().create_table("dev", "t", "id").await.unwrap();
    }
    let nodes = [&a, &b, &c];
    let parties: BTreeMap<String, Party> = nodes.iter().map(|n| (n.name.clone(), n.party())).collect();
    // a and c push t to b, each over a least-privilege link as the canvas makes it.
    let mut link_passwords = Vec::new();
    for (from, to) in [(&a, &b), (&c, &b)] {
        let req = LinkRequest { a: from.spec().id, b: to.spec().id, channels: vec![LinkChannel { channel: "dev:t".into(), direction: Direction::AToB }], ..Default::default() };
        let plan = plan_link(&req, from.party(), to.party()).await.unwrap();
        for s in &plan.steps {
            if let Request::Node(switchyard_protocol::Operation::AddUser(u)) = &s.op {
                link_passwords.push(u.password.clone());
            }
        }
        assert!(plan.apply().await.ok);
    }

    // Exported: both links, no secret.
    let file = live(&nodes).await.to_toml().unwrap();
    assert!(file.contains("dialer = \"a\"") && file.contains("dialer = \"c\"") && file.contains("flow = \"push\""), "{file}");
    for secret in link_passwords.iter().chain([&PW.to_string()]) {
        assert!(!file.contains(secret.as_str()), "a password is in the wiring file:\n{file}");
    }
    let wanted = Wiring::parse(&file).unwrap();
    assert!(WiringPlan::make(&wanted, &live(&nodes).await, &parties).await.unwrap().changes.is_empty(), "an unchanged cluster plans nothing");

    // c's link removed by hand: the plan is exactly that link to add.
    c.client().call(&json!({"operation": "remove_node", "name": "b"})).await.unwrap();
    let now = live(&nodes).await;
    let plan = WiringPlan::make(&wanted, &now, &parties).await.unwrap();
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    assert!(matches!(&plan.changes[0], Change::Add(l) if l.dialer == "c" && l.to == "b"), "{:?}", plan.changes);
    assert!(plan.changes[0].words().starts_with("+ c → b: dev:t (push)"), "{}", plan.changes[0].words());
    let reports = plan.apply(&now).await.unwrap();
    assert!(reports.iter().all(|r| r.ok), "{reports:?}");
    assert!(WiringPlan::make(&wanted, &live(&nodes).await, &parties).await.unwrap().changes.is_empty(), "applied: nothing left to do");
    c.client().insert("dev", "t", &[json!({"id": 1})]).await.unwrap();
    eventually("c's writes reach b again", async || count(&b).await == 1).await;

    // A plan made, then the cluster changes before it is applied: refused, nothing sent.
    a.client().call(&json!({"operation": "remove_node", "name": "b"})).await.unwrap();
    let stale = WiringPlan::make(&wanted, &live(&nodes).await, &parties).await.unwrap();
    assert_eq!(stale.changes.len(), 1);
    c.client().call(&json!({"operation": "remove_node", "name": "b"})).await.unwrap();
    let refused = stale.apply(&live(&nodes).await).await.unwrap_err();
    assert!(refused.to_string().contains("changed since this plan was made"), "{refused}");
    assert!(live(&nodes).await.links.is_empty(), "nothing of the stale plan was sent");
}
