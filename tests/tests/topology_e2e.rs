//! The Cluster view end to end in the real app (Xvfb, tauri-driver): the local cluster
//! (edge-1, edge-2, hq); drag edge-1 → hq, choose dev:sensor_data flowing to hq, apply; a
//! record inserted on edge-1 through the API appears on hq and the edge shows it; add
//! dev:config flowing hq → edge-1 on the same link; stop edge-1, insert on hq, start edge-1,
//! the record arrives; remove the edge (Delete), new records no longer flow. Screenshots of the
//! canvas in light and dark.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::studio::StudioApp;

const T: Duration = Duration::from_secs(30);

/// The credentials the studio shows for a local instance.
async fn local_ops(app: &StudioApp, name: &str) -> Result<OpsClient> {
    let s = app.s();
    s.click_css(&format!("[data-testid='instance-{name}'] .tree-row.instance"), T).await?;
    s.click_css(&format!("[data-testid='instance-{name}'] [data-testid='local-credentials']"), T).await?;
    s.wait("[data-testid='credentials']", T).await?;
    let creds: Vec<String> = serde_json::from_value(s.execute("return [...document.querySelectorAll('[data-testid=credentials] input')].map(i => i.value)", json!([])).await?)?;
    s.send_keys_css("[data-testid='credentials'] input", "\u{E00C}", T).await?;
    s.wait_gone("[data-testid='credentials']", T).await?;
    ensure!(creds.len() == 3, "credentials shown: {creds:?}");
    Ok(OpsClient::new(&creds[0], Credentials::basic(&creds[1], &creds[2]))?)
}

async fn count(ops: &OpsClient, table: &str) -> u64 {
    match ops.describe_table("dev", table).await {
        Ok(d) => d.record_count,
        Err(_) => 0,
    }
}

async fn until(what: &str, check: impl AsyncFn() -> Result<bool>) -> Result<()> {
    let deadline = tokio::time::Instant::now() + T;
    while !check().await? {
        ensure!(tokio::time::Instant::now() < deadline, "not within {} s: {what}", T.as_secs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Applies the open dialog's plan and waits for its report.
async fn apply(app: &StudioApp) -> Result<String> {
    let s = app.s();
    s.wait("[data-testid='topo-plan']", T).await.context("the plan is shown before anything is sent")?;
    s.click_css("[data-testid='topo-apply']", T).await?;
    let report = s.wait_text("[data-testid='topo-report']", T, "the apply report", |t| t.contains("Applied") || t.contains("Not applied")).await?;
    ensure!(report.contains("Applied:"), "the apply failed: {report}");
    s.click_css("[data-testid='topo-cancel']", T).await?;
    s.wait_gone("[data-testid='topo-report']", T).await?;
    Ok(report)
}

async fn journey(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", T).await.context("the first-launch local instance")?;
    s.click_css("[data-testid='local-cluster']", T).await?;
    for n in ["edge-1", "edge-2", "hq"] {
        s.wait(&format!("[data-testid='instance-{n}'] [data-state='online']"), T).await.with_context(|| format!("{n} online"))?;
    }
    let edge = local_ops(app, "edge-1").await?;
    let hq = local_ops(app, "hq").await?;
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
    s.drag("[data-testid='topo-node-edge-1'] .react-flow__handle-right", "[data-testid='topo-node-hq'] .react-flow__handle-left").await?;
    s.wait("[data-testid='topo-dialog']", T).await.context("dragging edge-1 to hq opens the link dialog")?;
    s.click_css("[data-testid='topo-channel-dev:sensor_data'] input[type=checkbox]", T).await?;
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
    apply(app).await?;
    hq.insert("dev", "config", &[json!({"id": "rate", "hz": 10})]).await?;
    until("config reaches edge-1", async || Ok(count(&edge, "config").await == 1)).await?;
    s.wait("[data-testid='topo-edge-hq-edge-1']", T).await.context("the edge hq → edge-1 is drawn")?;
    app.shot("topology-03-linked").await?;

    // edge-1 goes down; what hq writes meanwhile arrives after it starts again.
    s.click_css("[data-testid='topo-node-edge-1']", T).await?;
    s.click_css("[data-testid='topo-stop']", T).await?;
    s.wait("[data-testid='topo-start']", T).await.context("edge-1 stopped")?;
    hq.insert("dev", "config", &[json!({"id": "mode", "v": "eco"})]).await?;
    // hq knows what edge-1 has not pulled: the edge hq → edge-1 shows it as lag.
    s.wait_text("[data-testid='topo-edge-hq-edge-1']", T, "the backlog edge-1 missed", |t| t.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| w == ["lag", "1"])).await?;
    app.shot("topology-04-edge-down").await?;
    s.click_css("[data-testid='topo-start']", T).await?;
    s.wait("[data-testid='topo-stop']", T).await.context("edge-1 started")?;
    // Same port and password: the studio restarts a local instance as it was.
    until("the record written while edge-1 was down arrives", async || Ok(count(&edge, "config").await == 2)).await?;
    s.wait_text("[data-testid='topo-edge-hq-edge-1']", T, "the catch-up drained", |t| !t.contains("lag") && !t.contains("closed")).await?;

    // Remove the edge edge-1 → hq with Delete: its link goes (both directions ride on it).
    s.click_css("[data-testid='topo-edge-edge-1-hq']", T).await?;
    s.wait("[data-testid='topo-edge-panel']", T).await?;
    s.send_keys_css(".topo-page", "\u{E017}", T).await?;
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

    app.shot("topology-05-light").await?;
    s.click_css("[data-testid='theme-toggle']", T).await?;
    app.shot("topology-06-dark").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_to_connect_carries_data_and_removing_the_edge_stops_it() {
    let app = StudioApp::launch("topology").await.expect("the studio under Xvfb with tauri-driver");
    if let Err(e) = journey(&app).await {
        app.fail("topology-failure", e).await;
    }
}
