//! The live tail end to end in the real app (Xvfb, tauri-driver): tail `dev:dog` on the
//! first-launch local instance; 1,000 inserts through the API all appear, in order; pause, 500
//! more, resume, none missing; stop and start the instance, the tail reconnects and shows what is
//! written afterwards, each once. What the view holds is checked through its NDJSON export.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_e2e::studio::StudioApp;

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

/// Exports the tail's view and answers the keys of its transactions, in order.
async fn exported_keys(app: &StudioApp, n: u64) -> Result<Vec<i64>> {
    let s = app.s();
    s.click_css("[data-testid='tail-export']", T).await?;
    let toast = s.wait_text("[data-testid='toast-info']", T, "the export", |t| t.contains(&format!("Exported {n} transactions to "))).await?;
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
    s.click_css("[data-testid='instance-local'] [data-testid='start-stop']", T).await?;
    s.wait_text("[data-testid='tail-state']", T, "live again", |t| t == "live").await?;
    insert(&ops, 1501..=1510).await?;
    wait_shown(app, 1510).await?;
    ensure!(exported_keys(app, 1510).await? == (1..=1510).collect::<Vec<_>>(), "after the restart, each once");
    // The detail pane of the newest transaction.
    s.click_css("[data-testid='tail-row']", T).await?;
    s.wait_text("[data-testid='tail-detail']", T, "the detail", |t| t.contains("\"name\"")).await?;
    app.shot("tail-03-after-restart").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tail_shows_every_insert_across_pause_and_a_restart() {
    let app = StudioApp::launch("tail").await.expect("the studio under Xvfb with tauri-driver");
    if let Err(e) = journey(&app).await {
        let _ = app.shot("tail-failure").await;
        panic!("{e:#}\n--- driver log ---\n{}", app.driver_log().chars().rev().take(4000).collect::<String>().chars().rev().collect::<String>());
    }
}
