//! The studio end to end: the real app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver, against a real switchyard-node started here. Checks what is on screen and
//! what is in the server; screenshots of each main screen go to target/e2e-artifacts/.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::studio::{files_containing, Keyring, StudioApp};
use switchyard_e2e::webdriver::KEY_ENTER;

const PASSWORD: &str = "e2e-Secret-7f3a91";
pub const T: Duration = Duration::from_secs(20);
const BIG: usize = 100_000;

async fn remote_node(dir: &std::path::Path) -> Result<(switchyard_node::RunningNode, OpsClient)> {
    let (node, ops) = switchyard_testkit::launch_in(dir, "remote-e2e", 0, |c| c.admin_password = Some(PASSWORD.into())).await;
    ops.create_table("dev", "big", "id").await?;
    for chunk in (0..BIG).collect::<Vec<_>>().chunks(5_000) {
        let records: Vec<Value> = chunk.iter().map(|i| json!({"id": i, "name": format!("row {i}"), "n": i % 97})).collect();
        ops.insert("dev", "big", &records).await?;
    }
    Ok((node, ops))
}

/// The instance id the studio gave a registered instance, from the registry file.
fn registered_id(app: &StudioApp, name: &str) -> Result<String> {
    for dir in app.app_dirs() {
        let path = dir.join("instances.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: Value = serde_json::from_str(&text)?;
            if let Some(i) = v["instances"].as_array().and_then(|a| a.iter().find(|i| i["name"] == name)) {
                return Ok(i["id"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    anyhow::bail!("'{name}' is not in any instances.json under {:?}", app.app_dirs())
}

async fn journey(app: &StudioApp, ops: &OpsClient, url: &str, tls_url: &str, tls_fingerprint: &str) -> Result<()> {
    let s = app.s();

    // First launch: one ready local instance, online.
    s.wait("[data-testid='instance-local'] [data-state='online']", Duration::from_secs(30)).await.context("the first-launch local instance")?;
    app.shot("01-first-launch").await?;

    // About: the version and the folders; the log folder it names holds this run's log.
    s.click_css("[data-testid='about-open']", T).await?;
    s.wait_text("[data-testid='about-version']", T, "the version", |t| t == env!("CARGO_PKG_VERSION")).await?;
    let logs = s.wait_text("[data-testid='about-log-dir']", T, "the log folder", |t| t.ends_with("/logs")).await?;
    ensure!(logs.starts_with(&app.home.path().display().to_string()), "the log folder is the app's: {logs}");
    let log: String = std::fs::read_dir(&logs)?.filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("switchyard-studio")).map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect();
    ensure!(log.contains("Switchyard studio started"), "the log file in {logs}: {log}");
    app.shot("01a-about").await?;
    s.click_css("[data-testid='about-close']", T).await?;
    s.wait_gone("[data-testid='about-dialog']", T).await?;

    // Its session credentials reach it from outside the app.
    s.click_css("[data-testid='instance-local'] .tree-row.instance", T).await?;
    s.click_css("[data-testid='local-credentials']", T).await?;
    s.wait("[data-testid='credentials']", T).await?;
    let creds = s
        .execute("return [...document.querySelectorAll('[data-testid=credentials] input')].map(i => i.value)", json!([]))
        .await?;
    let creds: Vec<String> = serde_json::from_value(creds)?;
    ensure!(creds.len() == 3 && creds[0].starts_with("http://127.0.0.1:"), "credentials shown: {creds:?}");
    let local = OpsClient::new(&creds[0], Credentials::basic(&creds[1], &creds[2]))?;
    let info = local.registration_info().await.context("the local instance with the credentials shown")?;
    ensure!(info.kind.as_deref() == Some("switchyard-node"), "{info:?}");
    for dir in app.app_dirs() {
        ensure!(files_containing(&dir, creds[2].as_bytes()).is_empty(), "the local session password was written to disk");
    }
    s.send_keys_css("[data-testid='credentials'] input", "\u{E00C}", T).await?; // Escape closes
    s.wait_gone("[data-testid='credentials']", T).await?;

    // Register the remote instance; a wrong password gets a clear error first.
    s.click_css("[data-testid='add-remote']", T).await?;
    s.fill("[data-testid='instance-name']", "remote").await?;
    s.fill("[data-testid='instance-url']", url).await?;
    s.fill("[data-testid='instance-user']", "admin").await?;
    s.fill("[data-testid='instance-password']", "not-the-password").await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    let wrong = s.wait_text("[data-testid='test-result']", T, "a wrong-password error", |t| !t.is_empty()).await?;
    ensure!(wrong.contains("Wrong user name or password") && !wrong.contains("Login failed"), "wrong password showed (said once): {wrong}");
    // TLS choices are for https:// only.
    ensure!(s.find_all("[data-testid='instance-tls']").await?.is_empty(), "TLS options shown for {url}");
    app.shot("02-wrong-password").await?;
    s.fill("[data-testid='instance-password']", PASSWORD).await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    let ok = s.wait_text("[data-testid='test-result']", T, "a connection", |t| t.starts_with("Connected")).await?;
    ensure!(ok.contains("switchyard-node"), "test connection showed: {ok}");
    s.click_css("[data-testid='save-instance']", T).await?;
    s.wait_gone("[data-testid='instance-dialog']", T).await?;
    s.wait("[data-testid='instance-remote'] [data-state='online']", T).await.context("the remote instance goes online")?;

    // The password is in the keychain, and nowhere in the app's folders.
    let id = registered_id(app, "remote")?;
    ensure!(app.keyring_lookup(&id)?.as_deref() == Some(PASSWORD), "the keyring does not hold the password for {id}");
    for dir in app.app_dirs() {
        let hits = files_containing(&dir, PASSWORD.as_bytes());
        ensure!(hits.is_empty(), "the password is in plain text in {hits:?}");
    }

    // Saved with a wrong password, then fixed through Edit: the tree that failed is read again
    // once the instance is healthy, and its error does not stay behind.
    s.click_css("[data-testid='add-remote']", T).await?;
    s.fill("[data-testid='instance-name']", "fixme").await?;
    s.fill("[data-testid='instance-url']", url).await?;
    s.fill("[data-testid='instance-password']", "not-the-password").await?;
    s.click_css("[data-testid='save-instance']", T).await?;
    s.wait_gone("[data-testid='instance-dialog']", T).await?;
    s.wait("[data-testid='instance-fixme'] [data-state='warn']", T).await.context("a wrong password shows as a warning")?;
    s.click_css("[data-testid='instance-fixme'] .tree-row.instance", T).await?;
    let refused = s.wait_text("[data-testid='instance-fixme'] [data-testid='tree-error']", T, "the tree's error", |t| !t.is_empty()).await?;
    ensure!(refused.contains("Wrong user name or password"), "tree error: {refused}");
    s.click_css("[data-testid='instance-fixme'] [data-testid='edit-instance']", T).await?;
    s.fill("[data-testid='instance-password']", PASSWORD).await?;
    s.click_css("[data-testid='save-instance']", T).await?;
    s.wait_gone("[data-testid='instance-dialog']", T).await?;
    s.wait("[data-testid='instance-fixme'] [data-state='online']", T).await.context("fixed, the instance goes online")?;
    s.wait_gone("[data-testid='instance-fixme'] [data-testid='tree-error']", T).await.context("the tree's error goes once the password is right")?;
    s.wait("[data-testid='instance-fixme'] [data-testid='table-dev-big']", T).await.context("the tree loads")?;
    app.shot("02b-fixed-password").await?;
    // Removing is in the instance's menu, not among its everyday buttons; Escape closes it.
    s.click_css("[data-testid='instance-fixme'] [data-testid='instance-menu']", T).await?;
    s.wait("[data-testid='context-menu']", T).await?;
    s.press("\u{E00C}").await?;
    s.wait_gone("[data-testid='context-menu']", T).await?;
    s.click_css("[data-testid='instance-fixme'] [data-testid='instance-menu']", T).await?;
    app.shot("02d-instance-menu").await?;
    s.click_css("[data-testid='context-menu'] [data-testid='remove-instance']", T).await?;
    s.click_css("[data-testid='confirm-ok']", T).await?;
    s.wait_gone("[data-testid='instance-fixme']", T).await?;

    // A self-signed https:// instance: the test shows its fingerprint; trusting it connects.
    s.click_css("[data-testid='add-remote']", T).await?;
    s.fill("[data-testid='instance-name']", "secure").await?;
    s.fill("[data-testid='instance-url']", tls_url).await?;
    s.fill("[data-testid='instance-password']", PASSWORD).await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    let shown = s.wait_text("[data-testid='cert-fingerprint']", T, "the certificate fingerprint", |t| !t.is_empty()).await?;
    ensure!(shown == tls_fingerprint, "the dialog shows {shown}, the server has {tls_fingerprint}");
    let untrusted = s.wait_text("[data-testid='test-result']", T, "untrusted", |t| !t.is_empty()).await?;
    ensure!(untrusted.contains("Untrusted certificate"), "the test said {untrusted}");
    app.shot("02b-untrusted-certificate").await?;
    s.click_css("[data-testid='trust-cert']", T).await?;
    s.click_css("[data-testid='test-connection']", T).await?;
    s.wait_text("[data-testid='test-result']", T, "a connection over TLS", |t| t.starts_with("Connected")).await?;
    s.click_css("[data-testid='save-instance']", T).await?;
    s.wait("[data-testid='instance-secure'] [data-state='online']", T).await.context("the pinned https instance goes online")?;

    // Create a table through the UI.
    s.click_css("[data-testid='instance-remote'] .tree-row.instance", T).await?;
    s.click_css("[data-testid='instance-remote'] [data-testid='new-table-button']", T).await?;
    s.fill("[data-testid='table-database']", "dev").await?;
    s.fill("[data-testid='table-name']", "dog").await?;
    s.click_css("[data-testid='create-table']", T).await?;
    s.wait_text("[data-testid='table-title']", T, "dev.dog", |t| t == "dev.dog").await?;
    let d = ops.describe_table("dev", "dog").await.context("the table exists on the server")?;
    ensure!(d.hash_attribute == "id");

    // An empty table says so in its middle and offers the next steps.
    s.wait_text("[data-testid='empty-table']", T, "the empty state", |t| t.contains("no records yet")).await?;
    app.shot("02c-empty-table").await?;

    // Add a record through the form (from the empty state).
    s.click_css("[data-testid='empty-new-record']", T).await?;
    s.fill("[data-testid='field-id']", "1").await?;
    s.click_css("[data-testid='add-attribute']", T).await?;
    s.fill("[data-testid='new-attr-0']", "name").await?;
    s.fill("[data-testid='field-name']", "Rex").await?;
    app.shot("03-record-form").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [1], "get_attributes": ["*"]})).await?;
    ensure!(rows[0]["name"] == "Rex", "server has {rows}");
    s.wait_text("[data-testid='grid']", T, "Rex", |t| t.contains("Rex")).await?;

    // Edit it: select the row, Enter opens the form.
    s.click_css("[data-testid='grid'] .grid-row[data-index='0']", T).await?;
    s.send_keys_css("[data-testid='grid']", KEY_ENTER, T).await?;
    s.wait("[data-testid='record-form']", T).await?;
    s.fill("[data-testid='field-name']", "Max").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [1], "get_attributes": ["*"]})).await?;
    ensure!(rows[0]["name"] == "Max", "server has {rows} after the edit");
    s.wait_text("[data-testid='grid']", T, "Max", |t| t.contains("Max") && !t.contains("Rex")).await?;
    s.wait_gone("[data-testid='empty-table']", T).await?;
    // Numbers align right; a column fits its content on a double-click of its border, and keeps
    // that width when the table is opened again.
    let kind: Value = s.execute("return document.querySelector(\"[data-testid='grid'] .grid-row[data-index='0'] .grid-cell\").className;", json!([])).await?;
    ensure!(kind.as_str().is_some_and(|c| c.contains("k-number")), "the id cell is {kind}");
    let width = |s: &Value| s.as_f64().unwrap_or(0.0);
    let before = s.execute("return document.querySelector(\"[data-testid='col-name']\").getBoundingClientRect().width;", json!([])).await?;
    s.double_click_css("[data-testid='resize-name']", T).await?;
    let mut fitted = before.clone();
    for _ in 0..50 {
        fitted = s.execute("return document.querySelector(\"[data-testid='col-name']\").getBoundingClientRect().width;", json!([])).await?;
        if width(&fitted) < width(&before) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(width(&fitted) < width(&before) && width(&fitted) >= 48.0, "the name column went from {before} to {fitted} wide");
    // Columns move: a header dragged onto another takes its place, Alt+→ on a focused header
    // steps it back; the order is kept per table, and Reset columns forgets it.
    const ORDER: &str = "return [...document.querySelectorAll(\"[data-testid='grid'] .grid-cell.head\")].map(c => c.dataset.column);";
    // The header order once its first column is `first` (5 s at most), else as it stands.
    let order_once = async |first: &str| -> Result<Value> {
        let mut order = s.execute(ORDER, json!([])).await?;
        for _ in 0..50 {
            if order[0] == first {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            order = s.execute(ORDER, json!([])).await?;
        }
        Ok(order)
    };
    let natural = s.execute(ORDER, json!([])).await?;
    ensure!(natural[0] == "id" && natural[1] == "name", "columns before a move: {natural}");
    s.drag("[data-testid='col-name']", "[data-testid='col-id']").await?;
    let moved = order_once("name").await?;
    ensure!(moved[0] == "name" && moved[1] == "id", "after dragging name onto id: {moved}");
    let kept = s
        .execute("return Object.entries(JSON.parse(localStorage.getItem('switchyard.columnOrder'))).filter(([k]) => k.endsWith('/dev/dog')).map(([, v]) => v);", json!([]))
        .await?;
    ensure!(kept == json!([moved]), "kept orders {kept}, shown {moved}");
    ensure!(s.find_all("[data-testid='grid'] [aria-sort]").await?.is_empty(), "the drag sorted the grid");
    // Alt, →: WebDriver holds a modifier down until the end of the keys.
    s.send_keys_css("[data-testid='col-name']", "\u{E00A}\u{E014}", T).await?;
    let stepped = order_once("id").await?;
    ensure!(stepped[0] == "id" && stepped[1] == "name", "after Alt+→ on name: {stepped}");
    s.drag("[data-testid='col-id']", "[data-testid='col-name']").await?;
    s.click_css("[data-testid='reset-columns']", T).await?;
    s.wait_gone("[data-testid='reset-columns']", T).await?;
    let reset = s.execute(ORDER, json!([])).await?;
    ensure!(reset == natural, "after Reset columns: {reset}, the table's own order {natural}");
    // Date-times follow the zone chosen in the title bar: in UTC the server's timestamp reads as
    // its ISO time (and back to local time after).
    s.click_css("[data-testid='zone-toggle']", T).await?;
    s.wait_text("[data-testid='zone-toggle']", T, "UTC", |t| t == "UTC").await?;
    let pair = s
        .execute(
            "const c = document.querySelector(\"[data-testid='grid'] .grid-row[data-index='0'] .grid-cell.k-date\");\
             const ms = Number(c.title.split(' · ').pop());\
             return [c.textContent, new Date(ms).toISOString().replace('T', ' ').replace('Z', ''), c.title];",
            json!([]),
        )
        .await?;
    ensure!(pair[0] == pair[1] && pair[2].as_str().is_some_and(|t| t.contains(" UTC · ")), "a date cell in UTC: {pair}");
    s.click_css("[data-testid='zone-toggle']", T).await?;
    s.wait_text("[data-testid='zone-toggle']", T, "local time", |t| t.starts_with("Local time (UTC")).await?;
    app.shot("04-table").await?;

    // Delete it, with confirmation.
    s.click_css("[data-testid='grid'] .grid-row[data-index='0']", T).await?;
    s.send_keys_css("[data-testid='grid']", KEY_ENTER, T).await?;
    s.click_css("[data-testid='delete-record']", T).await?;
    s.wait("[data-testid='confirm']", T).await?;
    app.shot("05-confirm-delete").await?;
    s.click_css("[data-testid='confirm-ok']", T).await?;
    s.wait_text("[data-testid='toast-info']", T, "the deletion", |t| t.contains("Deleted")).await?;
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [1], "get_attributes": ["*"]})).await?;
    ensure!(rows.as_array().is_some_and(|a| a.is_empty()), "server still has {rows}");
    s.wait_text("[data-testid='record-count']", T, "0 records", |t| t == "0 records").await?;

    // Import a CSV with a progress bar and a summary: ragged rows are named by the line they are
    // on (after a quoted field that spans two lines), not written, and can be saved to fix.
    let csv = app.home.path().join("dogs.csv");
    std::fs::write(&csv, "id,name,age\n10,\"Bo\nthe dog\",3\n11,Ty,5\n12,Zed\n13,Al,2,extra\n")?;
    s.click_css("[data-testid='import']", T).await?;
    s.send_keys_css("[data-testid='import-file']", &csv.display().to_string(), T).await?;
    s.wait_text("[data-testid='import-parsed']", T, "the parsed file", |t| t.contains("dogs.csv")).await?;
    // Before anything is written: the first rows, each column's type, and the key column.
    let shown = s.wait_text("[data-testid='import-preview']", T, "the preview", |t| t.contains("age")).await?;
    ensure!(shown.contains("number") && shown.contains("text") && shown.contains("Ty"), "preview: {shown:?}");
    let key = s.execute("return document.querySelector(\"[data-testid='import-key']\").value;", json!([])).await?;
    ensure!(key == json!("id"), "the key column offered is {key}");
    app.shot("05a-import-preview").await?;
    let rejected = s.wait_text("[data-testid='import-rejected']", T, "the unreadable rows", |t| t.contains("line 6")).await?;
    ensure!(
        rejected.contains("line 5: too few fields: expected 3, found 2") && rejected.contains("line 6: too many fields: expected 3, found 4"),
        "rejected rows named {rejected:?}"
    );
    s.click_css("[data-testid='import-save-rejected']", T).await?;
    let saved = s.wait_text("[data-testid='toast-info']:last-child > span", T, "the saved rows", |t| t.contains("unreadable rows to")).await?;
    let path = saved.split(" to ").nth(1).map(str::trim).context("the saved file's path")?;
    let contents = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    ensure!(contents == "id,name,age\n12,Zed\n13,Al,2,extra\n", "saved rows: {contents:?}");
    s.click_css("[data-testid='import-run']", T).await?;
    let summary = s.wait_text("[data-testid='import-summary']", T, "the import summary", |t| t.contains("Wrote")).await?;
    app.shot("05b-import").await?;
    let n = ops.describe_table("dev", "dog").await?.record_count;
    ensure!(summary.contains(&format!("Wrote {n} records")), "summary {summary:?}, server has {n}");
    ensure!(n >= 2 && summary.contains("could not be read"), "summary {summary:?}");
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [10, 11], "get_attributes": ["*"]})).await?;
    ensure!(rows.as_array().map(Vec::len) == Some(2) && rows[0]["age"].is_number(), "imported rows: {rows}");
    s.click_css("[data-testid='import-dialog'] button[type='button']:not([data-testid])", T).await?;
    s.wait_gone("[data-testid='import-dialog']", T).await?;

    // One count for a table: a record written elsewhere, then Reload, shows in the table's header
    // and in the sidebar alike.
    ops.insert("dev", "dog", &[json!({"id": 20, "name": "Elsewhere"})]).await?;
    s.click_css("[data-testid='reload']", T).await?;
    let want = format!("{}", n + 1);
    s.wait_text("[data-testid='record-count']", T, "the new count", |t| t == format!("{want} records")).await?;
    s.wait_text("[data-testid='table-dev-dog'] .count", T, "the sidebar's new count", |t| t == want).await?;
    // F5 refreshes the instance in view (its status and tree) and does not reload the window.
    ops.insert("dev", "dog", &[json!({"id": 21, "name": "Elsewhere too"})]).await?;
    s.send_keys_css("[data-testid='reload']", "\u{E035}", T).await?;
    let want = format!("{}", n + 2);
    s.wait_text("[data-testid='table-dev-dog'] .count", T, "the count after F5", |t| t == want).await?;
    s.wait_text("[data-testid='table-title']", T, "the table still open", |t| t == "dev.dog").await?;
    // Written elsewhere and nothing pressed (rows that arrive by replication): the open tree's
    // counts are read again every 10 s, the table's header follows the tree.
    ops.insert("dev", "dog", &[json!({"id": 22, "name": "Replicated"})]).await?;
    let want = format!("{}", n + 3);
    s.wait_text("[data-testid='table-dev-dog'] .count", T, "the count read again on its own", |t| t == want).await?;
    s.wait_text("[data-testid='record-count']", T, "the header's count", |t| t == format!("{want} records")).await?;

    // The 100k-row table: open it, then jump to the last page.
    s.click_css("[data-testid='table-dev-big']", T).await?;
    s.wait_text("[data-testid='position']", T, "the first rows", |t| t.starts_with("rows 1–") && t.ends_with("of 100,000")).await?;
    s.click_css("[data-testid='last-page']", T).await?;
    let pos = s.wait_text("[data-testid='position']", T, "the last rows", |t| t.contains("–100,000 of 100,000")).await?;
    let grid = s.wait_text("[data-testid='grid']", T, "the last key", |t| t.contains("row 99999")).await?;
    ensure!(!grid.contains("row 0"), "the first row is still shown at {pos}");
    // Scrolling up from the last page loads the rows before it, by key.
    // (The jump to the end settles over a few frames, so scroll up until the rows above arrive.)
    let mut seen = false;
    for _ in 0..80 {
        let t = s
            .execute("const g = document.querySelector('[data-testid=grid] .grid-scroll'); g.scrollTop = 0; return g.innerText;", json!([]))
            .await?;
        if t.as_str().is_some_and(|t| t.contains("row 99799")) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ensure!(seen, "scrolling up from the last page never showed the rows before it");
    ensure!(s.find_all("[data-testid='table-error']").await?.is_empty(), "the table view shows an error");
    app.shot("06-last-page").await?;

    // A record edited far down the table: after the save the view stays where it was (the rows
    // around it read again), with the saved record selected and showing its new value. First the
    // view is scrolled to the window's middle and settles: no page being read, holding still.
    const POSITION: &str = "return document.querySelector(\"[data-testid='position']\").textContent;";
    let mut before = String::new();
    for _ in 0..40 {
        let probe = s.execute(&format!("const g = document.querySelector('[data-testid=grid] .grid-scroll'); g.scrollTop = g.scrollHeight / 2; {POSITION}"), json!([])).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pos = s.execute(POSITION, json!([])).await?;
        if probe == pos && s.find_all(".pager .spinner").await?.is_empty() {
            before = pos.as_str().unwrap_or_default().to_string();
            break;
        }
    }
    ensure!(before.starts_with("rows 99,") && before.ends_with("of 100,000"), "the view near the end never settled: {before:?}");
    let middle = s
        .execute(
            "const r = document.querySelector('[data-testid=grid] .grid-scroll').getBoundingClientRect();\
             const row = document.elementFromPoint(r.left + 20, r.top + r.height / 2).closest('.grid-row');\
             return [row.dataset.index, row.innerText];",
            json!([]),
        )
        .await?;
    let index = middle[0].as_str().context("the middle row's index")?.to_string();
    let name = middle[1].as_str().and_then(|t| t.split(['\t', '\n']).find(|w| w.starts_with("row "))).context("the middle row's name")?.to_string();
    s.click_css(&format!("[data-testid='grid'] .grid-row[data-index='{index}']"), T).await?;
    s.send_keys_css("[data-testid='grid']", KEY_ENTER, T).await?;
    s.wait("[data-testid='record-form']", T).await?;
    s.fill("[data-testid='field-name']", &format!("{name} edited")).await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    let selected = format!("[data-testid='grid'] .grid-row.selected[data-index='{index}']");
    s.wait_text(&selected, T, "the saved record selected where it was", |t| t.contains(&format!("{name} edited"))).await?;
    let after = s.execute(POSITION, json!([])).await?;
    ensure!(after == json!(before), "the view moved from {before:?} to {after:?} after the save");
    app.shot("06a-edited-in-place").await?;
    // A record added past the rows around the view: the view goes to it, selected at the top.
    s.click_css("[data-testid='new-record']", T).await?;
    s.fill("[data-testid='field-id']", "100500").await?;
    s.fill("[data-testid='field-name']", "row added").await?;
    s.fill("[data-testid='field-n']", "50").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    s.wait_text("[data-testid='grid'] .grid-row.selected", T, "the added record selected", |t| t.contains("row added")).await?;
    // The last record: its place is known from the count, though it was read from a key.
    let shown = s.wait_text("[data-testid='position']", T, "the added record's place", |t| t.starts_with("rows ") && t.ends_with("–100,001 of 100,001")).await?;
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "big", "ids": [100500], "get_attributes": ["*"]})).await?;
    ensure!(rows[0]["name"] == "row added" && rows[0]["n"] == 50, "server has {rows} ({shown})");
    app.shot("06a2-added-shown").await?;
    // Deleted again with the Delete key: the table holds its 100,000 once more.
    s.send_keys_css("[data-testid='grid']", "\u{E017}", T).await?;
    s.click_css("[data-testid='confirm-ok']", T).await?;
    s.wait_text("[data-testid='position']", T, "the count after the delete", |t| t.ends_with("of 100,000")).await?;
    let rows = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "big", "ids": [100500], "get_attributes": ["*"]})).await?;
    ensure!(rows.as_array().is_some_and(|a| a.is_empty()), "server still has {rows}");

    // Sort on the server by another column, then filter a column on the server.
    s.click_css("[data-testid='col-n']", T).await?;
    s.wait_text("[data-testid='grid'] .grid-row[data-index='0']", T, "the smallest n first", |t| t.contains("row 0")).await?;
    s.click_css("[data-testid='col-n']", T).await?;
    s.wait_text("[data-testid='grid'] .grid-row[data-index='0']", T, "the largest n first", |t| t.contains("\n96\n") || t.contains("\t96\t") || t.split_whitespace().any(|w| w == "96")).await?;
    s.fill("[data-testid='filter-name']", &format!("row 4242{KEY_ENTER}")).await?;
    let pos = s.wait_text("[data-testid='position']", T, "the filtered rows", |t| t == "rows 1–11").await?;
    let grid = s.wait_text("[data-testid='grid']", T, "only matching rows", |t| t.contains("row 42429")).await?;
    ensure!(!grid.contains("row 99999") && !grid.contains("row 0\n"), "rows outside the filter are shown ({pos})");
    app.shot("06b-filtered").await?;

    crate::studio_sql::sql_keyboard_and_dark_theme(app).await?;
    // Every screen shot above, audited by axe-core as it was shot.
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn studio_registers_edits_pages_and_keeps_secrets_in_the_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let (node, ops) = remote_node(dir.path()).await.expect("the remote switchyard-node");
    let tls_dir = tempfile::tempdir().unwrap();
    let (secure, _) = switchyard_testkit::launch_in(tls_dir.path(), "secure-e2e", 0, |c| {
        c.admin_password = Some(PASSWORD.into());
        c.tls = true;
    })
    .await;
    let fingerprint = secure.node.tls.as_ref().expect("tls").fingerprint.clone();
    StudioApp::journey("studio_journey", Keyring::Unlocked, async |app| journey(app, &ops, &node.url(), &secure.url(), &fingerprint).await).await;
    node.stop().await;
    secure.stop().await;
}

/// Without any keychain the studio says so and refuses to keep a password, rather than writing it
/// to disk; nothing is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_passwords_are_refused_not_written() {
    StudioApp::journey("no_keychain", Keyring::Absent, async |app| {
        let s = app.s();
        let chip = s.wait_text("[data-testid='keychain-warning']", T, "the keychain warning", |t| !t.is_empty()).await?;
        ensure!(chip.contains("No keychain"), "title bar shows {chip}");
        s.click_css("[data-testid='add-remote']", T).await?;
        s.wait("[data-testid='no-keychain']", T).await.context("the dialog explains that passwords cannot be saved")?;
        s.fill("[data-testid='instance-name']", "nokeys").await?;
        s.fill("[data-testid='instance-url']", "http://127.0.0.1:9").await?;
        s.fill("[data-testid='instance-password']", PASSWORD).await?;
        s.click_css("[data-testid='save-instance']", T).await?;
        let err = s.wait_text("[data-testid='toast-error']", T, "the refusal", |t| !t.is_empty()).await?;
        ensure!(err.contains("No keychain") && err.contains("not saved"), "the error says: {err}");
        app.shot("01-refused").await?;
        ensure!(s.find_all("[data-testid='instance-nokeys']").await?.is_empty(), "the instance was registered anyway");
        for dir in app.app_dirs() {
            let hits = files_containing(&dir, PASSWORD.as_bytes());
            ensure!(hits.is_empty(), "the password is in plain text in {hits:?}");
            let hits = files_containing(&dir, b"nokeys");
            ensure!(hits.is_empty(), "the refused instance was stored in {hits:?}");
        }
        Ok(())
    })
    .await;
}
