//! The studio's status, browse, forms and SQL against a real HarperDB 4.7 (from npm, installed
//! by `make test`): the client tells the server's kind and reads its quirks into the studio's
//! shapes and error codes (each one a difference in `switchyard_client::DIFFERENCES`).

use serde_json::{json, Value};
use switchyard_client::{Credentials, ServerKind};
use switchyard_e2e::harperdb::HarperDb;
use switchyard_protocol::ErrorCode;
use switchyard_studio::{probe, Browse, NewTable, PageAnchor, PageRequest, WriteMode};

fn page(anchor: PageAnchor, limit: u32) -> PageRequest {
    PageRequest { database: "shop".into(), table: "item".into(), primary_key: "id".into(), sort: None, filters: vec![], anchor, limit }
}

fn ids(rows: &[Value]) -> Vec<Value> {
    rows.iter().map(|r| r["id"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_reads_and_writes_a_real_harperdb_4_7_through_its_adapter() {
    let hdb = HarperDb::start().await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let raw = hdb.client().unwrap();

    // Status: the kind is told from registration_info, and the credentials are checked.
    assert_eq!(raw.detect_kind().await.unwrap(), ServerKind::HarperDb);
    let ok = probe::status("h", &raw).await;
    assert!(ok.online && ok.error.is_none(), "{ok:?}");
    assert_eq!(ok.server_kind.as_deref(), Some("harperdb"));
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
}
