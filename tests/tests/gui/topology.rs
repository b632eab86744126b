//! The Cluster view end to end in the real app (Xvfb, tauri-driver): the local cluster
//! (edge-1, edge-2, hq); drag edge-1 → hq, choose dev:sensor_data flowing to hq, apply; a
//! record inserted on edge-1 through the API appears on hq and the edge shows it; add
//! dev:config flowing hq → edge-1 on the same link; stop edge-1, insert on hq, start edge-1,
//! the record arrives; Tab reaches every node and edge, Enter selects, Escape clears; remove the
//! edge (Delete), new records no longer flow; an apply whose dialler went away reports its error
//! and leaves nothing behind. Screenshots of the canvas in light and dark.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use switchyard_client::OpsClient;
use switchyard_e2e::studio::{Keyring, StudioApp};
use switchyard_e2e::webdriver::{KEY_CONTROL, KEY_DELETE, KEY_ENTER, KEY_ESCAPE, KEY_TAB};

const T: Duration = Duration::from_secs(30);


async fn count(ops: &OpsClient, table: &str) -> u64 {
    match ops.describe_table("dev", table).await {
        Ok(d) => d.record_count,
        Err(_) => 0,
    }
}

async fn until(what: &str, check: impl AsyncFn() -> Result<bool>) -> Result<()> {
    switchyard_testkit::until(what, T, Duration::from_millis(200), async || Ok(check().await?.then_some(()))).await
}

/// Applies the open dialog's plan (with its button, or Ctrl+Enter in the field `keys_in`) and
/// waits for its report.
async fn apply_with(app: &StudioApp, keys_in: Option<&str>) -> Result<String> {
    let s = app.s();
    s.wait("[data-testid='topo-plan']", T).await.context("the plan is shown before anything is sent")?;
    match keys_in {
        Some(css) => s.send_keys_css(css, &format!("{KEY_CONTROL}{KEY_ENTER}"), T).await?,
        None => s.click_css("[data-testid='topo-apply']", T).await?,
    }
    let report = s.wait_text("[data-testid='topo-report']", T, "the apply report", |t| t.contains("Applied") || t.contains("Not applied")).await?;
    ensure!(report.contains("Applied:"), "the apply failed: {report}");
    s.click_css("[data-testid='topo-cancel']", T).await?;
    s.wait_gone("[data-testid='topo-report']", T).await?;
    Ok(report)
}

async fn apply(app: &StudioApp) -> Result<String> {
    apply_with(app, None).await
}

/// The accessible names of what Tab focuses, from the canvas on, one round (80 presses at most).
async fn tab_through(app: &StudioApp) -> Result<Vec<String>> {
    let s = app.s();
    s.click_css(".react-flow__pane", T).await?;
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..80 {
        s.press(KEY_TAB).await?;
        let label = focused_label(app).await?;
        if label.is_empty() && !seen.is_empty() {
            break; // out of the canvas
        }
        if seen.contains(&label) {
            break;
        }
        if !label.is_empty() {
            seen.push(label);
        }
    }
    Ok(seen)
}

/// The focused element's accessible name, if it is a node or an edge of the canvas.
async fn focused_label(app: &StudioApp) -> Result<String> {
    let v = app
        .s()
        .execute("const a = document.activeElement; return a && a.closest('.react-flow__node, .react-flow__edge') ? (a.getAttribute('aria-label') || '') : '';", json!([]))
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Tabs from the canvas's start until the element whose accessible name starts with `prefix`
/// has the focus.
async fn focus_by_tab(app: &StudioApp, prefix: &str) -> Result<()> {
    let s = app.s();
    s.click_css(".react-flow__pane", T).await?;
    for _ in 0..80 {
        s.press(KEY_TAB).await?;
        if focused_label(app).await?.starts_with(prefix) {
            return Ok(());
        }
    }
    anyhow::bail!("Tab never reached '{prefix}'")
}

/// Where the focus is: the data-testid of the focused element or of the dialog holding it.
async fn focus_in(app: &StudioApp) -> Result<(String, bool)> {
    let v = app
        .s()
        .execute("const a = document.activeElement; return [a ? (a.dataset.testid || a.tagName) : '', !!(a && a.closest('[role=dialog]'))];", json!([]))
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Linking without a mouse: a node selected with the keyboard offers "Link to…"; its dialog
/// opens on a field, keeps Tab inside however far one tabs, and gives the focus back on Escape.
async fn keyboard_link(app: &StudioApp) -> Result<()> {
    let s = app.s();
    focus_by_tab(app, "edge-2, ").await?;
    s.press(KEY_ENTER).await?;
    s.wait_text("[data-testid='topo-node-panel'] h3", T, "Enter selects edge-2", |t| t == "edge-2").await?;
    s.send_keys_css("[data-testid='topo-link-to-target']", "hq", T).await?;
    let chosen = s.execute("return document.querySelector('[data-testid=topo-link-to-target]').selectedOptions[0].textContent", json!([])).await?;
    ensure!(chosen == "hq", "typing picks hq: {chosen}");
    s.send_keys_css("[data-testid='topo-link-to']", KEY_ENTER, T).await?;
    s.wait("[data-testid='topo-dialog']", T).await.context("Link to… opens the link dialog")?;
    let title = s.wait_text("[data-testid='topo-dialog'] h3", T, "the dialog's title", |t| !t.is_empty()).await?;
    ensure!(title.contains("edge-2") && title.contains("hq"), "the dialog links edge-2 and hq: {title}");
    let (first, inside) = focus_in(app).await?;
    // Its first field: the first channel's "carry" box (no filter with this few channels).
    let carry = s.execute("return document.activeElement === document.querySelector('[data-testid=topo-dialog] input')", json!([])).await?;
    ensure!(inside && carry == json!(true), "the dialog opens on its first field, not {first}");
    for i in 0..30 {
        s.press(KEY_TAB).await?;
        let (at, inside) = focus_in(app).await?;
        ensure!(inside, "Tab {} left the dialog for {at}", i + 1);
    }
    s.press(KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='topo-dialog']", T).await.context("Escape closes the dialog")?;
    let (back, _) = focus_in(app).await?;
    ensure!(back == "topo-link-to", "the focus goes back to Link to…, not {back}");
    Ok(())
}

/// A remote instance that goes away between the preview and Apply: its add_node cannot be
/// sent; the report names the node and its error, and the account made on hq for the link is
/// taken back.
async fn unreachable_dialler(app: &StudioApp, hq: &OpsClient) -> Result<()> {
    let s = app.s();
    let dir = tempfile::tempdir()?;
    let (far, far_ops) = switchyard_testkit::launch_in(dir.path(), "far", 0, |c| c.admin_password = Some("far-pw".into())).await;
    far_ops.create_table("dev", "sensor_data", "id").await?;
    app.register_remote("far", &far.url(), "far-pw").await?;
    s.click_css("[data-testid='open-cluster']", T).await?;
    s.wait("[data-testid='topo-node-far'] .react-flow__handle-right", T).await.context("the remote instance on the canvas")?;
    s.drag("[data-testid='topo-node-far'] .react-flow__handle-right", "[data-testid='topo-node-hq'] .react-flow__handle-left").await?;
    s.wait("[data-testid='topo-dialog']", T).await.context("dragging far to hq opens the link dialog")?;
    s.click_css("[data-testid='topo-channel-dev:sensor_data'] input[type=checkbox]", T).await?;
    s.wait_text("[data-testid='topo-plan']", T, "the plan", |t| t.contains("add_node")).await?;
    far.stop().await;
    s.click_css("[data-testid='topo-apply']", T).await?;
    let report = s.wait_text("[data-testid='topo-report']", T, "the apply report", |t| t.contains("Applied") || t.contains("Not applied")).await?;
    ensure!(report.contains("Not applied"), "an apply whose dialler is gone fails: {report}");
    let failed = s.wait_text("[data-testid='topo-result-2']", T, "the failed step", |t| t.contains("✗")).await?;
    ensure!(failed.contains("far") && failed.contains("add_node") && failed.len() > "✗ far add_node: ".len(), "the failing node and its error: {failed}");
    ensure!(report.contains("Taken back") && report.contains("drop_user") && report.contains("drop_role"), "what was made on hq is taken back: {report}");
    ensure!(s.find_all("[data-testid='topo-left-behind']").await?.is_empty(), "nothing left behind: {report}");
    app.shot("topology-07-unreachable").await?;
    s.click_css("[data-testid='topo-cancel']", T).await?;
    let (users, roles): (Value, Value) = (hq.call(&json!({"operation": "list_users"})).await?, hq.call(&json!({"operation": "list_roles"})).await?);
    ensure!(!users.to_string().contains("sy_link_far") && !roles.to_string().contains("sy_link_far"), "no user or role left on hq: {users} {roles}");
    Ok(())
}

/// Verify on the edge edge-1 → hq: in sync; then hq alone deletes a record and writes one
/// (dev:sensor_data does not flow from hq, so replication will never fix them): Verify lists
/// both with hq's side winning, Repair shows its plan, applies it, and Verify says in sync; the
/// edge's label says so too.
async fn verify_and_repair(app: &StudioApp, hq: &OpsClient) -> Result<()> {
    let s = app.s();
    s.click_css("[data-testid='topo-edge-edge-1-hq']", T).await?;
    s.click_css("[data-testid='verify-edge-1-hq']", T).await?;
    s.wait("[data-testid='verify-dialog']", T).await.context("Verify opens its dialog")?;
    let result = s.wait_text("[data-testid='verify-summary']", T, "the first verification", |t| !t.is_empty()).await?;
    ensure!(result.contains("in sync: 1 record"), "edge-1 and hq hold the same: {result}");
    s.press(KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='verify-dialog']", T).await?;
    let label = s.wait_text("[data-testid='topo-edge-edge-1-hq']", T, "the edge's last result", |t| t.contains("verified")).await?;
    ensure!(label.contains("✓ verified"), "the edge shows its result: {label}");

    hq.call(&json!({"operation": "delete", "database": "dev", "table": "sensor_data", "ids": [1]})).await?;
    hq.insert("dev", "sensor_data", &[json!({"id": 50, "t": -3.5})]).await?;
    s.click_css("[data-testid='verify-edge-1-hq']", T).await?;
    let result = s.wait_text("[data-testid='verify-summary']", T, "the verification that differs", |t| !t.is_empty()).await?;
    ensure!(result.contains("2 records differ"), "two records differ: {result}");
    for key in ["1", "50"] {
        let row = s.wait_text(&format!("[data-testid='verify-diff-row-{key}']"), T, "a differing record", |t| !t.is_empty()).await?;
        ensure!(row.contains("wins") && !row.contains("in flight"), "record {key} has a winner and is not in flight: {row}");
    }
    let row = s.wait_text("[data-testid='verify-diff-row-1']", T, "record 1", |t| !t.is_empty()).await?;
    ensure!(row.contains("deleted") && row.contains("20.5"), "record 1: edge-1's record beside hq's tombstone: {row}");
    app.shot("topology-04b-verify-differs").await?;
    s.click_css("[data-testid='repair-plan-open']", T).await?;
    let plan = s.wait_text("[data-testid='repair-plan']", T, "the repair plan", |t| !t.is_empty()).await?;
    ensure!(plan.contains("edge-1") && plan.contains("1 record written, 1 delete") && !plan.contains("hq ·"), "only edge-1 changes: {plan}");
    app.shot("topology-04c-repair-plan").await?;
    s.click_css("[data-testid='repair-apply']", T).await?;
    s.wait_text("[data-testid='topo-report']", T, "the repair's report", |t| t.contains("Applied")).await?;
    let result = s.wait_text("[data-testid='verify-summary']", T, "the verification after the repair", |t| t.contains("in sync") || t.contains("differ")).await?;
    ensure!(result.contains("in sync: 1 record"), "repaired: {result}");
    app.shot("topology-04d-repaired").await?;
    s.press(KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='verify-dialog']", T).await?;
    let label = s.wait_text("[data-testid='topo-edge-edge-1-hq']", T, "the edge's result after the repair", |t| t.contains("verified")).await?;
    ensure!(label.contains("✓ verified"), "the edge shows the repaired result: {label}");
    app.shot("topology-04e-verified-edge").await?;

    // A channel across every node that holds it, from "Follow a channel".
    s.execute(
        "const sel = document.querySelector('[data-testid=\"topo-follow\"]');\
         Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(sel, 'dev:sensor_data');\
         sel.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([]),
    )
    .await?;
    s.click_css("[data-testid='verify-channel-dev:sensor_data']", T).await?;
    let title = s.wait_text("[data-testid='verify-dialog'] h3", T, "the channel's Verify", |t| !t.is_empty()).await?;
    ensure!(title.contains("edge-1") && title.contains("hq"), "the nodes holding dev:sensor_data: {title}");
    let result = s.wait_text("[data-testid='verify-summary']", T, "the channel's verification", |t| !t.is_empty()).await?;
    ensure!(result.contains("in sync: 1 record"), "the channel across its nodes: {result}");
    s.press(KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='verify-dialog']", T).await?;
    s.execute(
        "const sel = document.querySelector('[data-testid=\"topo-follow\"]');\
         Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(sel, '');\
         sel.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([]),
    )
    .await?;
    Ok(())
}

async fn journey(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", T).await.context("the first-launch local instance")?;
    s.click_css("[data-testid='local-cluster']", T).await?;
    for n in ["edge-1", "edge-2", "hq"] {
        s.wait(&format!("[data-testid='instance-{n}'] [data-state='online']"), T).await.with_context(|| format!("{n} online"))?;
    }
    let edge = app.local_ops("edge-1").await?;
    let hq = app.local_ops("hq").await?;
    for ops in [&edge, &hq] {
        ops.create_table("dev", "sensor_data", "id").await?;
        ops.create_table("dev", "config", "id").await?;
    }

    s.click_css("[data-testid='open-cluster']", T).await?;
    for n in ["local", "edge-1", "edge-2", "hq"] {
        s.wait(&format!("[data-testid='topo-node-{n}']"), T).await.with_context(|| format!("node {n} on the canvas"))?;
    }
    app.shot("topology-01-nodes").await?;

    // Drag from edge-1's handle to hq.
    s.wait("[data-testid='topo-node-hq'] .react-flow__handle-left", T).await?;
    // Let go over the middle of hq's card, not on its handle: the card takes the drop.
    s.drag("[data-testid='topo-node-edge-1'] .react-flow__handle-right", "[data-testid='topo-node-hq']").await?;
    s.wait("[data-testid='topo-dialog']", T).await.context("dragging edge-1 to hq opens the link dialog")?;
    // A typed channel that is not one says why; nothing is carried yet.
    s.fill("[data-testid='topo-new-channel']", "sensor data").await?;
    s.wait_text("[data-testid='topo-channel-problem']", T, "why 'sensor data' is not a channel", |t| t.contains("database:table")).await?;
    s.send_keys_css("[data-testid='topo-new-channel']", "\u{E009}a\u{E009}\u{E003}", T).await?; // Ctrl+A, Backspace
    s.wait_gone("[data-testid='topo-channel-problem']", T).await?;
    s.wait_text("[data-testid='topo-carried']", T, "nothing carried yet", |t| t.starts_with("0 channels carried")).await?;
    // A channel whose table neither side has: the dialog says where each table is and warns,
    // before anything is applied, that nothing would flow on it.
    s.fill("[data-testid='topo-new-channel']", "dev:nowhere").await?;
    s.send_keys_css("[data-testid='topo-new-channel']", "\u{E007}", T).await?; // Enter
    let warning = s.wait_text("[data-testid='topo-cannot-flow']", T, "the warning for dev:nowhere", |t| t.contains("dev:nowhere")).await?;
    ensure!(warning.contains("edge-1 has no such table"), "the warning names the source: {warning}");
    let nowhere = s.wait_text("[data-testid='topo-where-dev:nowhere']", T, "where dev:nowhere is", |t| !t.is_empty()).await?;
    ensure!(nowhere == "neither", "dev:nowhere's tables: {nowhere}");
    let sensor = s.wait_text("[data-testid='topo-where-dev:sensor_data']", T, "where dev:sensor_data is", |t| !t.is_empty()).await?;
    ensure!(sensor.contains("edge-1"), "dev:sensor_data's tables: {sensor}");
    app.shot("topology-02a-cannot-flow").await?;
    s.click_css("[data-testid='topo-channel-dev:nowhere'] input[type=checkbox]", T).await?;
    s.wait_gone("[data-testid='topo-cannot-flow']", T).await?;
    s.click_css("[data-testid='topo-channel-dev:sensor_data'] input[type=checkbox]", T).await?;
    s.wait_text("[data-testid='topo-carried']", T, "one channel carried", |t| t.starts_with("1 channel carried, of ")).await?;
    let plan = s.wait_text("[data-testid='topo-plan']", T, "the plan", |t| t.contains("add_node")).await?;
    ensure!(plan.contains("add_role") && plan.contains("add_user") && plan.contains("********"), "the plan shows every step, passwords masked: {plan}");
    app.shot("topology-02-dialog").await?;
    apply(app).await?;

    edge.insert("dev", "sensor_data", &[json!({"id": 1, "t": 20.5})]).await?;
    until("the record reaches hq", async || Ok(count(&hq, "sensor_data").await == 1)).await?;
    let label = s.wait_text("[data-testid='topo-edge-edge-1-hq']", T, "the edge edge-1 → hq", |t| t.contains("dev:sensor_data")).await?;
    ensure!(!label.contains("closed"), "the edge is open: {label}");

    // The same link also carries dev:config from hq to edge-1.
    s.click_css("[data-testid='topo-edge-edge-1-hq']", T).await?;
    s.click_css("[data-testid='topo-edit']", T).await?;
    s.wait("[data-testid='topo-dialog']", T).await?;
    s.click_css("[data-testid='topo-channel-dev:config'] input[type=checkbox]", T).await?;
    s.execute(
        "const sel = document.querySelector('[data-testid=\"topo-channel-dev:config\"] select');\
         Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(sel, 'bToA');\
         sel.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([]),
    )
    .await?;
    s.wait_text("[data-testid='topo-plan']", T, "the changed plan", |t| t.contains("update_node") && t.contains("dev:config")).await?;
    apply_with(app, Some("[data-testid='topo-channel-dev:config'] select")).await?;
    hq.insert("dev", "config", &[json!({"id": "rate", "hz": 10})]).await?;
    until("config reaches edge-1", async || Ok(count(&edge, "config").await == 1)).await?;
    s.wait("[data-testid='topo-edge-hq-edge-1']", T).await.context("the edge hq → edge-1 is drawn")?;
    app.shot("topology-03-linked").await?;
    let (labels, over) = app.labels_over_nodes().await?;
    anyhow::ensure!(labels >= 1 && over.is_empty(), "{labels} edge labels sit clear of the nodes: {over:?}");

    // edge-1 goes down; what hq writes meanwhile arrives after it starts again.
    s.click_css("[data-testid='topo-node-edge-1']", T).await?;
    s.click_css("[data-testid='topo-stop']", T).await?;
    s.wait("[data-testid='topo-start']", T).await.context("edge-1 stopped")?;
    // Offline, its card shows the tables it had when it last answered, marked so, not "0 tables".
    let card = s.wait_text("[data-testid='topo-node-edge-1']", T, "edge-1's last known tables", |t| t.contains("(last known)")).await?;
    ensure!(!card.contains("0 tables"), "edge-1 offline reads: {card}");
    hq.insert("dev", "config", &[json!({"id": "mode", "v": "eco"})]).await?;
    // hq knows what edge-1 has not pulled: the edge hq → edge-1 shows it as lag, in time, with
    // the one entry it lacks.
    s.wait_text("[data-testid='topo-edge-hq-edge-1']", T, "the backlog edge-1 missed", |t| t.contains(" (1)")).await?;
    s.wait_attr("[data-testid='edge-lag-hq-edge-1']", "data-lag-ms", T, |ms| ms.parse::<f64>().is_ok_and(|ms| ms > 0.0)).await.context("the lag in time grows while edge-1 is down")?;
    // The panel's warnings (a list drawn as it scrolls) say so, counted in their heading.
    s.wait_text("[data-testid='topo-warnings']", T, "the warning that edge-1 does not answer", |t| t.contains("edge-1 does not answer")).await?;
    app.shot("topology-04-edge-down").await?;
    s.click_css("[data-testid='topo-start']", T).await?;
    s.wait("[data-testid='topo-stop']", T).await.context("edge-1 started")?;
    // Same port and password: the studio restarts a local instance as it was.
    until("the record written while edge-1 was down arrives", async || Ok(count(&edge, "config").await == 2)).await?;
    s.wait_text("[data-testid='topo-edge-hq-edge-1']", T, "the catch-up drained", |t| t.contains("lag 0 s") && !t.contains(" (") && !t.contains("closed")).await?;

    verify_and_repair(app, &hq).await?;

    // With the keyboard: Tab goes through every node and edge; Enter selects, Escape clears.
    let focused = tab_through(app).await?;
    for n in ["local", "edge-1", "edge-2", "hq"] {
        ensure!(focused.iter().any(|l| l.starts_with(&format!("{n}, "))), "Tab reaches node {n}: {focused:?}");
    }
    for e in ["edge-1 to hq: dev:sensor_data", "hq to edge-1: dev:config"] {
        ensure!(focused.iter().any(|l| l.starts_with(e)), "Tab reaches edge {e}: {focused:?}");
    }
    focus_by_tab(app, "edge-1 to hq:").await?;
    s.press(KEY_ENTER).await?;
    s.wait_text("[data-testid='topo-edge-panel'] h3", T, "Enter selects the focused edge", |t| t == "edge-1 → hq").await?;
    s.press(KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='topo-edge-panel']", T).await.context("Escape clears the selection")?;

    // Remove the edge edge-1 → hq with Delete: its link goes (both directions ride on it).
    // (Escape also took the focus off the edge: Tab to it again.)
    focus_by_tab(app, "edge-1 to hq:").await?;
    s.press(KEY_ENTER).await?;
    s.wait("[data-testid='topo-edge-panel']", T).await?;
    s.press(KEY_DELETE).await?;
    s.wait("[data-testid='topo-unlink-dialog']", T).await.context("Delete asks to remove the link")?;
    let plan = s.wait_text("[data-testid='topo-plan']", T, "the removal plan", |t| t.contains("remove_node")).await?;
    ensure!(plan.contains("drop_user"), "the link's user goes too: {plan}");
    apply(app).await?;
    s.wait_gone("[data-testid='topo-edge-edge-1-hq']", T).await.context("the edge is gone")?;
    edge.insert("dev", "sensor_data", &[json!({"id": 2, "t": 1.0})]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(count(&hq, "sensor_data").await == 1, "after removal nothing flows to hq");
    let users: Value = hq.call(&json!({"operation": "list_users"})).await?;
    ensure!(!users.to_string().contains("sy_link_edge-1"), "the link's user was removed: {users}");

    keyboard_link(app).await?;
    unreachable_dialler(app, &hq).await?;

    app.shot("topology-05-light").await?;
    s.click_css("[data-testid='theme-toggle']", T).await?;
    app.shot("topology-06-dark").await?;
    // Every screen shot above, audited by axe-core as it was shot.
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_to_connect_carries_data_and_removing_the_edge_stops_it() {
    StudioApp::journey("topology", Keyring::Unlocked, journey).await;
}
