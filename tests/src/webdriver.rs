//! A small W3C WebDriver client (the part the studio tests use) for tauri-driver and
//! WebKitWebDriver: sessions, finding elements, clicks, typing, text, scripts, screenshots.
//! Every wait is bounded by a deadline and fails with what it was waiting for.
//!
//! Kept rather than replaced by fantoccini or thirtyfour (issue 32, item 8, weighed 2026-12-06):
//! either would serve tauri-driver (it speaks W3C WebDriver), but fantoccini 0.22 brings about
//! twenty crates this workspace does not build today (Mozilla's `webdriver` with a second ICU
//! stack, `icu_segmenter` and its data, `http` 0.2, `cookie`, `time`), which a cold `make test`
//! on two cores would pay for, against the issue's own bar that cold test time goes down. This
//! client is the ~20 endpoints the journeys use, over the reqwest the workspace already builds.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde_json::{json, Value};

/// The W3C key code points.
pub const KEY_ENTER: &str = "\u{E007}";
pub const KEY_DELETE: &str = "\u{E017}";
pub const KEY_CONTROL: &str = "\u{E009}";
pub const KEY_END: &str = "\u{E010}";
pub const KEY_TAB: &str = "\u{E004}";
pub const KEY_ESCAPE: &str = "\u{E00C}";
pub const KEY_DOWN: &str = "\u{E015}";

pub struct Session {
    http: reqwest::Client,
    base: String,
}

#[derive(Clone, Debug)]
pub struct Element(String);

fn value_of(v: Value) -> Result<Value> {
    if let Some(err) = v.get("value").and_then(|x| x.get("error")) {
        bail!("webdriver error {err}: {}", v["value"]["message"]);
    }
    Ok(v.get("value").cloned().unwrap_or(Value::Null))
}

/// The key of a web element reference (W3C WebDriver).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The id in a web element reference (`{"element-6066-…": id}`, one key per the W3C spec).
fn element_id(v: &Value) -> Option<&str> {
    v.as_object()?.iter().find(|(k, _)| k.starts_with("element-")).and_then(|(_, id)| id.as_str())
}

impl Session {
    /// A session that launches `application` (the studio binary) through tauri-driver at `driver`.
    pub async fn start(driver: &str, application: &str) -> Result<Session> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": application}}}});
        let resp: Value = http.post(format!("{driver}/session")).json(&caps).send().await?.json().await?;
        let v = value_of(resp)?;
        let id = v.get("sessionId").and_then(Value::as_str).ok_or_else(|| anyhow!("no session id in {v}"))?;
        Ok(Session { http, base: format!("{driver}/session/{id}") })
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let resp: Value = self.http.post(format!("{}{path}", self.base)).json(&body).send().await?.json().await?;
        value_of(resp)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let resp: Value = self.http.get(format!("{}{path}", self.base)).send().await?.json().await?;
        value_of(resp)
    }

    /// Every element `css` matches. A match the page re-renders while WebKitWebDriver makes its
    /// handle fails the lookup as "stale": the lookup is made again (20 times at most).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let mut attempt = 0;
        let v = loop {
            match self.post("/elements", json!({"using": "css selector", "value": css})).await {
                Err(err) if err.to_string().contains("stale element") && attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                r => break r?,
            }
        };
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(element_id).map(|s| Element(s.to_string())).collect())
            .unwrap_or_default())
    }

    /// Waits until `css` matches, up to `timeout`.
    pub async fn wait(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.find_all(css).await?.into_iter().next() {
                return Ok(e);
            }
            if Instant::now() > deadline {
                bail!("no element matches '{css}' after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` satisfies `pred`; returns that text.
    pub async fn wait_text(&self, css: &str, timeout: Duration, what: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            // Read in the page: WebKitWebDriver's element text misses transformed (virtualized) rows.
            let got = self
                .execute("const e = document.querySelector(arguments[0]); return e ? (e.innerText || e.textContent || '') : null;", json!([css]))
                .await?;
            if let Some(t) = got.as_str() {
                let t = t.trim().to_string();
                if pred(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if Instant::now() > deadline {
                bail!("'{css}' never showed {what} within {timeout:?}; last text: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until attribute `name` of `css` satisfies `pred`; returns its value.
    pub async fn wait_attr(&self, css: &str, name: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            let got = self.execute("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;", json!([css, name])).await?;
            if let Some(v) = got.as_str() {
                if pred(v) {
                    return Ok(v.to_string());
                }
                last = Some(v.to_string());
            }
            if Instant::now() > deadline {
                bail!("'{css}' never had a {name} that fits within {timeout:?}; last: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.find_all(css).await?.is_empty() {
            if Instant::now() > deadline {
                bail!("'{css}' is still there after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    pub async fn click(&self, e: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", e.0), json!({})).await.map(|_| ())
    }

    /// Clicks what `css` matches; a match re-rendered between find and click is found again.
    pub async fn click_css(&self, css: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let e = self.wait(css, timeout).await?;
            match self.click(&e).await {
                Err(err) if err.to_string().contains("stale element") && Instant::now() < deadline => continue,
                r => return r.with_context(|| format!("clicking '{css}'")),
            }
        }
    }

    /// Sends keys to what `css` matches, finding it again if it was re-rendered meanwhile.
    pub async fn send_keys_css(&self, css: &str, keys: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let e = self.wait(css, timeout).await?;
            match self.type_text(&e, keys).await {
                Err(err) if err.to_string().contains("stale element") && Instant::now() < deadline => continue,
                r => return r.with_context(|| format!("typing into '{css}'")),
            }
        }
    }

    pub async fn clear(&self, e: &Element) -> Result<()> {
        self.post(&format!("/element/{}/clear", e.0), json!({})).await.map(|_| ())
    }

    pub async fn type_text(&self, e: &Element, text: &str) -> Result<()> {
        self.post(&format!("/element/{}/value", e.0), json!({"text": text})).await.map(|_| ())
    }

    /// Clears the field matched by `css` and types `text` into it, then checks that the field
    /// holds exactly `text`. WebDriver's clear changes the DOM without a key event, so a React
    /// input may put its old value back before the typing lands; a field that does not read
    /// back right is cleared again with real keys (select all, delete) and retyped. Special keys
    /// in `text` (Enter, Tab) are pressed last, once the value reads back right.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        // WebDriver's special keys (Enter, Tab, …) are in U+E000..U+F8FF and never reach the value.
        let expected: String = text.chars().filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c)).collect();
        let mut attempt = 0;
        loop {
            let e = self.wait(css, Duration::from_secs(10)).await?;
            let r = async {
                self.clear(&e).await?;
                if attempt > 0 {
                    self.type_text(&e, "\u{E009}a\u{E009}\u{E003}").await?; // Ctrl+A, release Ctrl, Backspace
                }
                self.type_text(&e, &expected).await?;
                let value = self.execute("return arguments[0].value", json!([{ELEMENT_KEY: e.0.clone()}])).await?;
                Ok::<_, anyhow::Error>(value.as_str().map(str::to_string))
            }
            .await;
            attempt += 1;
            match r {
                Ok(Some(v)) if v == expected => {
                    // Then the special keys (an Enter that submits, say), once the text is right.
                    let keys: String = text.chars().filter(|c| ('\u{E000}'..='\u{F8FF}').contains(c)).collect();
                    if !keys.is_empty() {
                        self.type_text(&e, &keys).await.with_context(|| format!("pressing keys in '{css}'"))?;
                    }
                    return Ok(());
                }
                Ok(v) if Instant::now() < deadline && attempt < 10 => {
                    eprintln!("'{css}' read back {v:?} after typing {text:?}; retyping");
                }
                Ok(v) => bail!("typing into '{css}': it holds {v:?}, not {expected:?}"),
                Err(err) if err.to_string().contains("stale element") && Instant::now() < deadline => continue,
                Err(err) => return Err(err).with_context(|| format!("typing into '{css}'")),
            }
        }
    }

    pub async fn text(&self, e: &Element) -> Result<String> {
        Ok(self.get(&format!("/element/{}/text", e.0)).await?.as_str().unwrap_or_default().to_string())
    }

    pub async fn attribute(&self, e: &Element, name: &str) -> Result<Option<String>> {
        Ok(self.get(&format!("/element/{}/attribute/{name}", e.0)).await?.as_str().map(str::to_string))
    }

    pub async fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args})).await
    }

    /// Runs `script` whose last argument is the completion callback.
    pub async fn execute_async(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/async", json!({"script": script, "args": args})).await
    }

    /// The viewport position of the element `css` selects, at its centre or, with `at`, that
    /// far from its top-left corner.
    async fn point(&self, css: &str, at: Option<(i64, i64)>) -> Result<(i64, i64)> {
        let v = self
            .execute(
                "const r = document.querySelector(arguments[0]).getBoundingClientRect(); const at = arguments[1];\
                 return at ? [Math.round(r.x + at[0]), Math.round(r.y + at[1])] : [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)];",
                json!([css, at.map(|(x, y)| [x, y])]),
            )
            .await
            .with_context(|| format!("the position of '{css}'"))?;
        Ok(serde_json::from_value(v)?)
    }

    /// Presses the pointer at `from`, moves to `to` in `steps` moves of about 50 ms and releases
    /// it there (W3C pointer actions, viewport coordinates): a drag as a hand makes it.
    pub async fn drag_points(&self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), steps: i64) -> Result<()> {
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": "viewport", "x": x0, "y": y0}),
            json!({"type": "pointerDown", "button": 0}),
            json!({"type": "pause", "duration": 100}),
        ];
        let steps = steps.max(1);
        for i in 1..=steps {
            let (x, y) = (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps);
            actions.push(json!({"type": "pointerMove", "duration": 50, "origin": "viewport", "x": x, "y": y}));
        }
        actions.push(json!({"type": "pause", "duration": 150}));
        actions.push(json!({"type": "pointerUp", "button": 0}));
        let body = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]});
        self.post("/actions", body).await?;
        Ok(())
    }

    /// Presses and releases each key of `keys` in turn, sent to whatever has the focus (W3C
    /// key actions): Tab moves the focus as a user's Tab does.
    pub async fn press(&self, keys: &str) -> Result<()> {
        let actions: Vec<Value> = keys.chars().flat_map(|k| [json!({"type": "keyDown", "value": k.to_string()}), json!({"type": "keyUp", "value": k.to_string()})]).collect();
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})).await?;
        Ok(())
    }

    /// Double-clicks the centre of what `css` matches, as a mouse does (W3C pointer actions).
    pub async fn double_click_css(&self, css: &str, timeout: Duration) -> Result<()> {
        self.wait(css, timeout).await?;
        let (x, y) = self.point(css, None).await?;
        let click = [json!({"type": "pointerDown", "button": 0}), json!({"type": "pointerUp", "button": 0})];
        let mut actions = vec![json!({"type": "pointerMove", "duration": 0, "origin": "viewport", "x": x, "y": y})];
        actions.extend(click.iter().cloned());
        actions.push(json!({"type": "pause", "duration": 60}));
        actions.extend(click.iter().cloned());
        let body = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]});
        self.post("/actions", body).await.with_context(|| format!("double-clicking '{css}'"))?;
        Ok(())
    }

    /// Drags from the centre of the element `from` selects to the centre of the one `to` selects,
    /// once both stand still (a canvas may still be framing what just appeared on it).
    pub async fn drag(&self, from: &str, to: &str) -> Result<()> {
        let (a, b) = (self.still_point(from).await?, self.still_point(to).await?);
        self.drag_points(a, b, 10).await
    }

    /// The centre of what `css` selects once it stays put for 250 ms (at most 5 s of waiting).
    async fn still_point(&self, css: &str) -> Result<(i64, i64)> {
        let mut last = self.point(css, None).await?;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = self.point(css, None).await?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
        anyhow::bail!("'{css}' kept moving for 5 s (last at {last:?})")
    }

    /// Drags the element `css` selects (from its centre) by `dx`, `dy`.
    pub async fn drag_by(&self, css: &str, dx: i64, dy: i64, steps: i64) -> Result<()> {
        let (x, y) = self.point(css, None).await?;
        self.drag_points((x, y), (x + dx, y + dy), steps).await
    }

    /// Drags from `at` (from the top-left corner of the element `css` selects) by `dx`, `dy`.
    pub async fn drag_by_at(&self, css: &str, at_x: i64, at_y: i64, dx: i64, dy: i64, steps: i64) -> Result<()> {
        let (x, y) = self.point(css, Some((at_x, at_y))).await?;
        self.drag_points((x, y), (x + dx, y + dy), steps).await
    }

    /// Starts recording the gaps between animation frames in the page (the main thread's
    /// longest blocks show as the longest gaps).
    pub async fn frames_start(&self) -> Result<()> {
        // Each recording has its own generation: a loop stopped less than a frame before the next
        // one starts would otherwise see the flag set again, run on beside it, and count every
        // frame (and every long one) twice.
        const START: &str = "window.__gaps = []; window.__probe = (window.__probe || 0) + 1; const gen = window.__probe; let last = null;\
            const frame = (now) => { if (window.__probe !== gen) return; if (last !== null) window.__gaps.push(now - last); last = now; requestAnimationFrame(frame); };\
            requestAnimationFrame(frame);";
        self.execute(START, json!([])).await.map(|_| ())
    }

    /// Stops recording and answers the gaps, in ms.
    pub async fn frames_stop(&self) -> Result<Vec<f64>> {
        let v = self.execute("window.__probe = (window.__probe || 0) + 1; const g = window.__gaps; window.__gaps = []; return g;", json!([])).await?;
        Ok(serde_json::from_value(v)?)
    }

    pub async fn screenshot(&self, path: &std::path::Path) -> Result<()> {
        let v = self.get("/screenshot").await?;
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.http.delete(&self.base).send().await?;
        Ok(())
    }
}
