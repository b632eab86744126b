//! Two real HarperDB 4.7 instances (from npm) managed from the real app (Xvfb, tauri-driver):
//! registered through the dialog (a wrong password refused even on loopback, where HarperDB's
//! dev mode lets any request in), browsed, a record added and edited through the form, the two
//! wired on the canvas by dragging one onto the other (HarperDB's own add_node, with its note),
//! a record written on one arriving on the other, and the table tailed over MQTT on the other
//! once the user agreed to export it.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::json;
use switchyard_client::ServerKind;
use switchyard_e2e::harperdb::HarperDb;
use switchyard_e2e::studio::{Keyring, StudioApp};
use switchyard_testkit::until;

const T: Duration = Duration::from_secs(30);

async fn journey(app: &StudioApp, a: &HarperDb, b: &HarperDb) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", Duration::from_secs(60)).await.context("the first-launch local instance")?;

    // A wrong password is refused even on loopback.
    s.click_css("[data-testid='add-remote']", T).await?;
    s.fill("[data-testid='instance-name']", "hdb-a").await?;
    s.fill("[data-testid='instance-url']", &a.url).await?;
    s.fill("[data-testid='instance-user']", &a.user).await?;
    s.fill("[data-testid='instance-password']", "not-the-password").await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    let wrong = s.wait_text("[data-testid='test-result']", T, "a wrong-password error", |t| !t.is_empty()).await?;
    ensure!(wrong.contains("Wrong user name or password"), "HarperDB with a wrong password showed: {wrong}");
    app.shot("01-wrong-password").await?;
    s.fill("[data-testid='instance-password']", &a.password).await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    let ok = s.wait_text("[data-testid='test-result']", T, "a connection", |t| t.starts_with("Connected")).await?;
    ensure!(ok.contains("harperdb") && ok.contains("4.7"), "test connection showed: {ok}");
    s.click_css("[data-testid='save-instance']", T).await?;
    s.wait("[data-testid='instance-hdb-a'] [data-state='online']", T).await.context("hdb-a goes online")?;
    app.register_remote("hdb-b", &b.url, &b.password).await.context("hdb-b registered")?;

    // Browse hdb-a's table, add a record through the form, then edit it.
    s.click_css("[data-testid='instance-hdb-a'] .tree-row.instance", T).await?;
    s.click_css("[data-testid='instance-hdb-a'] [data-testid='table-shop-item']", T).await?;
    s.wait_text("[data-testid='table-title']", T, "shop.item", |t| t == "shop.item").await?;
    s.wait_text("[data-testid='record-count']", T, "one record", |t| t == "1 record").await?;
    s.click_css("[data-testid='new-record']", T).await?;
    s.fill("[data-testid='field-id']", "2").await?;
    s.fill("[data-testid='field-name']", "washer").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    let ca = a.client()?.with_kind(ServerKind::HarperDb);
    let row = ca.call(&json!({"operation": "search_by_id", "database": "shop", "table": "item", "ids": [2], "get_attributes": ["name"]})).await?;
    ensure!(row == json!([{"name": "washer"}]), "hdb-a has {row} after the form's insert");
    s.wait_text("[data-testid='grid']", T, "the new row", |t| t.contains("washer")).await?;
    s.click_css("[data-testid='grid'] .grid-row[data-index='1']", T).await?;
    s.send_keys_css("[data-testid='grid']", switchyard_e2e::webdriver::KEY_ENTER, T).await?;
    s.wait("[data-testid='record-form']", T).await?;
    s.fill("[data-testid='field-name']", "washer M6").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    let row = ca.call(&json!({"operation": "search_by_id", "database": "shop", "table": "item", "ids": [2], "get_attributes": ["name"]})).await?;
    ensure!(row == json!([{"name": "washer M6"}]), "hdb-a has {row} after the form's edit");
    // The table read again after the save: the position names both rows in view.
    s.wait_text("[data-testid='position']", T, "both rows in view", |t| t == "rows 1–2 of 2").await?;
    app.shot("02-harperdb-table").await?;

    // Wire hdb-a → hdb-b on the canvas: HarperDB's own add_node, its note, then replication.
    s.click_css("[data-testid='open-cluster']", T).await?;
    for n in ["hdb-a", "hdb-b"] {
        s.wait(&format!("[data-testid='topo-node-{n}']"), T).await.with_context(|| format!("{n} on the canvas"))?;
    }
    s.wait("[data-testid='topo-node-hdb-b'] .react-flow__handle-left", T).await?;
    s.drag("[data-testid='topo-node-hdb-a'] .react-flow__handle-right", "[data-testid='topo-node-hdb-b'] .react-flow__handle-left").await?;
    s.wait("[data-testid='topo-dialog']", T).await.context("dragging hdb-a onto hdb-b opens the link dialog")?;
    s.click_css("[data-testid='topo-channel-shop:item'] input[type=checkbox]", T).await?;
    let plan = s.wait_text("[data-testid='topo-plan']", T, "the plan", |t| t.contains("add_node")).await?;
    ensure!(
        plan.contains("\"hostname\": \"127.0.0.1\"") && plan.contains(&format!("wss://127.0.0.1:{}", b.replication_port)) && plan.contains("\"verify_tls\": false") && plan.contains("********"),
        "HarperDB's add_node form, its password masked: {plan}"
    );
    let notes = s.wait_text("[data-testid='topo-plan-notes']", T, "HarperDB's caveat", |t| t.contains("discouraged")).await?;
    ensure!(!plan.contains(&b.password), "the password is shown: {plan}");
    app.shot("03-harperdb-link-dialog").await?;
    s.click_css("[data-testid='topo-apply']", T).await?;
    let report = s.wait_text("[data-testid='topo-report']", T, "the apply report", |t| t.contains("Applied") || t.contains("Not applied")).await?;
    ensure!(report.contains("Applied:"), "the apply failed: {report} (notes: {notes})");
    s.click_css("[data-testid='topo-cancel']", T).await?;

    let cb = b.client()?.with_kind(ServerKind::HarperDb);
    let next = std::sync::atomic::AtomicI64::new(100);
    until("a record written on hdb-a reaches hdb-b", Duration::from_secs(60), Duration::from_millis(500), async || {
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ca.upsert("shop", "item", &[json!({"id": id, "name": "from hdb-a"})]).await?;
        let seen = cb.call(&json!({"operation": "search_by_value", "database": "shop", "table": "item", "search_attribute": "id", "search_value": "*", "get_attributes": ["id"]})).await?;
        Ok::<_, anyhow::Error>(seen.as_array().is_some_and(|r| r.iter().any(|x| x["id"].as_i64().is_some_and(|id| id >= 100))).then_some(()))
    })
    .await?;
    let label = s.wait_text("[data-testid='topo-edge-hdb-a-hdb-b']", T, "the edge hdb-a → hdb-b", |t| t.contains("shop:item")).await?;
    ensure!(s.find_all("[data-testid='topo-edge-hdb-b-hdb-a']").await?.is_empty(), "nothing flows back from hdb-b: {label}");
    // HarperDB reports no log positions: no rate is made up for it.
    ensure!(label.contains("rate n/a"), "the edge label claims a rate: {label}");
    let writes = s.wait_text("[data-testid='topo-writes-hdb-a']", T, "hdb-a's write rate", |t| !t.is_empty()).await?;
    ensure!(writes == "write rate not reported", "hdb-a's write rate reads {writes:?}");
    app.shot("04-harperdb-linked").await?;
    let (labels, over) = app.labels_over_nodes().await?;
    anyhow::ensure!(labels >= 1 && over.is_empty(), "the HarperDB edge's {labels} labels sit clear of the nodes: {over:?}");

    // Verify the HarperDB edge: no digest, so both tables are read whole, and the dialog says so
    // (coverage "read every record"), with a verdict and no error.
    s.click_css("[data-testid='topo-edge-hdb-a-hdb-b']", T).await?;
    s.click_css("[data-testid='verify-hdb-a-hdb-b']", T).await?;
    let verdict = s.wait_attr("[data-testid='verify-result']", "data-verdict", Duration::from_secs(60), |v| v == "inSync" || v == "differs").await.context("Verify of two HarperDB instances answers")?;
    let coverage = s.wait_text("[data-testid='verify-coverage']", T, "what Verify read", |t| !t.is_empty()).await?;
    ensure!(coverage.starts_with("Read every record of each node") && coverage.contains("HarperDB keeps no digest"), "the coverage: {coverage}");
    let summary = s.wait_text("[data-testid='verify-summary']", T, "the verdict", |t| !t.is_empty()).await?;
    ensure!(summary.contains("record"), "a {verdict} verdict in words: {summary}");
    app.shot("04b-harperdb-verify").await?;
    if verdict == "differs" {
        // HarperDB did not carry what hdb-a held before the link: copied when the user asks.
        s.click_css("[data-testid='repair-copy-missing']", T).await?;
        let plan = s.wait_text("[data-testid='repair-plan']", T, "the repair plan", |t| !t.is_empty()).await?;
        ensure!(plan.contains("hdb-b"), "missing records are written to hdb-b: {plan}");
        s.click_css("[data-testid='repair-apply']", T).await?;
        s.wait_text("[data-testid='topo-report']", T, "the repair's report", |t| t.contains("Applied")).await?;
        let after = s.wait_attr("[data-testid='verify-result']", "data-verdict", Duration::from_secs(60), |v| v == "inSync" || v == "differs").await?;
        let summary = s.wait_text("[data-testid='verify-summary']", T, "the verdict after the repair", |t| !t.is_empty()).await?;
        ensure!(after == "inSync", "repaired, verified again: {summary}");
        app.shot("04c-harperdb-repaired").await?;
    }
    s.press(switchyard_e2e::webdriver::KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='verify-dialog']", T).await?;

    // Tail shop:item on hdb-b: not exported, so HarperDB publishes nothing; the studio says so
    // and exports it only once the user agrees; then inserts (replicated from hdb-a) arrive.
    s.click_css("[data-testid='instance-hdb-b'] [data-testid='open-tail']", T).await?;
    s.fill("[data-testid='tail-channels']", "shop:item").await?;
    s.click_css("[data-testid='tail-start']", T).await?;
    let offer = s.wait_text("[data-testid='tail-not-exported']", T, "the export offer", |t| t.contains("shop:item")).await?;
    ensure!(offer.contains("set_component_file") && offer.contains("restarts"), "the offer says what it will do: {offer}");
    app.shot("05-harperdb-tail-not-exported").await?;
    s.click_css("[data-testid='tail-export-tables']", T).await?;
    s.wait("[data-testid='confirm']", T).await.context("the export asks first")?;
    s.click_css("[data-testid='confirm-ok']", T).await?;
    s.wait_text("[data-testid='toast-info']", Duration::from_secs(60), "the export", |t| t.contains("Exported shop.item")).await?;
    s.wait_text("[data-testid='tail-state']", T, "live", |t| t == "live").await?;
    s.wait_gone("[data-testid='tail-not-exported']", T).await?;
    ca.insert("shop", "item", &[json!({"id": 500, "name": "tailed on hdb-b"})]).await?;
    s.wait_text("[data-testid='tail-view']", Duration::from_secs(60), "the insert made on hdb-a, on hdb-b's tail", |t| t.contains("tailed on hdb-b")).await?;
    app.shot("06-harperdb-tail").await?;
    // Its operation filter offers what a HarperDB tail shows (put and delete), and put keeps the row.
    let offered: Vec<String> = serde_json::from_value(
        s.execute("return [...document.querySelectorAll('[data-testid=tail-filter-operation] option')].map(o => o.value).filter(v => v)", json!([])).await?,
    )?;
    ensure!(offered == ["put", "delete"], "a HarperDB tail's operation filter offers {offered:?}");
    s.execute("const e = document.querySelector('[data-testid=tail-filter-operation]'); e.value = 'put'; e.dispatchEvent(new Event('change', { bubbles: true }));", json!([])).await?;
    s.wait_text("[data-testid='tail-count']", T, "the put filter hiding nothing", |t| t.contains("shown") && !t.contains("hidden")).await?;
    s.wait_text("[data-testid='tail-view']", T, "the put row under the put filter", |t| t.contains("tailed on hdb-b")).await?;
    // Every screen shot above, audited by axe-core as it was shot.
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_real_harperdb_instances_are_registered_browsed_edited_and_wired_from_the_app() {
    let a = HarperDb::start_named("localhost").await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let b = HarperDb::start_named("127.0.0.1").await.expect("a second real HarperDB 4.7");
    for h in [&a, &b] {
        let c = h.client().unwrap().with_kind(ServerKind::HarperDb);
        c.call(&json!({"operation": "create_table", "database": "shop", "table": "item", "primary_key": "id"})).await.unwrap();
        c.call(&json!({"operation": "create_attribute", "database": "shop", "table": "item", "attribute": "name"})).await.unwrap();
    }
    a.client().unwrap().insert("shop", "item", &[json!({"id": 1, "name": "bolt"})]).await.unwrap();
    StudioApp::journey("harperdb_app", Keyring::Unlocked, async |app| journey(app, &a, &b).await).await;
}
