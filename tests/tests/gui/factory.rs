//! The factory scenario end to end in the real app (Xvfb, tauri-driver), from a fresh install:
//! "Factory scenario" on the welcome screen starts edge-1, edge-2 and hq, shows the links' plans
//! and applies them; hq's tail of factory:sensor_data goes live; the load runs at 1,000
//! readings/s per edge while edge-1 is taken offline and brought back; hq then holds exactly the
//! out-of-range readings the edges wrote (checked through the API), the tail received them and
//! the summary says so; a configuration record made in a form on hq reaches both edges; Remove
//! scenario takes it all away.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::json;
use switchyard_e2e::studio::{Keyring, StudioApp};
use switchyard_testkit::until;

const T: Duration = Duration::from_secs(30);

/// The number a text like "1,234 of 1,234 readings arrived" starts with.
fn leading_number(t: &str) -> Option<u64> {
    t.split_whitespace().next()?.replace(',', "").parse().ok()
}

/// The edge-1 → hq edge's lag as the canvas states it (ms), and whether its alert is listed
/// going on (`Some(true)`), ended (`Some(false)`) or not at all.
async fn lag_and_alert(app: &StudioApp) -> Result<(Option<f64>, Option<bool>)> {
    let v = app
        .s()
        .execute(
            "const lag = document.querySelector(\"[data-testid='edge-lag-edge-1-hq']\");
             const alerts = [...document.querySelectorAll(\"[data-testid='health-alert-edge-1-hq']\")];
             return [lag ? lag.dataset.lagMs : null, alerts.length ? alerts.some(a => a.dataset.active === 'true') : null];",
            json!([]),
        )
        .await?;
    Ok((v[0].as_str().and_then(|s| s.parse().ok()), v[1].as_bool()))
}

/// Failed batches per edge, as the factory's table says them.
async fn failed_batches(app: &StudioApp) -> Result<Vec<u64>> {
    let v = app
        .s()
        .execute("return [...document.querySelectorAll(\"[data-testid='factory-stats'] tbody tr\")].map(r => r.cells[3].textContent.replace(/,/g, ''));", json!([]))
        .await?;
    Ok(serde_json::from_value::<Vec<String>>(v)?.iter().filter_map(|t| t.parse().ok()).collect())
}

/// The network outage: edge-1 keeps running and writing while its link to hq is cut. The edge
/// shows its lag in time growing and an alert starts past a 2 s threshold; after Restore the
/// backlog drains, the lag is zero again and the alert ends, kept in the Health list. Nothing
/// failed to be written meanwhile.
async fn link_cut_and_restored(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.fill("[data-testid='default-thresholds-lag']", "2").await?;
    s.click_css("[data-testid='default-thresholds-save']", T).await?;
    s.click_css("[data-testid='factory-cut-link']", T).await?;
    s.wait("[data-testid='factory-restore-link']", T).await.context("the link is cut")?;
    let first = until("edge-1 → hq shows lag in time", T, Duration::from_millis(250), async || Ok::<_, anyhow::Error>(lag_and_alert(app).await?.0.filter(|l| *l > 0.0))).await?;
    until("the lag passes the 2 s threshold and its alert starts", T, Duration::from_millis(250), async || {
        let (lag, alert) = lag_and_alert(app).await?;
        Ok::<_, anyhow::Error>((lag.is_some_and(|l| l > 2_000.0) && alert == Some(true)).then_some(()))
    })
    .await?;
    // Cut for more than 5 s: the history (a sample per 5 s) holds the outage.
    let grown = until("the lag grows past 6 s while the link is cut", T, Duration::from_millis(250), async || Ok::<_, anyhow::Error>(lag_and_alert(app).await?.0.filter(|l| *l > 6_000.0))).await?;
    ensure!(grown > first, "the lag grows while the link is cut: {first} ms, then {grown} ms");
    s.wait("[data-testid='topo-inbound-lag-hq']", T).await.context("hq's card shows how far behind it is")?;
    // The alert is a desktop notification too (dunst, in the app's session).
    until("the alert is a desktop notification", T, Duration::from_millis(250), async || {
        let shown = app.notifications()?;
        Ok::<_, anyhow::Error>((shown.contains("Replication alert") && shown.contains("edge-1 → hq")).then_some(()))
    })
    .await?;
    app.shot("03a-factory-link-cut").await?;
    s.click_css("[data-testid='factory-restore-link']", T).await?;
    s.wait("[data-testid='factory-cut-link']", T).await.context("the link is restored")?;
    until("the backlog drains and the alert ends", Duration::from_secs(60), Duration::from_millis(250), async || {
        let (lag, alert) = lag_and_alert(app).await?;
        Ok::<_, anyhow::Error>((lag == Some(0.0) && alert == Some(false)).then_some(()))
    })
    .await?;
    let listed = s.wait_text("[data-testid='health-alert-edge-1-hq']", T, "the ended alert", |t| t.contains("ended")).await?;
    until("the recovery is a desktop notification", T, Duration::from_millis(250), async || Ok::<_, anyhow::Error>(app.notifications()?.contains("Replication recovered").then_some(()))).await?;
    ensure!(listed.contains("behind by up to"), "the Health list says how bad it got: {listed}");
    app.shot("03b-factory-link-restored").await?;
    // The edge's panel charts its history, the outage marked.
    s.click_css("[data-testid='topo-edge-edge-1-hq']", T).await?;
    s.wait("[data-testid='health-chart'] [data-testid='health-outage']", T).await.context("the edge's chart marks the outage")?;
    app.shot("03c-factory-edge-history").await?;
    s.press(switchyard_e2e::webdriver::KEY_ESCAPE).await?;
    let failed = failed_batches(app).await?;
    ensure!(failed.len() == 2 && failed.iter().all(|f| *f == 0), "no batch failed while the link was cut: {failed:?}");
    Ok(())
}

async fn journey(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", Duration::from_secs(60)).await.context("the first-launch local instance")?;
    s.click_css("[data-testid='home-factory']", T).await?;
    let review = s.wait_text("[data-testid='factory-review']", Duration::from_secs(60), "the links' plans", |t| t.matches("· add_node").count() == 2).await?;
    ensure!(review.contains("factory:sensor_data") && review.contains("factory:config") && review.contains("********"), "the plans: {review}");
    app.shot("01-factory-plans").await?;
    // The user reads the plans a while before Apply.
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.click_css("[data-testid='factory-apply']", T).await?;
    s.wait_gone("[data-testid='factory-review']", T).await.context("the links are made")?;
    for n in ["edge-1", "edge-2", "hq"] {
        s.wait(&format!("[data-testid='topo-node-{n}']"), T).await.with_context(|| format!("{n} on the canvas"))?;
    }
    // Laid out by Apply, every node is framed: inside the canvas's rectangle.
    let mut outside = Vec::new();
    for _ in 0..50 {
        let v = s
            .execute(
                "const pane = document.querySelector('.react-flow').getBoundingClientRect();
                 return ['edge-1', 'edge-2', 'hq', 'local'].filter(n => {
                   const e = document.querySelector(`[data-testid='topo-node-${n}']`);
                   if (!e) return false;
                   const r = e.getBoundingClientRect();
                   return r.left < pane.left || r.top < pane.top || r.right > pane.right || r.bottom > pane.bottom;
                 });",
                json!([]),
            )
            .await?;
        outside = serde_json::from_value::<Vec<String>>(v)?;
        if outside.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(outside.is_empty(), "after Apply these nodes lie outside the canvas: {outside:?}");
    app.shot("01b-factory-applied").await?;
    s.wait_text("[data-testid='topo-edge-edge-1-hq']", T, "edge-1 → hq", |t| t.contains("factory:sensor_data")).await?;
    s.wait_text("[data-testid='topo-edge-hq-edge-2']", T, "hq → edge-2", |t| t.contains("factory:config")).await?;
    let hq = app.local_ops("hq").await?;

    // hq's tail of the out-of-range readings, live before the load starts.
    s.click_css("[data-testid='instance-hq'] [data-testid='open-tail']", T).await?;
    s.fill("[data-testid='tail-channels']", "factory:sensor_data").await?;
    s.click_css("[data-testid='tail-start']", T).await?;
    s.wait_text("[data-testid='tail-state']", T, "live", |t| t == "live").await?;

    // The load at 1,000 readings/s per edge; edge-1 offline and back in the middle.
    s.click_css("[data-testid='open-cluster']", T).await?;
    s.fill("[data-testid='factory-rate']", "1000").await?;
    s.click_css("[data-testid='factory-load-start']", T).await?;
    s.wait_text("[data-testid='factory-stats']", T, "readings written", |t| t.contains("edge-1") && t.contains("edge-2")).await?;
    // About 10 s of load, edge-1 offline for 5 s of it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.shot("02-factory-running").await?;
    let (labels, over) = app.labels_over_nodes().await?;
    anyhow::ensure!(labels >= 4 && over.is_empty(), "the factory's {labels} edge labels sit clear of the nodes: {over:?}");
    link_cut_and_restored(app).await?;
    s.click_css("[data-testid='factory-offline']", T).await?;
    s.wait("[data-testid='factory-online']", T).await.context("edge-1 offline")?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    app.shot("03-factory-edge-1-offline").await?;
    s.click_css("[data-testid='factory-online']", T).await?;
    s.wait("[data-testid='factory-offline']", T).await.context("edge-1 back")?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.click_css("[data-testid='factory-load-stop']", T).await?;
    s.wait("[data-testid='factory-load-start']", T).await?;
    let stats = s.wait_text("[data-testid='factory-stats']", T, "the totals", |t| !t.is_empty()).await?;

    // hq holds every out-of-range reading: the summary says so, and the API agrees.
    let summary = until("the check says every reading arrived, none twice", Duration::from_secs(60), Duration::from_millis(500), async || {
        s.click_css("[data-testid='factory-check']", T).await?;
        let text = s.wait_text("[data-testid='factory-summary']", T, "the check", |t| !t.is_empty()).await?;
        Ok::<_, anyhow::Error>(text.ends_with("none twice").then_some(text))
    })
    .await?;
    let (arrived, expected) = summary.split_once(" of ").map(|(a, b)| (leading_number(a), leading_number(b))).unwrap_or((None, None));
    let n = arrived.filter(|a| *a > 0 && arrived == expected).with_context(|| format!("the summary: {summary}"))?;
    let held = hq.describe_table("factory", "sensor_data").await?.record_count;
    ensure!(held == n, "hq holds {held} out-of-range readings, the summary says {summary} (stats: {stats})");
    app.shot("04-factory-checked").await?;

    // The tail on hq received them (as transactions of one or more readings each).
    s.click_css("[data-testid='instance-hq'] [data-testid='open-tail']", T).await?;
    let received = s.wait_text("[data-testid='tail-count']", T, "what the tail received", |t| t.contains("received")).await?;
    let got = received.split(" · ").find(|p| p.ends_with("received")).and_then(leading_number).unwrap_or(0);
    ensure!(got > 0, "the tail on hq received nothing: {received}");
    // Rows replicated from the edges name their origin and its log id whole ("edge-2 #41234"):
    // the origin column is as wide as the longest origin seen, not the tail's own node's name.
    let first = s.wait_text("[data-testid='tail-list'] .tail-row.line", T, "a tail row", |t| t.contains("edge-")).await?;
    let origin = first.split("  ").map(str::trim).find(|c| c.starts_with("edge-") && c.contains('#')).with_context(|| format!("no origin column in {first:?}"))?;
    ensure!(!origin.contains('…') && origin.rsplit('#').next().is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit())), "the origin column reads {origin:?} in {first:?}");
    app.shot("05-factory-tail").await?;

    // A configuration record made in a form on hq reaches both edges.
    let (edge1, edge2) = (app.local_ops("edge-1").await?, app.local_ops("edge-2").await?);
    // hq's tree is open from the steps before (its row toggles it): opened only if it is not.
    if s.find_all("[data-testid='instance-hq'] [data-testid='table-factory-config']").await?.is_empty() {
        s.click_css("[data-testid='instance-hq'] .tree-row.instance", T).await?;
    }
    s.click_css("[data-testid='instance-hq'] [data-testid='table-factory-config']", T).await?;
    s.wait_text("[data-testid='table-title']", T, "factory.config", |t| t == "factory.config").await?;
    s.click_css("[data-testid='new-record']", T).await?;
    s.fill("[data-testid='field-id']", "mode").await?;
    s.click_css("[data-testid='add-attribute']", T).await?;
    s.fill("[data-testid='new-attr-0']", "target").await?;
    s.fill("[data-testid='field-target']", "eco").await?;
    s.click_css("[data-testid='save-record']", T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    for edge in [&edge1, &edge2] {
        until(format!("hq's configuration reaches {}", edge.url()), T, Duration::from_millis(200), async || {
            let rows = edge.call(&serde_json::json!({"operation": "search_by_id", "database": "factory", "table": "config", "ids": ["mode"], "get_attributes": ["target"]})).await?;
            Ok::<_, anyhow::Error>((rows == serde_json::json!([{"target": "eco"}])).then_some(()))
        })
        .await?;
    }

    // Wiring as code: the cluster's links exported (no password in the file); edge-2's link
    // removed behind the studio's back; the file opened shows exactly that link to add, and
    // Apply restores it.
    s.click_css("[data-testid='open-cluster']", T).await?;
    s.click_css("[data-testid='wiring-export']", T).await?;
    s.wait_text("[data-testid='wiring-exported']", T, "where the wiring was written", |t| t.contains("switchyard-wiring")).await?;
    let path = s.execute("return document.querySelector(\"[data-testid='wiring-exported'] code\").textContent;", json!([])).await?;
    let path = path.as_str().context("the wiring file's path")?.to_string();
    // A long path wraps inside the panel: nothing of it is cut off at the panel's edge.
    let overflow = s.execute("const p = document.querySelector(\"[data-testid='topo-panel']\"); return p.scrollWidth - p.clientWidth;", json!([])).await?;
    ensure!(overflow.as_i64() == Some(0), "the panel is wider than it shows by {overflow} px with the path {path}");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    ensure!(text.contains("dialer = \"edge-2\"") && text.contains("to = \"hq\""), "the wiring file: {text}");
    // Credentials are named (the registry entries, whose passwords stay in the keychain).
    ensure!(!text.contains("password =") && text.contains("registry = \"hq\""), "the wiring file holds no password: {text}");
    edge2.call(&json!({"operation": "remove_node", "name": "hq"})).await?;
    s.wait_gone("[data-testid='topo-edge-edge-2-hq']", T).await.context("the removed link leaves the canvas")?;
    s.send_keys_css("[data-testid='wiring-open']", &path, T).await?;
    let plan = s.wait_text("[data-testid='wiring-plan']", T, "the wiring plan", |t| t.contains("+ edge-2 → hq")).await?;
    let changes = s.find_all("[data-testid='wiring-plan'] .wiring-changes li").await?.len();
    ensure!(changes == 1, "exactly the removed link is planned back ({changes} changes): {plan}");
    app.shot("06-wiring-plan").await?;
    s.click_css("[data-testid='wiring-apply']", T).await?;
    s.wait_text("[data-testid='wiring-applied']", T, "the wiring applied", |t| t.starts_with("Applied")).await?;
    // Kept attached, the file marks where the cluster drifts from it.
    s.click_css("[data-testid='wiring-attach']", T).await?;
    s.press(switchyard_e2e::webdriver::KEY_ESCAPE).await?;
    s.wait_gone("[data-testid='wiring-plan']", T).await?;
    s.wait("[data-testid='topo-edge-edge-2-hq']", T).await.context("edge-2's link is back on the canvas")?;
    s.wait_text("[data-testid='wiring-attached']", T, "no drift", |t| t.contains("as it says")).await?;
    edge1.call(&json!({"operation": "update_node", "name": "hq", "subscriptions": [{"channel": "factory:sensor_data", "subscribe": false, "publish": true}]})).await?;
    edge2.call(&json!({"operation": "remove_node", "name": "hq"})).await?;
    s.wait("[data-testid='edge-drift-edge-1-hq']", T).await.context("edge-1's changed link is marked as drift on the canvas")?;
    s.wait_attr("[data-testid='wiring-drift-edge-2-hq']", "data-kind", T, |k| k == "missing").await.context("edge-2's missing link is listed")?;
    app.shot("07-wiring-drift").await?;
    // Below the panel's fold, under the last toast: clicked where it is.
    s.execute("document.querySelector(\"[data-testid='wiring-detach']\").click();", json!([])).await?;
    s.wait_gone("[data-testid='edge-drift-edge-1-hq']", T).await?;

    // Remove scenario: the three instances go.
    s.click_css("[data-testid='factory-remove']", T).await?;
    s.click_css("[data-testid='confirm-ok']", T).await?;
    for n in ["edge-1", "edge-2", "hq"] {
        s.wait_gone(&format!("[data-testid='instance-{n}']"), T).await.with_context(|| format!("{n} removed"))?;
    }
    // Every screen shot above, audited by axe-core as it was shot.
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_scenario_runs_from_a_fresh_install_and_hq_gets_every_reading() {
    StudioApp::journey("factory", Keyring::Unlocked, journey).await;
}
