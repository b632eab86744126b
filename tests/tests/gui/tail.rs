//! The live tail end to end in the real app (Xvfb, tauri-driver): tail `dev:dog` on the
//! first-launch local instance; 1,000 inserts through the API all appear, in order; pause, 500
//! more, resume, none missing; stop and start the instance, the tail reconnects and shows what is
//! written afterwards, each once. What the view holds is checked through its NDJSON export. And
//! one channel compared on two nodes: with a link edge-1 → hq every record shows on both with
//! its delay; once the link is removed, the next one is flagged missing on hq.

use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::studio::{Keyring, StudioApp};
use switchyard_testkit::until;

const T: Duration = Duration::from_secs(30);

/// The number in a text like "1,234 shown · …" before `word`.
fn number_before(text: &str, word: &str) -> Option<u64> {
    let at = text.find(word)?;
    let digits: String = text[..at].chars().rev().skip_while(|c| c.is_whitespace()).take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.' || *c == '\u{a0}').collect();
    digits.chars().rev().filter(char::is_ascii_digit).collect::<String>().parse().ok()
}

async fn insert(ops: &OpsClient, keys: std::ops::RangeInclusive<i64>) -> Result<()> {
    for k in keys {
        ops.insert("dev", "dog", &[json!({"id": k, "name": format!("dog {k}")})]).await?;
    }
    Ok(())
}

/// `n` transactions as the studio writes it: "1 transaction", "1,500 transactions".
fn transactions(n: u64) -> String {
    format!("{} {}", switchyard_studio::words::grouped(n), if n == 1 { "transaction" } else { "transactions" })
}

/// Exports the tail's view and answers the keys of its transactions, in order.
async fn exported_keys(app: &StudioApp, n: u64) -> Result<Vec<i64>> {
    let s = app.s();
    s.click_css("[data-testid='tail-export']", T).await?;
    let toast = s.wait_text("[data-testid='toast-info']", T, "the export", |t| t.contains(&format!("Exported {} to ", transactions(n)))).await?;
    let path = toast.split(" to ").nth(1).context("the export path")?.lines().next().unwrap_or_default().trim().to_string();
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let mut keys = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line)?;
        keys.push(v["data"][0]["id"].as_i64().context("a record key")?);
    }
    // Let the toast go, so that the next export's toast is the one read.
    s.execute("document.querySelectorAll('[data-testid=toast-info] .close').forEach(b => b.click())", json!([])).await?;
    Ok(keys)
}

async fn wait_shown(app: &StudioApp, n: u64) -> Result<String> {
    app.s().wait_text("[data-testid='tail-count']", T, &format!("{n} shown"), |t| number_before(t, "shown") == Some(n)).await
}

async fn journey(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", T).await.context("the first-launch local instance")?;
    s.click_css("[data-testid='instance-local'] .tree-row.instance", T).await?;
    s.click_css("[data-testid='local-credentials']", T).await?;
    s.wait("[data-testid='credentials']", T).await?;
    let creds: Vec<String> = serde_json::from_value(s.execute("return [...document.querySelectorAll('[data-testid=credentials] input')].map(i => i.value)", json!([])).await?)?;
    s.send_keys_css("[data-testid='credentials'] input", "\u{E00C}", T).await?;
    s.wait_gone("[data-testid='credentials']", T).await?;
    let ops = OpsClient::new(&creds[0], Credentials::basic(&creds[1], &creds[2]))?;
    ops.create_table("dev", "dog", "id").await?;

    s.click_css("[data-testid='instance-local'] [data-testid='open-tail']", T).await?;
    s.fill("[data-testid='tail-channels']", "dev:dog").await?;
    s.click_css("[data-testid='tail-start']", T).await?;
    s.wait_text("[data-testid='tail-state']", T, "live", |t| t == "live").await?;

    insert(&ops, 1..=1000).await?;
    wait_shown(app, 1000).await?;
    app.shot("tail-01-live").await?;
    ensure!(exported_keys(app, 1000).await? == (1..=1000).collect::<Vec<_>>(), "1,000 inserts, in order, once each");

    // Pause: 500 more are held, not shown; resume shows them all.
    s.click_css("[data-testid='tail-pause']", T).await?;
    insert(&ops, 1001..=1500).await?;
    s.wait_text("[data-testid='tail-buffer']", T, "500 held", |t| number_before(t, "/") == Some(500)).await?;
    let count = s.wait_text("[data-testid='tail-count']", T, "the count", |t| !t.is_empty()).await?;
    ensure!(number_before(&count, "shown") == Some(1000), "while paused the list shows {count}");
    app.shot("tail-02-paused").await?;
    s.click_css("[data-testid='tail-pause']", T).await?;
    wait_shown(app, 1500).await?;
    ensure!(exported_keys(app, 1500).await? == (1..=1500).collect::<Vec<_>>(), "nothing lost while paused");

    // Stop and start the instance: the tail reconnects; what is written after shows once.
    s.click_css("[data-testid='instance-local'] [data-testid='start-stop']", T).await?;
    s.wait_text("[data-testid='tail-state']", T, "reconnecting", |t| t == "reconnecting").await?;
    // The button says "Stopping…" (and takes no click) until the node has stopped.
    s.wait_text("[data-testid='instance-local'] [data-testid='start-stop']", T, "Start", |t| t == "Start").await?;
    s.click_css("[data-testid='instance-local'] [data-testid='start-stop']", T).await?;
    s.wait_text("[data-testid='tail-state']", T, "live again", |t| t == "live").await?;
    // Back: one notice says so and where it resumed; the failed attempts' notices are retired.
    let notices = s.wait_text("[data-testid='tail-notices']", T, "the reconnected notice", |t| t.contains("Reconnected after")).await?;
    ensure!(notices.contains("resumed after #1500; nothing missed") && !notices.contains("Reconnecting:"), "after the restart the notices read: {notices}");
    insert(&ops, 1501..=1510).await?;
    wait_shown(app, 1510).await?;
    ensure!(exported_keys(app, 1510).await? == (1..=1510).collect::<Vec<_>>(), "after the restart, each once");
    // A key filter: what it hides is counted; cleared, everything is back.
    s.fill("[data-testid='tail-filter-key']", "150").await?;
    // Keys with "150" in them: 150, 1150, 1500–1509.
    let filtered = wait_shown(app, 12).await?;
    ensure!(number_before(&filtered, "hidden by the filter") == Some(1498), "the filter says what it hides: {filtered}");
    ensure!(exported_keys(app, 12).await? == [150, 1150].into_iter().chain(1500..=1509).collect::<Vec<_>>(), "the export is the filtered view");
    s.click_css("[data-testid='tail-filter-reset']", T).await?;
    wait_shown(app, 1510).await?;
    // The detail pane of the newest transaction.
    s.click_css("[data-testid='tail-row']", T).await?;
    s.wait_text("[data-testid='tail-detail']", T, "the detail", |t| t.contains("\"name\"")).await?;
    app.shot("tail-03-after-restart").await?;
    // Line wrap: the same columns, the payload wrapped under its own column.
    s.click_css("[data-testid='tail-wrap']", T).await?;
    let row = s.wait_text("[data-testid='tail-row'].wrap", T, "a wrapped row", |t| t.contains("insert") && t.contains("\"name\"")).await?;
    ensure!(row.contains("local #"), "a wrapped row shows its origin: {row}");
    app.shot("tail-04-wrapped").await?;
    s.click_css("[data-testid='tail-wrap']", T).await?;
    s.wait("[data-testid='tail-row'].line", T).await?;
    // A batch's row says how many records it holds, in its keys column and its tooltip.
    let batch: Vec<serde_json::Value> = (2001..=2100).map(|k| json!({"id": k, "name": format!("dog {k}")})).collect();
    ops.insert("dev", "dog", &batch).await?;
    wait_shown(app, 1511).await?;
    let row = s.wait_text("[data-testid='tail-row']", T, "the batch's row", |t| t.contains("100× 2001")).await?;
    let title: String = serde_json::from_value(s.execute("return document.querySelector('[data-testid=tail-row]').title", json!([])).await?)?;
    ensure!(title.starts_with("100 records: 2001, 2002"), "the batch's tooltip: {title} (row {row})");
    app.shot("tail-05-batch").await?;
    // Every screen shot above, audited by axe-core as it was shot.
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tail_shows_every_insert_across_pause_and_a_restart() {
    StudioApp::journey("tail", Keyring::Unlocked, journey).await;
}


/// How many compare rows show `presence` on `node`.
async fn count_presence(app: &StudioApp, node: &str, presence: &str) -> Result<u64> {
    let v = app.s().execute(&format!("return document.querySelectorAll('[data-testid=presence-{node}][data-presence={presence}]').length"), json!([])).await?;
    Ok(v.as_u64().unwrap_or(0))
}

async fn cross_node(app: &StudioApp) -> Result<()> {
    let s = app.s();
    s.wait("[data-testid='instance-local'] [data-state='online']", T).await?;
    s.click_css("[data-testid='local-cluster']", T).await?;
    for n in ["edge-1", "edge-2", "hq"] {
        s.wait(&format!("[data-testid='instance-{n}'] [data-state='online']"), T).await.with_context(|| format!("{n} online"))?;
    }
    let (edge, hq) = (app.local_ops("edge-1").await?, app.local_ops("hq").await?);
    let Credentials::Basic { password, .. } = edge.credentials() else { bail!("a local instance's credentials are a user and a password") };
    edge.create_table("dev", "sensor_data", "id").await?;
    let edge_port = edge.url().rsplit(':').next().unwrap_or_default().trim_end_matches('/').parse::<u16>()?;
    hq.call(&json!({"operation": "add_node", "name": "edge-1", "host": "127.0.0.1", "port": edge_port,
        "authorization": {"username": "admin", "password": password},
        "subscriptions": [{"channel": "dev:sensor_data", "subscribe": true, "publish": false}]})).await?;
    until("hq gets dev.sensor_data from the link", T, Duration::from_millis(200), async || Ok::<_, anyhow::Error>(hq.describe_table("dev", "sensor_data").await.ok())).await?;

    s.click_css("[data-testid='instance-hq'] [data-testid='open-tail']", T).await?;
    s.click_css("[data-testid='tail-mode-compare']", T).await?;
    s.click_css("[data-testid='compare-node-edge-1']", T).await?;
    s.click_css("[data-testid='compare-node-hq']", T).await?;
    s.fill("[data-testid='compare-channel']", "dev:sensor_data").await?;
    s.click_css("[data-testid='compare-start']", T).await?;
    s.wait_text("[data-testid='compare-head-hq']", T, "hq live", |t| t.contains("live")).await?;
    s.wait_text("[data-testid='compare-head-edge-1']", T, "edge-1 live", |t| t.contains("live")).await?;

    for k in 1..=20 {
        edge.insert("dev", "sensor_data", &[json!({"id": k, "t": 20.5})]).await?;
    }
    until("20 records arrived on both nodes", T, Duration::from_millis(200), async || {
        let (on_edge, on_hq) = (count_presence(app, "edge-1", "arrived").await?, count_presence(app, "hq", "arrived").await?);
        Ok::<_, anyhow::Error>((on_edge == 20 && on_hq == 20).then_some(()))
    })
    .await?;
    let delay = s.wait_text("[data-testid='compare-row'] [data-testid='presence-hq']", T, "a delay", |t| t.starts_with('+') && t.ends_with("ms")).await?;
    app.shot("compare-01-linked").await?;

    // The link goes: the next record reaches edge-1 only, and is flagged missing on hq.
    hq.call(&json!({"operation": "remove_node", "name": "edge-1"})).await?;
    edge.insert("dev", "sensor_data", &[json!({"id": 21, "t": 21.0})]).await?;
    until("record 21 is flagged missing on hq", Duration::from_secs(30), Duration::from_millis(250), async || Ok::<_, anyhow::Error>((count_presence(app, "hq", "missing").await? == 1).then_some(()))).await?;
    ensure!(count_presence(app, "edge-1", "arrived").await? == 21, "edge-1 has all 21");
    let head = s.wait_text("[data-testid='compare-head-hq']", T, "the missing count", |t| t.contains("1 missing")).await?;
    app.shot("compare-02-missing").await?;
    ensure!(!delay.is_empty() && head.contains("missing"));
    app.accessible()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_channel_on_two_nodes_lines_up_and_flags_what_is_missing() {
    StudioApp::journey("tail_compare", Keyring::Unlocked, cross_node).await;
}
