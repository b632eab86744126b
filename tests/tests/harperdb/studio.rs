//! The studio's status, browse, forms and SQL against a real HarperDB 4.7 (from npm, installed
//! by `make test`): the client tells the server's kind and reads its quirks into the studio's
//! shapes and error codes (each one a difference in `switchyard_client::DIFFERENCES`); two real
//! instances drawn on the canvas from their own cluster_status, linked and unlinked in
//! HarperDB's own add_node and remove_node forms.

use serde_json::{json, Value};
use switchyard_client::{Credentials, ServerKind};
use switchyard_e2e::harperdb::HarperDb;
use switchyard_protocol::tls::Trust;
use switchyard_protocol::ErrorCode;
use switchyard_studio::instance::{plan_link, plan_unlink};
use switchyard_studio::links::{Direction, LinkChannel, LinkRequest, Party};
use switchyard_studio::topology::{self, LinkState, TopologyView, WarningKind};
use switchyard_studio::harperdb::tail as tail_mqtt;
use switchyard_studio::TailEvent;
use switchyard_studio::{probe, Browse, InstanceKind, InstanceSpec, NewTable, PageAnchor, PageRequest, WriteMode};

fn page(anchor: PageAnchor, limit: u32) -> PageRequest {
    PageRequest { database: "shop".into(), table: "item".into(), primary_key: "id".into(), sort: None, filters: vec![], anchor, limit }
}

fn ids(rows: &[Value]) -> Vec<Value> {
    rows.iter().map(|r| r["id"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_reads_and_writes_a_real_harperdb_4_7_through_its_adapter() {
    let _shared = crate::ALONE.read().await;
    let hdb = HarperDb::start().await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let raw = hdb.client().unwrap();

    // Status: the kind is told from registration_info, and the credentials are checked.
    assert_eq!(raw.detect_kind().await.unwrap(), ServerKind::HarperDb);
    let ok = probe::status("h", &raw).await;
    assert!(ok.online && ok.error.is_none(), "{ok:?}");
    assert_eq!(ok.server_kind, Some(ServerKind::HarperDb));
    assert!(ok.version.as_deref().is_some_and(|v| v.starts_with("4.7")), "{ok:?}");
    let wrong = probe::status("h", &raw.with_credentials(Credentials::basic(&hdb.user, "not-the-password"))).await;
    assert_eq!(wrong.error.map(|e| e.code), Some(ErrorCode::Unauthorized), "a wrong password is refused, on loopback too");
    // In dev mode HarperDB lets loopback in without credentials: no 401 is not proof.
    let none = probe::status("h", &raw.with_credentials(Credentials::None)).await;
    let error = none.error.expect("credentials that were never checked are not reported as valid");
    assert_eq!(error.code, ErrorCode::Unauthorized);
    assert!(error.message.contains("could not be verified"), "{}", error.message);

    let client = raw.clone().with_kind(ServerKind::HarperDb);
    client.new_database("shop").await.unwrap();
    client.new_table(&NewTable { database: "shop".into(), table: "item".into(), primary_key: "id".into(), expiration: None }).await.unwrap();

    // A form's insert: a generated key is reported as null by HarperDB; the report says so.
    let report = client
        .write_records("shop", "item", WriteMode::Insert, vec![json!({"id": 1, "name": "bolt", "extra": "x"}), json!({"id": 2, "name": "nut"}), json!({"name": "no key"})])
        .await
        .unwrap();
    assert_eq!(report.written, 3.0);
    assert_eq!(report.written_keys, vec![json!(1), json!(2)]);
    assert!(report.notice.as_deref().is_some_and(|n| n.contains("did not report")), "{report:?}");
    let update = client.write_records("shop", "item", WriteMode::Update, vec![json!({"id": 2, "name": "nut M6"})]).await.unwrap();
    assert_eq!((update.written_keys, update.notice), (vec![json!(2)], None));

    // Browse: the tree with counts, then pages by key.
    let tree = client.tree().await.unwrap();
    let item = tree.iter().find(|d| d.name == "shop").and_then(|d| d.tables.iter().find(|t| t.name == "item")).expect("shop.item in the tree");
    assert_eq!((item.primary_key.as_str(), item.record_count, item.record_count_estimated), ("id", Some(3.0), false));
    let first = client.page(&page(PageAnchor::First, 2)).await.unwrap();
    assert_eq!(ids(&first.rows), vec![json!(1), json!(2)]);
    assert!(!first.at_end);
    let next = client.page(&page(PageAnchor::After { key: json!(2) }, 2)).await.unwrap();
    assert_eq!(next.rows.len(), 1, "{next:?}");
    assert!(next.rows[0]["id"].is_number(), "HarperDB's generated key is a number: {next:?}");
    assert!(next.at_end);
    let last = client.page(&page(PageAnchor::Last, 2)).await.unwrap();
    assert_eq!(last.rows.len(), 2);
    assert_eq!(last.rows[0]["id"], json!(2));

    // SQL.
    let sql = client.run_sql("SELECT id, name FROM shop.item WHERE id = 2").await.unwrap();
    assert_eq!(sql.rows, vec![json!({"id": 2, "name": "nut M6"})]);

    // Bad input answered 500 by HarperDB is the caller's error, not a server bug.
    let err = client.call(&json!({"operation": "search_by_id", "database": "shop", "table": "item", "ids": [1]})).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest, "{err}");
    assert!(err.to_string().contains("answers this bad input with 500"), "{err}");
    // Without the adapter, the same answer is a 500.
    let raw_err = raw.call(&json!({"operation": "search_by_id", "database": "shop", "table": "item", "ids": [1]})).await.unwrap_err();
    assert_eq!(raw_err.code(), ErrorCode::Internal);

    // drop_attribute brings the deleted record back as an empty row: the page leaves it out
    // and says so.
    client.delete_records("shop", "item", vec![json!(1)]).await.unwrap();
    client.call(&json!({"operation": "drop_attribute", "database": "shop", "table": "item", "attribute": "extra"})).await.unwrap();
    let after = client.page(&page(PageAnchor::First, 50)).await.unwrap();
    assert_eq!(after.rows.len(), 2, "{after:?}");
    assert!(after.rows.iter().all(|r| !r["id"].is_null()));
    assert!(after.notice.as_deref().is_some_and(|n| n.contains("drop_attribute")), "{after:?}");

    // add_node to a peer that cannot be reached: HarperDB answers 500 when it needed the peer to
    // sign its certificate (this fresh node), or 200 with the error inside once it holds one;
    // either is read as the peer's failure, code unreachable.
    let add = client
        .call(&json!({"operation": "add_node", "hostname": "localhost", "url": "wss://localhost:1", "verify_tls": false,
            "authorization": {"username": hdb.user, "password": hdb.password}}))
        .await
        .unwrap_err();
    assert_eq!(add.code(), ErrorCode::Unreachable, "{add}");
    assert!(add.to_string().contains("ECONNREFUSED"), "{add}");

    verify_by_scanning(&client).await;
}

/// Verify with a HarperDB member (issue 31, item 6): no digests, so both tables are read whole
/// and compared by content (without the servers' stamps); a newer record wins, a record one side
/// lacks has no winner (HarperDB does not say whether it deleted it); Repair upserts the winner.
async fn verify_by_scanning(hdb: &switchyard_client::OpsClient) {
    use switchyard_studio::verify::{self as v, Member, Repairs, Verdict};
    let node = switchyard_e2e::loopback::LoopbackNode::start("sy", "verify-pw").await.expect("a node on loopback");
    let sy = node.client();
    let records: Vec<Value> = (0..120).map(|i| json!({"id": i, "name": format!("part {i}"), "dims": {"w": i, "h": 2}})).collect();
    for c in [hdb, &sy] {
        c.new_table(&NewTable { database: "shop".into(), table: "verify".into(), primary_key: "id".into(), expiration: None }).await.unwrap();
        c.write_records("shop", "verify", WriteMode::Insert, records.clone()).await.unwrap();
    }
    let members = [
        Member { id: "h".into(), name: "hdb".into(), client: hdb.clone(), digests: false },
        Member { id: "s".into(), name: "sy".into(), client: sy.clone(), digests: true },
    ];
    let view = TopologyView { nodes: vec![], edges: vec![], flows: vec![], warnings: vec![] };
    let never = tokio_util::sync::CancellationToken::new();
    let channels = ["shop:verify".to_string()];
    let shares = std::sync::Mutex::new(Vec::new());
    let (report, _) = v::verify(&members, &channels, &view, &never, &|f| shares.lock().unwrap().push(f)).await;
    assert_eq!((report.verdict, report.summary.as_str()), (Verdict::InSync, "in sync: 120 records"), "{report:#?}");
    assert_eq!(report.channels[0].scanned, 240.0, "every record of both read");
    let shares = shares.into_inner().unwrap();
    assert!(shares.last().is_some_and(|f| (*f - 1.0).abs() < 1e-9) && shares.windows(2).all(|w| w[0] <= w[1]), "progress grows to 1: {shares:?}");

    // The node changes one later (it wins); HarperDB alone has one more (no winner).
    sy.write_records("shop", "verify", WriteMode::Update, vec![json!({"id": 7, "name": "changed on sy"})]).await.unwrap();
    hdb.write_records("shop", "verify", WriteMode::Insert, vec![json!({"id": 500, "name": "only here"})]).await.unwrap();
    let (report, verified) = v::verify(&members, &channels, &view, &never, &|_| {}).await;
    let ch = &report.channels[0];
    assert_eq!((report.verdict, ch.differing), (Verdict::Differs, 2.0), "{report:#?}");
    let row = |k: i64| ch.rows.iter().find(|r| r.key == json!(k)).unwrap_or_else(|| panic!("key {k} in {report:#?}"));
    assert_eq!((row(7).winner, row(7).behind.clone()), (Some(1), vec![0]), "sy's later write wins");
    assert_eq!(row(500).winner, None);
    assert!(row(500).note.as_deref().is_some_and(|n| n.contains("not repaired")), "{:?}", row(500).note);
    let (plan, repairs) = Repairs::plan(&verified, "p".into(), false);
    assert_eq!(plan.steps.iter().map(|s| (s.instance_name.as_str(), s.writes)).collect::<Vec<_>>(), vec![("hdb", 1.0)], "{plan:#?}");
    assert_eq!(plan.skipped.len(), 1, "{plan:#?}");
    let applied = repairs.apply(|id| members.iter().find(|m| m.id == id).map(|m| m.client.clone()).ok_or_else(|| switchyard_studio::Error::NotRegistered(id.into()))).await;
    assert!(applied.ok, "{applied:#?}");
    let (report, _) = v::verify(&members, &channels, &view, &never, &|_| {}).await;
    let keys: Vec<&Value> = report.channels[0].rows.iter().map(|r| &r.key).collect();
    assert_eq!(keys, vec![&json!(500)], "record 7 repaired; the one without a winner is left: {report:#?}");

    // Asked to, the record sy lacks is copied to it; a failure midway sets hdb back (its
    // record 8 as it was), then the whole repair goes through and the tables are equal.
    sy.write_records("shop", "verify", WriteMode::Update, vec![json!({"id": 8, "name": "changed on sy"})]).await.unwrap();
    let (_, verified) = v::verify(&members, &channels, &view, &never, &|_| {}).await;
    let (plan, repairs) = Repairs::plan(&verified, "p".into(), true);
    assert_eq!(plan.steps.iter().map(|s| (s.instance_name.as_str(), s.writes)).collect::<Vec<_>>(), vec![("hdb", 1.0), ("sy", 1.0)], "{plan:#?}");
    assert!(plan.skipped.is_empty(), "{plan:#?}");
    let failed = repairs.apply(|id| match id {
        "h" => Ok(hdb.clone()),
        other => Err(switchyard_studio::Error::NotRegistered(other.into())),
    }).await;
    assert!(!failed.ok && failed.undone.len() == 1 && failed.undone[0].ok && failed.left_behind.is_empty(), "{failed:#?}");
    let (report, verified) = v::verify(&members, &channels, &view, &never, &|_| {}).await;
    let keys: Vec<&Value> = report.channels[0].rows.iter().map(|r| &r.key).collect();
    assert_eq!(keys, vec![&json!(8), &json!(500)], "set back, listed in key order: {report:#?}");
    let (_, repairs) = Repairs::plan(&verified, "p".into(), true);
    let applied = repairs.apply(|id| members.iter().find(|m| m.id == id).map(|m| m.client.clone()).ok_or_else(|| switchyard_studio::Error::NotRegistered(id.into()))).await;
    assert!(applied.ok, "{applied:#?}");
    let (report, _) = v::verify(&members, &channels, &view, &never, &|_| {}).await;
    assert_eq!(report.verdict, Verdict::InSync, "{report:#?}");

    // Cancelled, a scan stops with the reason.
    let cancelled = tokio_util::sync::CancellationToken::new();
    cancelled.cancel();
    let (report, _) = v::verify(&members, &channels, &view, &cancelled, &|_| {}).await;
    assert_eq!(report.verdict, Verdict::Failed);
    assert!(report.summary.contains("cancelled"), "{}", report.summary);
}

/// A HarperDB instance as the studio's link plans take it.
fn hdb_party(id: &str, name: &str, node_name: &str, hdb: &HarperDb) -> Party {
    let client = hdb.client().unwrap().with_kind(ServerKind::HarperDb);
    Party { id: id.into(), name: name.into(), node_name: node_name.into(), url: hdb.url.clone(), trust: Trust::System, server_kind: Some(ServerKind::HarperDb), client }
}

fn hdb_spec(id: &str, name: &str, hdb: &HarperDb) -> InstanceSpec {
    InstanceSpec { id: id.into(), name: name.into(), url: hdb.url.clone(), username: hdb.user.clone(), kind: InstanceKind::Remote, tls: Trust::System, port: None }
}

async fn hdb_view(instances: &[(&str, &str, &HarperDb)]) -> TopologyView {
    let mut observed = Vec::new();
    for (id, name, hdb) in instances {
        observed.push(topology::observe(hdb_spec(id, name, hdb), &hdb.client().unwrap().with_kind(ServerKind::HarperDb)).await);
    }
    topology::build(&observed)
}

async fn hdb_nodes(hdb: &HarperDb) -> Vec<String> {
    let c = hdb.client().unwrap().with_kind(ServerKind::HarperDb).harperdb_cluster().await.unwrap();
    c.nodes.into_iter().map(|n| n.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_harperdb_instances_are_drawn_linked_in_its_own_form_and_unlinked() {
    let _shared = crate::ALONE.read().await;
    let a = HarperDb::start_named("localhost").await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let mut b = HarperDb::start_named("127.0.0.1").await.expect("a second real HarperDB 4.7");
    for h in [&a, &b] {
        let c = h.client().unwrap().with_kind(ServerKind::HarperDb);
        c.new_database("shop").await.unwrap();
        c.new_table(&NewTable { database: "shop".into(), table: "item".into(), primary_key: "id".into(), expiration: None }).await.unwrap();
    }
    // Read from HarperDB's own cluster_status: two nodes named as HarperDB names them, no link,
    // and no write rate claimed (HarperDB keeps no log position).
    let v = hdb_view(&[("id-a", "hdb-a", &a), ("id-b", "hdb-b", &b)]).await;
    assert_eq!(v.nodes.iter().map(|n| (n.node_name.clone(), n.server_kind, n.log_head)).collect::<Vec<_>>(), vec![
        (Some("localhost".to_string()), Some(ServerKind::HarperDb), None),
        (Some("127.0.0.1".to_string()), Some(ServerKind::HarperDb), None)
    ]);
    assert!(v.edges.is_empty(), "{v:#?}");
    let req = LinkRequest { a: "id-a".into(), b: "id-b".into(), channels: vec![LinkChannel { channel: "shop:item".into(), direction: Direction::AToB }], b_dials: false, ..Default::default() };

    // A HarperDB instance and a switchyard-node cannot be linked: said before anything is sent.
    let dir = tempfile::tempdir().unwrap();
    let (node, sy_ops) = switchyard_testkit::launch_in(dir.path(), "sy", 0, |_| {}).await;
    let sy = Party {
        id: "id-sy".into(),
        name: "sy".into(),
        node_name: "sy".into(),
        url: node.url(),
        trust: Trust::System,
        server_kind: Some(ServerKind::SwitchyardNode),
        client: sy_ops,
    };
    let mixed = plan_link(&LinkRequest { b: "id-sy".into(), ..req.clone() }, hdb_party("id-a", "hdb-a", "localhost", &a), sy).await.unwrap_err();
    assert!(mixed.to_string().contains("HarperDB replicates only with HarperDB"), "{mixed}");
    node.stop().await;

    // The plan is HarperDB's add_node: hostname, url (the peer's replication port), verify_tls,
    // authorization (masked) and per-table subscriptions, with the note that HarperDB calls them
    // discouraged.
    let plan = plan_link(&req, hdb_party("id-a", "hdb-a", "localhost", &a), hdb_party("id-b", "hdb-b", "127.0.0.1", &b)).await.unwrap();
    let shown = plan.preview("p");
    assert_eq!(shown.steps.len(), 1, "{shown:#?}");
    assert_eq!(
        shown.steps[0].request,
        json!({"operation": "add_node", "hostname": "127.0.0.1", "url": format!("wss://127.0.0.1:{}", b.replication_port), "verify_tls": false,
            "authorization": {"username": b.user, "password": "********"},
            "subscriptions": [{"database": "shop", "table": "item", "publish": true, "subscribe": false}]})
    );
    assert!(shown.notes.iter().any(|n| n.contains("discouraged")), "{:?}", shown.notes);

    // Applied while the peer is down: add_node fails, and what HarperDB stored of it is removed.
    b.stop();
    let failed = plan.apply().await;
    assert!(!failed.ok, "{failed:#?}");
    assert_eq!(failed.steps[0].operation, "add_node");
    assert_eq!(failed.undone.iter().map(|u| (u.operation.as_str(), u.ok)).collect::<Vec<_>>(), vec![("remove_node", true)], "{failed:#?}");
    assert!(failed.left_behind.is_empty(), "{failed:#?}");
    assert!(!hdb_nodes(&a).await.contains(&"127.0.0.1".to_string()), "the failed add_node is not left in hdb_nodes");
    b.start_again().await.unwrap();

    // Applied with the peer up: a record written on A reaches B, and the canvas draws one edge
    // A → B carrying shop:item (both ends report the link; it is drawn once), none back.
    let plan = plan_link(&req, hdb_party("id-a", "hdb-a", "localhost", &a), hdb_party("id-b", "hdb-b", "127.0.0.1", &b)).await.unwrap();
    let report = plan.apply().await;
    assert!(report.ok, "{report:#?}");
    let (ca, cb) = (a.client().unwrap().with_kind(ServerKind::HarperDb), b.client().unwrap().with_kind(ServerKind::HarperDb));
    let next = std::sync::atomic::AtomicI64::new(100);
    switchyard_testkit::eventually_some_within("a record written on A reaches B", std::time::Duration::from_secs(60), async || {
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ca.upsert("shop", "item", &[json!({"id": id, "name": "replicated"})]).await.unwrap();
        let seen = cb.call(&json!({"operation": "search_by_value", "database": "shop", "table": "item", "search_attribute": "id", "search_value": "*", "get_attributes": ["id"]})).await.unwrap();
        seen.as_array().is_some_and(|r| !r.is_empty()).then_some(())
    })
    .await;
    let v = hdb_view(&[("id-a", "hdb-a", &a), ("id-b", "hdb-b", &b)]).await;
    let ab = v.edges.iter().find(|e| e.source == "id-a" && e.target == "id-b").unwrap_or_else(|| panic!("no edge A → B: {v:#?}"));
    assert_eq!(ab.channels.iter().map(|c| c.channel.as_str()).collect::<Vec<_>>(), vec!["shop:item"], "{ab:#?}");
    assert_eq!((ab.state, ab.mesh), (LinkState::Open, false), "{ab:#?}");
    assert!(!v.edges.iter().any(|e| e.source == "id-b"), "nothing flows B → A: {v:#?}");
    assert!(!v.warnings.iter().any(|w| w.kind == WarningKind::StaleLink || w.kind == WarningKind::FailingLink), "{:#?}", v.warnings);

    // Removing it: HarperDB's remove_node by hostname, with its warning about links it keeps.
    let unlink = plan_unlink(hdb_party("id-a", "hdb-a", "localhost", &a), "127.0.0.1", None).await.unwrap();
    let shown = unlink.preview("u");
    assert_eq!(shown.steps.iter().map(|s| s.request.clone()).collect::<Vec<_>>(), vec![json!({"operation": "remove_node", "hostname": "127.0.0.1"})]);
    assert!(shown.notes.iter().any(|n| n.contains("restart_service http_workers")), "{:?}", shown.notes);
    let report = unlink.apply().await;
    assert!(report.ok, "{report:#?}");
    assert!(!hdb_nodes(&a).await.contains(&"127.0.0.1".to_string()));
    // Whatever HarperDB still runs of it is flagged, never drawn as a configured link.
    let v = hdb_view(&[("id-a", "hdb-a", &a), ("id-b", "hdb-b", &b)]).await;
    let drawn = v.edges.iter().any(|e| e.source == "id-a" && e.target == "id-b");
    let flagged = v.warnings.iter().any(|w| w.kind == WarningKind::StaleLink && w.message.contains("127.0.0.1"));
    assert!(!drawn || flagged, "a removed link drawn without its warning: {v:#?}");
}

/// The next tail event that `want` accepts, within 60 s (others are skipped).
async fn tail_until(tail: &mut switchyard_studio::Tail, what: &str, want: impl Fn(&TailEvent) -> bool) -> TailEvent {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, tail.next()).await {
            Ok(Some(e)) if want(&e) => return e,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the tail ended before {what}"),
            Err(_) => panic!("not within 60 s: {what}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harperdb_table_is_tailed_over_mqtt_once_exported_with_the_users_consent() {
    let _shared = crate::ALONE.read().await;
    let hdb = HarperDb::start().await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let client = hdb.client().unwrap().with_kind(ServerKind::HarperDb);
    client.new_database("shop").await.unwrap();
    client.new_table(&NewTable { database: "shop".into(), table: "item".into(), primary_key: "id".into(), expiration: None }).await.unwrap();
    client.insert("shop", "item", &[json!({"id": 1, "name": "old"})]).await.unwrap();
    let creds = (hdb.user.clone(), hdb.password.clone());
    let request = || switchyard_studio::TailRequest::new(vec!["shop:item".into()]);

    // Not exported: HarperDB refuses the subscription, and the tail says so (not silence).
    let mut tail = tail_mqtt::start(client.clone(), creds.clone(), request()).unwrap();
    let e = tail_until(&mut tail, "the table reported as not exported", |e| !matches!(e, TailEvent::Reconnecting { .. })).await;
    assert!(matches!(&e, TailEvent::NotExported { channel } if channel == "shop:item"), "{e:?}");
    drop(tail);

    // Exported (the component, then the HTTP workers restart): live inserts, updates and
    // deletes arrive, and the table's existing record is not replayed.
    let done = tail_mqtt::export_tables(&client, &["shop:item".into()]).await.unwrap();
    assert!(done.contains("shop.item as shop_item"), "{done}");
    let resources = client.call(&json!({"operation": "get_component_file", "project": "switchyard_export", "file": "resources.js"})).await.unwrap();
    assert_eq!(resources["message"], json!("export const shop_item = databases[\"shop\"]?.[\"item\"];\n"));
    let mut tail = tail_mqtt::start(client.clone(), creds.clone(), request()).unwrap();
    // The workers may still be restarting: the tail reconnects until they serve MQTT again.
    tail_until(&mut tail, "the tail going live", |e| matches!(e, TailEvent::Live | TailEvent::NotExported { .. } | TailEvent::Failed { .. })).await;
    client.insert("shop", "item", &[json!({"id": 2, "name": "new"})]).await.unwrap();
    client.call(&json!({"operation": "update", "database": "shop", "table": "item", "records": [{"id": 2, "name": "newer"}]})).await.unwrap();
    client.delete_records("shop", "item", vec![json!(2)]).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        if let TailEvent::Record(r) = tail_until(&mut tail, "three live records", |e| matches!(e, TailEvent::Record(_))).await {
            seen.push((r.channel, r.operation, serde_json::from_str::<Value>(r.data.get()).unwrap()));
        }
    }
    assert_eq!(seen, vec![
        ("shop:item".to_string(), "put".to_string(), json!([{"id": 2, "name": "new", "__createdtime__": seen[0].2[0]["__createdtime__"], "__updatedtime__": seen[0].2[0]["__updatedtime__"]}])),
        ("shop:item".to_string(), "put".to_string(), json!([{"id": 2, "name": "newer", "__createdtime__": seen[1].2[0]["__createdtime__"], "__updatedtime__": seen[1].2[0]["__updatedtime__"]}])),
        ("shop:item".to_string(), "delete".to_string(), json!([2])),
    ]);
    // Records far past rumqttc's default packet limit (10 KiB) arrive whole.
    for (id, kib) in [(100, 100usize), (1000, 1024)] {
        client.insert("shop", "item", &[json!({"id": id, "name": "x".repeat(kib * 1024)})]).await.unwrap();
        let e = tail_until(&mut tail, "a large record", |e| matches!(e, TailEvent::Record(_) | TailEvent::Reconnecting { .. })).await;
        let TailEvent::Record(r) = e else { panic!("the tail broke on a {kib} KiB record: {e:?}") };
        let data: Value = serde_json::from_str(r.data.get()).unwrap();
        assert_eq!(data[0]["name"].as_str().map(str::len), Some(kib * 1024), "the {kib} KiB record arrived whole");
    }
    // Exporting again keeps one line per table.
    tail_mqtt::export_tables(&client, &["shop:item".into()]).await.unwrap();
    let resources = client.call(&json!({"operation": "get_component_file", "project": "switchyard_export", "file": "resources.js"})).await.unwrap();
    assert_eq!(resources["message"].as_str().map(|s| s.lines().count()), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harperdb_s_default_full_mesh_is_drawn_as_one_both_ways() {
    let _shared = crate::ALONE.read().await;
    let a = HarperDb::start_named("localhost").await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let b = HarperDb::start_named("127.0.0.1").await.expect("a second real HarperDB 4.7");
    let ca = a.client().unwrap().with_kind(ServerKind::HarperDb);
    ca.new_database("shop").await.unwrap();
    ca.new_table(&NewTable { database: "shop".into(), table: "item".into(), primary_key: "id".into(), expiration: None }).await.unwrap();
    // HarperDB's own default: add_node without subscriptions replicates every database both ways.
    let url = b.client().unwrap().with_kind(ServerKind::HarperDb).harperdb_peer_url().await.unwrap();
    ca.call(&json!({"operation": "add_node", "hostname": "127.0.0.1", "url": url, "verify_tls": false, "authorization": {"username": b.user, "password": b.password}}))
        .await
        .unwrap();
    // The table reaches B (schema replicates in a mesh), and then the canvas shows the mesh.
    let v = switchyard_testkit::eventually_some_within("an open full mesh carrying shop:item both ways", std::time::Duration::from_secs(60), async || {
        let v = hdb_view(&[("id-a", "hdb-a", &a), ("id-b", "hdb-b", &b)]).await;
        let both = |s: &str, t: &str| v.edges.iter().any(|e| e.source == s && e.target == t && e.mesh && e.state == LinkState::Open && e.channels.iter().any(|c| c.channel == "shop:item"));
        (both("id-a", "id-b") && both("id-b", "id-a")).then_some(v)
    })
    .await;
    assert_eq!(v.edges.len(), 2, "one edge each way: {v:#?}");
    for e in &v.edges {
        assert_eq!(e.channels.iter().filter(|c| c.channel == "shop:item").count(), 1, "each table drawn once per edge: {e:#?}");
        assert!(!e.channels.iter().any(|c| c.channel.starts_with("system:")), "HarperDB's system database is not table data: {e:#?}");
    }
    assert!(!v.warnings.iter().any(|w| matches!(w.kind, WarningKind::StaleLink | WarningKind::FailingLink)), "{:#?}", v.warnings);
}
