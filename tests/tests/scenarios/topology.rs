//! The cluster canvas's model and link plans against real nodes on loopback: topologies built
//! from real cluster_status answers (chain, ring, failing link, ghost peer, missing source
//! table), and least-privilege links made, changed, undone and removed through their plans.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_testkit::{eventually, eventually_some};
use switchyard_e2e::loopback::LoopbackNode;
use switchyard_studio::links::{plan_link, plan_unlink, Direction, LinkChannel, LinkRequest, Request};
use switchyard_studio::topology::{self, LinkState, NodeKind, TopologyView, WarningKind};

const PW: &str = "topo-pw";

type Node = LoopbackNode;

async fn node(name: &str) -> Node {
    LoopbackNode::start(name, PW).await.expect("a node on loopback")
}

/// The Operations API calls these tests make on a node, as its admin.
trait NodeOps {
    async fn ok(&self, op: Value) -> Value;
    async fn table(&self, table: &str);
    async fn count(&self, table: &str) -> u64;
    async fn link(&self, peer: &Node, subscriptions: Value);
}

impl NodeOps for Node {
    async fn ok(&self, op: Value) -> Value {
        self.client().call(&op).await.unwrap_or_else(|e| panic!("{op} on {}: {e}", self.name))
    }

    async fn table(&self, table: &str) {
        self.ok(json!({"operation": "create_table", "database": "dev", "table": table, "primary_key": "id"})).await;
    }

    async fn count(&self, table: &str) -> u64 {
        let r = self.client().send(&json!({"operation": "describe_table", "database": "dev", "table": table})).await.unwrap();
        r.body["record_count"].as_u64().unwrap_or(0)
    }

    /// `on` dials `peer` with the admin's credentials.
    async fn link(&self, peer: &Node, subscriptions: Value) {
        self.ok(json!({"operation": "add_node", "name": peer.name, "host": "127.0.0.1", "port": peer.port,
            "authorization": {"username": "admin", "password": PW}, "subscriptions": subscriptions})).await;
    }
}

/// The topology of `nodes` (the registered ones) as the canvas would get it.
async fn view(nodes: &[&Node]) -> TopologyView {
    let mut observed = Vec::new();
    for n in nodes {
        observed.push(topology::observe(n.spec(), &n.client()).await);
    }
    topology::build(&observed)
}

/// The view once `check` holds (at most 30 s).
async fn view_when(nodes: &[&Node], what: &str, check: impl Fn(&TopologyView) -> bool) -> TopologyView {
    eventually_some(what, async || Some(view(nodes).await).filter(|v| check(v))).await
}

fn edge<'a>(v: &'a TopologyView, source: &str, target: &str) -> Option<&'a topology::TopoEdge> {
    v.edges.iter().find(|e| e.source == format!("id-{source}") && e.target == format!("id-{target}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_rings_and_what_goes_wrong_are_drawn_from_real_cluster_status() {
    let (a, b, c) = (node("a").await, node("b").await, node("c").await);
    for n in [&a, &b, &c] {
        n.table("x").await;
    }
    // A chain a → b → c on dev:x: b and c each pull from the one before.
    b.link(&a, json!([{"channel": "dev:x", "subscribe": true}])).await;
    c.link(&b, json!([{"channel": "dev:x", "subscribe": true}])).await;
    let v = view_when(&[&a, &b, &c], "the chain's links open", |v| v.edges.len() == 2 && v.edges.iter().all(|e| e.state == LinkState::Open)).await;
    assert!(edge(&v, "a", "b").is_some() && edge(&v, "b", "c").is_some(), "edges run the way data flows: {:?}", v.edges);
    let flow = v.flows.iter().find(|f| f.channel == "dev:x").expect("a flow for dev:x");
    assert_eq!(flow.reach["id-a"], vec!["id-b", "id-c"]);
    assert!(flow.cycle_edges.is_empty() && v.warnings.is_empty(), "a chain has no cycle and nothing to warn of: {:?}", v.warnings);

    // A node's log head grows with its writes: the canvas's write rate per node.
    let head = |v: &TopologyView, id: &str| v.nodes.iter().find(|n| n.id == id).and_then(|n| n.log_head).expect("a log head");
    let before = head(&v, "id-a");
    a.ok(json!({"operation": "insert", "database": "dev", "table": "x", "records": [{"id": 1}, {"id": 2}]})).await;
    a.ok(json!({"operation": "insert", "database": "dev", "table": "x", "records": [{"id": 3}]})).await;
    let v = view_when(&[&a, &b, &c], "a's log head moves", |v| head(v, "id-a") >= before + 2.0).await;
    assert_eq!(head(&v, "id-a"), before + 2.0, "two transactions, two ids");

    // Closing the ring c → a: every edge of dev:x is on the cycle, and it is said.
    a.link(&c, json!([{"channel": "dev:x", "subscribe": true}])).await;
    let v = view_when(&[&a, &b, &c], "the ring closes", |v| v.edges.len() == 3).await;
    assert!(v.edges.iter().all(|e| e.cycle), "{:?}", v.edges);
    assert!(v.warnings.iter().any(|w| w.kind == WarningKind::Cycle && w.channel.as_deref() == Some("dev:x")));

    // A subscription to a table the source lacks.
    a.link(&b, json!([{"channel": "dev:nothere", "subscribe": true}])).await;
    let v = view_when(&[&a, &b, &c], "the missing table is flagged", |v| v.warnings.iter().any(|w| w.kind == WarningKind::MissingTable)).await;
    let w = v.warnings.iter().find(|w| w.kind == WarningKind::MissingTable).unwrap();
    assert_eq!((w.node.as_deref(), w.channel.as_deref()), (Some("id-b"), Some("dev:nothere")), "{w:?}");

    // A link configured on one side only: b dials c as a user c does not have.
    b.ok(json!({"operation": "add_node", "name": "c", "host": "127.0.0.1", "port": c.port,
        "authorization": {"username": "sy_link_b", "password": "nobody-made-me"}, "subscriptions": [{"channel": "dev:x", "publish": true}]}))
    .await;
    let v = view_when(&[&a, &b, &c], "the one-sided link is flagged", |v| v.warnings.iter().any(|w| w.kind == WarningKind::OneSided)).await;
    let w = v.warnings.iter().find(|w| w.kind == WarningKind::OneSided).unwrap();
    assert_eq!(w.node.as_deref(), Some("id-b"), "{w:?}");
    assert!(w.message.contains("configured on b only") && w.message.contains("c refuses its login"), "{w:?}");
    assert!(!v.warnings.iter().any(|w| w.kind == WarningKind::FailingLink && w.node.as_deref() == Some("id-b")), "said once, as one-sided: {:?}", v.warnings);
    b.ok(json!({"operation": "remove_node", "name": "c"})).await;

    // A peer that is not registered is a ghost, where it was dialled; one that is down fails.
    let mut d = node("d").await;
    d.table("x").await;
    c.link(&d, json!([{"channel": "dev:x", "publish": true}])).await;
    let v = view_when(&[&a, &b, &c], "the ghost appears", |v| v.nodes.iter().any(|n| n.id == "ghost:d")).await;
    let ghost = v.nodes.iter().find(|n| n.id == "ghost:d").unwrap();
    assert_eq!((ghost.kind, ghost.url.clone()), (NodeKind::Ghost, Some(d.url())));
    assert!(v.edges.iter().any(|e| e.source == "id-c" && e.target == "ghost:d"));
    assert!(v.warnings.iter().any(|w| w.kind == WarningKind::Ghost && w.node.as_deref() == Some("ghost:d")));
    d.stop().await;
    let v = view_when(&[&a, &b, &c], "the link to a stopped node fails", |v| v.warnings.iter().any(|w| w.kind == WarningKind::FailingLink)).await;
    let failing = v.edges.iter().find(|e| e.target == "ghost:d").unwrap();
    assert_ne!(failing.state, LinkState::Open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_link_carries_only_its_channels_is_changed_and_removed_with_its_user() {
    let (edge_node, hq) = (node("edge").await, node("hq").await);
    edge_node.table("sensor_data").await;
    edge_node.table("config").await;
    hq.table("sensor_data").await;
    hq.table("config").await;
    hq.table("secret").await;

    // Dragged edge → hq: sensor_data flows to hq; edge dials.
    let req = LinkRequest { a: "id-edge".into(), b: "id-hq".into(), channels: vec![LinkChannel { channel: "dev:sensor_data".into(), direction: Direction::AToB }], b_dials: false, ..Default::default() };
    let plan = plan_link(&req, edge_node.party(), hq.party()).await.unwrap();
    let preview = plan.preview("p1");
    let ops: Vec<(&str, &str)> = preview.steps.iter().map(|s| (s.instance_name.as_str(), s.operation.as_str())).collect();
    assert_eq!(ops, vec![("hq", "add_role"), ("hq", "add_user"), ("edge", "add_node")]);
    let shown = serde_json::to_string(&preview).unwrap();
    let Request::Node(switchyard_protocol::Operation::AddUser(user)) = &plan.steps[1].op else { panic!("step 2 adds the user") };
    assert!(shown.contains("********") && !shown.contains(&user.password), "passwords are masked in the preview: {shown}");
    assert_eq!(preview.steps[0].request["permission"]["dev"]["tables"]["sensor_data"]["insert"], true);
    assert_eq!(preview.steps[0].request["permission"]["dev"]["tables"]["sensor_data"]["read"], false);
    let report = plan.apply().await;
    assert!(report.ok, "{report:?}");

    edge_node.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 1, "t": 20.5}]})).await;
    eventually("sensor_data reaches hq", async || hq.count("sensor_data").await == 1).await;
    let v = view_when(&[&edge_node, &hq], "the edge shows the traffic", |v| edge(v, "edge", "hq").is_some_and(|e| e.channels.iter().any(|c| c.position.unwrap_or(0.0) > 0.0 && c.carried >= 1.0))).await;
    assert!(edge(&v, "hq", "edge").is_none(), "nothing flows back");

    // The link's user is held to its role: it cannot read hq's tables.
    let users: Vec<Value> = serde_json::from_value(hq.ok(json!({"operation": "list_users"})).await).unwrap();
    assert!(users.iter().any(|u| u["username"] == "sy_link_edge" && u["role"]["role"] == "sy_link_edge"), "{users:?}");

    // Changed on the same link: config flows hq → edge too.
    let req = LinkRequest {
        a: "id-edge".into(),
        b: "id-hq".into(),
        channels: vec![
            LinkChannel { channel: "dev:sensor_data".into(), direction: Direction::AToB },
            LinkChannel { channel: "dev:config".into(), direction: Direction::BToA },
        ],
        b_dials: false,
        relay_origins: Vec::new(),
    };
    let plan = plan_link(&req, edge_node.party(), hq.party()).await.unwrap();
    let ops: Vec<String> = plan.preview("p2").steps.iter().map(|s| format!("{}:{}", s.instance_name, s.operation)).collect();
    assert_eq!(ops, vec!["hq:alter_role", "edge:update_node"]);
    assert!(plan.apply().await.ok);
    hq.ok(json!({"operation": "insert", "database": "dev", "table": "config", "records": [{"id": "rate", "hz": 5}]})).await;
    eventually("config reaches edge", async || edge_node.count("config").await == 1).await;

    // Removed: the link, its user and its role go; new records no longer flow.
    let plan = plan_unlink(edge_node.party(), "hq", Some(hq.party())).await.unwrap();
    let ops: Vec<String> = plan.preview("p3").steps.iter().map(|s| format!("{}:{}", s.instance_name, s.operation)).collect();
    assert_eq!(ops, vec!["edge:remove_node", "hq:drop_user", "hq:drop_role"]);
    assert!(plan.apply().await.ok);
    let users = hq.ok(json!({"operation": "list_users"})).await;
    assert!(!users.to_string().contains("sy_link_edge"), "{users}");
    edge_node.ok(json!({"operation": "insert", "database": "dev", "table": "sensor_data", "records": [{"id": 2, "t": 1.0}]})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hq.count("sensor_data").await, 1, "after removal nothing flows");
}

/// The error `n` reports on its link to `peer`, if any.
async fn link_error(n: &Node, peer: &str) -> Option<String> {
    let status = n.ok(json!({"operation": "cluster_status"})).await;
    status["connections"].as_array()?.iter().find(|l| l["name"] == peer)?["last_error"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_planned_links_relays_only_the_origins_upstream_of_each_pusher() {
    let (a, b, c) = (node("a").await, node("b").await, node("c").await);
    for n in [&a, &b, &c] {
        n.table("t").await;
    }
    let push = |from: &str, to: &str| LinkRequest {
        a: format!("id-{from}"),
        b: format!("id-{to}"),
        channels: vec![LinkChannel { channel: "dev:t".into(), direction: Direction::AToB }],
        ..Default::default()
    };
    // a pushes t to b; then b pushes t to c, so b relays a's writes.
    assert!(plan_link(&push("a", "b"), a.party(), b.party()).await.unwrap().apply().await.ok);
    let v = view_when(&[&a, &b, &c], "the edge a → b", |v| edge(v, "a", "b").is_some()).await;
    let upstream = topology::upstream(&v, "id-b", &["dev:t".to_string()]);
    assert_eq!(upstream, vec!["a".to_string()], "a is upstream of b on dev:t");
    assert!(topology::upstream(&v, "id-a", &["dev:t".to_string()]).is_empty());

    // Planned without what lies upstream: c refuses a's entries that b relays, says why on b's
    // link, and takes nothing of them (nor of what follows them).
    assert!(plan_link(&push("b", "c"), b.party(), c.party()).await.unwrap().apply().await.ok);
    a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 1}]})).await;
    eventually("b has a's record", async || b.count("t").await == 1).await;
    eventually("b's link to c says c refuses a's entries", async || link_error(&b, "c").await.is_some_and(|e| e.contains("may not relay entries of origin 'a'"))).await;
    assert_eq!(c.count("t").await, 0);

    // Planned as the studio plans it (its upstream in the role): a's record reaches c through b,
    // once, and so do b's own.
    let planned = LinkRequest { relay_origins: upstream, ..push("b", "c") };
    let plan = plan_link(&planned, b.party(), c.party()).await.unwrap();
    assert_eq!(plan.preview("p").steps[0].request["permission"][switchyard_protocol::RELAY_ORIGINS], json!(["a"]), "the role lists a");
    assert!(plan.apply().await.ok);
    eventually("a's record reaches c through b", async || c.count("t").await == 1).await;
    b.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": 2}]})).await;
    eventually("b's own record too", async || c.count("t").await == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_that_fails_midway_leaves_no_user_role_or_link_behind() {
    let (mut edge_node, hq) = (node("edge").await, node("hq").await);
    edge_node.table("sensor_data").await;
    let req = LinkRequest { a: "id-edge".into(), b: "id-hq".into(), channels: vec![LinkChannel { channel: "dev:sensor_data".into(), direction: Direction::AToB }], b_dials: false, ..Default::default() };
    let plan = plan_link(&req, edge_node.party(), hq.party()).await.unwrap();
    // The dialler goes away between the preview and Apply: its add_node cannot be sent.
    edge_node.stop().await;
    let report = plan.apply().await;
    assert!(!report.ok);
    let failed: Vec<(&str, bool)> = report.steps.iter().map(|s| (s.operation.as_str(), s.ok)).collect();
    assert_eq!(failed, vec![("add_role", true), ("add_user", true), ("add_node", false)], "{report:?}");
    assert!(!report.steps[2].message.is_empty(), "the failing node's error is reported");
    let undone: Vec<(&str, bool)> = report.undone.iter().map(|s| (s.operation.as_str(), s.ok)).collect();
    assert_eq!(undone, vec![("drop_user", true), ("drop_role", true)]);
    assert!(report.left_behind.is_empty(), "{:?}", report.left_behind);
    let (users, roles) = (hq.ok(json!({"operation": "list_users"})).await, hq.ok(json!({"operation": "list_roles"})).await);
    assert!(!users.to_string().contains("sy_link_edge") && !roles.to_string().contains("sy_link_edge"), "{users} {roles}");
    edge_node.restart().await.expect("edge restarts");
    let status = edge_node.ok(json!({"operation": "cluster_status"})).await;
    assert_eq!(status["connections"], json!([]), "no link was made");
}

/// Verify and Repair (issue 31, item 5) on real nodes: linked and converged, they verify in
/// sync; a write made while the link is down is in flight, not a divergence; records changed
/// where replication will not bring them are found with their winner, repaired to it exactly
/// (a tombstone included), and verify in sync; a repair planned before a newer write leaves
/// that key alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_what_differs_and_repair_makes_nodes_equal() {
    use switchyard_studio::verify::{self as v, CellState, Member, Repairs, Verdict};
    let (a, b) = (node("a").await, node("b").await);
    for n in [&a, &b] {
        n.table("x").await;
    }
    b.link(&a, json!([{"channel": "dev:x", "subscribe": true}])).await;
    a.ok(json!({"operation": "insert", "database": "dev", "table": "x", "records": (0..200).map(|i| json!({"id": i, "v": i})).collect::<Vec<_>>()})).await;
    eventually("b has a's 200 records", || async { b.count("x").await == 200 }).await;
    let members = [Member { id: "id-a".into(), name: "a".into(), client: a.client(), digests: true }, Member { id: "id-b".into(), name: "b".into(), client: b.client(), digests: true }];
    let never = tokio_util::sync::CancellationToken::new();
    let channels = ["dev:x".to_string()];
    let topo = view_when(&[&a, &b], "the link opens", |t| t.edges.len() == 1 && t.edges[0].state == LinkState::Open).await;
    let (report, _) = v::verify(&members, &channels, &topo, &never, &|_| {}).await;
    assert_eq!((report.verdict, report.summary.as_str()), (Verdict::InSync, "in sync: 200 records"), "{report:#?}");
    assert_eq!(report.channels[0].nodes.iter().map(|n| n.count).collect::<Vec<_>>(), vec![200.0, 200.0]);
    assert!(report.channels[0].nodes[1].watermark.iter().any(|w| w.starts_with("a #")), "b's watermark names a: {:?}", report.channels[0].nodes[1].watermark);

    // b changes and deletes records of a's: replication (a → b only) will never fix them.
    b.ok(json!({"operation": "update", "database": "dev", "table": "x", "records": [{"id": 5, "v": "b's own"}]})).await;
    b.ok(json!({"operation": "delete", "database": "dev", "table": "x", "ids": [6]})).await;
    // a deletes one b still holds, with the link down: a's tombstone wins, in flight to b.
    b.ok(json!({"operation": "remove_node", "name": "a"})).await;
    a.ok(json!({"operation": "delete", "database": "dev", "table": "x", "ids": [7]})).await;
    let topo = view(&[&a, &b]).await;
    let (report, verified) = v::verify(&members, &channels, &topo, &never, &|_| {}).await;
    let ch = &report.channels[0];
    assert_eq!(report.verdict, Verdict::Differs, "{report:#?}");
    let keys: Vec<&Value> = ch.rows.iter().map(|r| &r.key).collect();
    assert_eq!(keys, vec![&json!(5), &json!(6), &json!(7)], "exactly the records that differ: {report:#?}");
    assert_eq!((ch.differing, ch.in_flight, ch.truncated), (3.0, 0.0, false), "no link any more: nothing is in flight");
    let row = |k: i64| ch.rows.iter().find(|r| r.key == json!(k)).unwrap();
    assert_eq!((row(5).winner, row(5).cells[1].record.as_ref().map(|r| r["v"].clone())), (Some(1), Some(json!("b's own"))), "b's update is newer");
    assert_eq!((row(6).winner, row(6).cells[1].state), (Some(1), CellState::Deleted), "b's tombstone wins over a's record");
    assert_eq!((row(7).winner, row(7).cells[0].state, row(7).cells[1].state), (Some(0), CellState::Deleted, CellState::Live));
    assert!(report.passes == 1, "no recheck when nothing is in flight");

    // Repaired: each node set to the winner, then in sync.
    let (plan, repairs) = Repairs::plan(&verified, "p".into(), false);
    assert_eq!(plan.steps.iter().map(|s| (s.instance_name.as_str(), s.writes, s.deletes)).collect::<Vec<_>>(), vec![("a", 1.0, 1.0), ("b", 0.0, 1.0)], "{plan:#?}");
    let registry_free = repairs_apply(repairs, &members).await;
    assert!(registry_free, "every step applied");
    let (report, _) = v::verify(&members, &channels, &topo, &never, &|_| {}).await;
    assert_eq!((report.verdict, report.summary.as_str()), (Verdict::InSync, "in sync: 198 records"), "{report:#?}");

    // A write in flight: b pulls from a again; while the link is down a's write waits.
    a.ok(json!({"operation": "update", "database": "dev", "table": "x", "records": [{"id": 1, "v": "after"}]})).await;
    b.link(&a, json!([{"channel": "dev:x", "subscribe": true}])).await;
    let topo = view_when(&[&a, &b], "the link opens again", |t| t.edges.len() == 1 && t.edges[0].state == LinkState::Open).await;
    eventually("a's update reaches b", || async {
        let got = b.ok(json!({"operation": "search_by_id", "database": "dev", "table": "x", "ids": [1], "get_attributes": ["v"]})).await;
        got[0]["v"] == "after"
    })
    .await;
    let (report, _) = v::verify(&members, &channels, &topo, &never, &|_| {}).await;
    assert_eq!(report.verdict, Verdict::InSync, "{report:#?}");
}

/// Applies a repair plan with clients to the members (what `Studio::repair_apply` does through
/// the registry).
async fn repairs_apply(repairs: switchyard_studio::verify::Repairs, members: &[switchyard_studio::verify::Member]) -> bool {
    let report = repairs.apply(|id| members.iter().find(|m| m.id == id).map(|m| m.client.clone()).ok_or_else(|| switchyard_studio::Error::NotRegistered(id.into()))).await;
    assert!(report.ok, "{report:#?}");
    report.steps.iter().all(|s| s.ok)
}

/// A write still on its way is in flight, not a divergence (issue 31, item 5): a → c → b on
/// dev:x with c down, a write on a has not reached b; its origin reaches b on the canvas and b's
/// watermark for a is below it, so Verify checks again and says in flight; once c is back, in sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_its_way_is_in_flight_and_arrives() {
    use switchyard_studio::verify::{self as v, Member, Verdict};
    let (a, b, mut c) = (node("a").await, node("b").await, node("c").await);
    for n in [&a, &b, &c] {
        n.table("x").await;
    }
    c.link(&a, json!([{"channel": "dev:x", "subscribe": true}])).await;
    b.link(&c, json!([{"channel": "dev:x", "subscribe": true}])).await;
    a.ok(json!({"operation": "insert", "database": "dev", "table": "x", "records": [{"id": 1, "v": "first"}]})).await;
    eventually("the first write reaches b through c", || async { b.count("x").await == 1 }).await;
    let topo = view_when(&[&a, &b, &c], "the chain's links open", |t| t.edges.len() == 2 && t.edges.iter().all(|e| e.state == LinkState::Open)).await;
    let members = [Member { id: "id-a".into(), name: "a".into(), client: a.client(), digests: true }, Member { id: "id-b".into(), name: "b".into(), client: b.client(), digests: true }];
    let (channels, never) = (["dev:x".to_string()], tokio_util::sync::CancellationToken::new());
    assert_eq!(v::verify(&members, &channels, &topo, &never, &|_| {}).await.0.verdict, Verdict::InSync);

    c.stop().await;
    a.ok(json!({"operation": "update", "database": "dev", "table": "x", "records": [{"id": 1, "v": "second"}]})).await;
    let (report, _) = v::verify(&members, &channels, &topo, &never, &|_| {}).await;
    let ch = &report.channels[0];
    assert_eq!((report.verdict, ch.differing, ch.in_flight), (Verdict::InFlight, 1.0, 1.0), "{report:#?}");
    assert!(ch.rows[0].in_flight && ch.rows[0].winner == Some(0), "a's write wins and is on its way: {:?}", ch.rows[0]);
    assert!(report.passes > 1, "checked again before answering");
    assert!(report.summary.contains("in flight"), "{}", report.summary);

    c.restart().await.expect("c starts again");
    eventually("the write reaches b once c is back", || async {
        v::verify(&members, &channels, &topo, &never, &|_| {}).await.0.verdict == Verdict::InSync
    })
    .await;
}
