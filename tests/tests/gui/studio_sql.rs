//! The second half of the studio journey: the SQL tab (results, highlighting, completion,
//! history), the keyboard's way to a table, and the dark theme over every main screen.

use anyhow::{ensure, Context, Result};
use serde_json::json;
use switchyard_e2e::studio::StudioApp;
use switchyard_e2e::webdriver::{KEY_CONTROL, KEY_DOWN, KEY_ENTER, KEY_ESCAPE, KEY_TAB};

use crate::studio::T;

/// From the open remote instance (dev.big and dev.dog): SQL, then the keyboard, then dark.
pub async fn sql_keyboard_and_dark_theme(app: &StudioApp) -> Result<()> {
    let s = app.s();
    // SQL tab: results in the same grid.
    s.click_css("[data-testid='instance-remote'] [data-testid='open-sql']", T).await?;
    s.wait("[data-testid='sql-editor'] .cm-content", T).await?;
    s.execute(
        "const v = document.querySelector('[data-testid=sql-editor] .cm-content'); v.focus(); document.execCommand('insertText', false, arguments[0]);",
        json!(["SELECT COUNT(*) AS n FROM dev.big"]),
    )
    .await?;
    s.click_css("[data-testid='sql-run']", T).await?;
    s.wait_text("[data-testid='sql-grid']", T, "the count", |t| t.contains("100000")).await?;
    // Keywords are coloured apart from names.
    let coloured = s
        .execute(
            "const c = document.querySelector('[data-testid=sql-editor] .cm-content');\
             const kw = [...c.querySelectorAll('span')].find(s => s.textContent === 'SELECT');\
             const name = [...c.querySelectorAll('.cm-line')][0];\
             return kw ? [getComputedStyle(kw).color, getComputedStyle(name).color] : null;",
            json!([]),
        )
        .await?;
    ensure!(coloured.as_array().is_some_and(|c| c.len() == 2 && c[0] != c[1]), "SELECT is not highlighted: {coloured}");
    app.shot("07-sql").await?;
    // Completion knows the instance's tables: after `dev.`, Ctrl+Space offers big and dog.
    s.execute(
        "const v = document.querySelector('[data-testid=sql-editor] .cm-content'); v.focus(); document.execCommand('selectAll'); document.execCommand('insertText', false, arguments[0]);",
        json!(["SELECT * FROM dev."]),
    )
    .await?;
    s.send_keys_css("[data-testid='sql-editor'] .cm-content", &format!("{KEY_CONTROL} "), T).await?;
    let offered = s.wait_text(".cm-tooltip-autocomplete", T, "the completions", |t| t.contains("big") && t.contains("dog")).await?;
    app.shot("07b-sql-completion").await?;
    s.send_keys_css("[data-testid='sql-editor'] .cm-content", KEY_ESCAPE, T).await?;
    s.wait_gone(".cm-tooltip-autocomplete", T).await.with_context(|| format!("completions {offered:?} stay open after Escape"))?;
    // The history is a list to search: the count query comes back by a word of it.
    s.click_css("[data-testid='sql-history']", T).await?;
    s.fill("[data-testid='sql-history-search']", "count").await?;
    s.wait_text("[data-testid='sql-history-item-0']", T, "the query found", |t| t.contains("COUNT(*)")).await?;
    ensure!(s.find_all("[data-testid='sql-history-item-1']").await?.is_empty(), "more than the count query matches 'count'");
    app.shot("07c-sql-history").await?;
    s.send_keys_css("[data-testid='sql-history-search']", KEY_ENTER, T).await?;
    s.wait_gone("[data-testid='sql-history-search']", T).await?;
    s.wait_text("[data-testid='sql-editor'] .cm-content", T, "the query back in the editor", |t| t == "SELECT COUNT(*) AS n FROM dev.big").await?;

    // The dark theme, on the big table.
    // The keyboard reaches a table in a few keys: the tree is one Tab stop (the actions of
    // every instance are not in the way), arrows walk its rows, Enter opens one.
    s.execute("document.querySelector('[data-testid=add-remote]').focus()", json!([])).await?;
    let focused = || async { s.execute("const a = document.activeElement; return [a.dataset.testid || '', a.hasAttribute('data-nav')];", json!([])).await };
    let mut tabs = 0;
    while focused().await?[1] != json!(true) {
        tabs += 1;
        ensure!(tabs <= 6, "Tab from + Remote never reached the tree in 6 presses");
        s.press(KEY_TAB).await?;
    }
    ensure!(tabs <= 4, "the tree is {tabs} Tabs from + Remote (its four buttons, then the tree)");
    let mut downs = 0;
    while focused().await?[0] != json!("table-dev-dog") {
        downs += 1;
        ensure!(downs <= 12, "arrows never reached dev.dog in 12 presses (at {})", focused().await?);
        s.press(KEY_DOWN).await?;
    }
    s.press(KEY_ENTER).await?;
    s.wait_text("[data-testid='position']", T, "dev.dog opened with the keyboard", |t| t.starts_with("rows 1–")).await?;
    s.wait_text("[data-testid='table-title']", T, "the table's title", |t| t.contains("dev.dog")).await.context("Enter on a table row opens it")?;
    s.click_css("[data-testid='theme-toggle']", T).await?;
    let theme = s.execute("return document.documentElement.dataset.theme", json!([])).await?;
    ensure!(theme == "dark", "theme is {theme}");
    s.click_css("[data-testid='table-dev-big']", T).await?;
    s.wait_text("[data-testid='position']", T, "the first rows", |t| t.starts_with("rows 1–")).await?;
    app.shot("08-dark").await?;
    // A dialog in the dark theme, over the table.
    s.click_css("[data-testid='new-record']", T).await?;
    s.wait("[data-testid='record-form']", T).await?;
    app.shot("09-dark-dialog").await?;
    s.send_keys_css("[data-testid='record-form'] input", KEY_ESCAPE, T).await?;
    s.wait_gone("[data-testid='record-form']", T).await?;
    // The SQL tab and the tail in the dark theme too.
    s.click_css("[data-testid='instance-remote'] [data-testid='open-sql']", T).await?;
    s.wait("[data-testid='sql-editor'] .cm-content", T).await?;
    app.shot("10-dark-sql").await?;
    s.click_css("[data-testid='instance-remote'] [data-testid='open-tail']", T).await?;
    s.wait("[data-testid='tail-view']", T).await?;
    app.shot("11-dark-tail").await?;
    Ok(())
}
