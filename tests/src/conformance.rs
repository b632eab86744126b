//! Runs `conformance/harperdb-4.7.json` against a server: each case's request is sent in order
//! and its answer matched against the expected status and body (or the target's override).

use serde_json::Value;
use switchyard_client::{Credentials, OpsClient};

/// Which server is being checked; selects the per-server overrides in the file.
pub struct Target {
    /// "switchyard" or "harperdb".
    pub kind: &'static str,
    pub url: String,
    pub admin_user: String,
    pub admin_password: String,
}

pub fn load() -> anyhow::Result<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/harperdb-4.7.json");
    let text = std::fs::read_to_string(path)?;
    Ok(serde_json::from_str(&text)?)
}

/// The difference ids the transcript's overrides name, with the case naming each; an override
/// without a known difference and a why is an error.
pub fn differences_named() -> anyhow::Result<Vec<(String, String)>> {
    let file = load()?;
    let cases = file["cases"].as_array().ok_or_else(|| anyhow::anyhow!("no cases"))?;
    let mut named = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        for server in ["switchyard", "harperdb"] {
            let Some(over) = case.get(server) else { continue };
            let id = over.get("difference").and_then(Value::as_str).ok_or_else(|| anyhow::anyhow!("case '{name}': its {server} override names no difference"))?;
            anyhow::ensure!(switchyard_client::differences::difference(id).is_some(), "case '{name}': difference '{id}' is not in switchyard_client::DIFFERENCES");
            anyhow::ensure!(over.get("why").and_then(Value::as_str).is_some_and(|w| !w.is_empty()), "case '{name}': its {server} override says no why");
            named.push((id.to_string(), name.to_string()));
        }
    }
    Ok(named)
}

/// Replaces `<admin password>` anywhere in a request.
fn fill(v: &Value, password: &str) -> Value {
    match v {
        Value::String(s) if s == "<admin password>" => Value::String(password.to_string()),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, password)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, password))).collect()),
        other => other.clone(),
    }
}

/// Does `got` satisfy `expected`? Err says where and how it does not.
pub fn matches(expected: &Value, got: &Value, path: &str) -> Result<(), String> {
    match expected {
        Value::String(s) if s == "<any>" => Ok(()),
        Value::String(s) if s == "<string>" => got.is_string().then_some(()).ok_or_else(|| format!("{path}: expected a string, got {got}")),
        Value::String(s) if s == "<number>" => got.is_number().then_some(()).ok_or_else(|| format!("{path}: expected a number, got {got}")),
        Value::String(s) if s == "<array>" => got.is_array().then_some(()).ok_or_else(|| format!("{path}: expected an array, got {got}")),
        Value::String(s) if s == "<object>" => got.is_object().then_some(()).ok_or_else(|| format!("{path}: expected an object, got {got}")),
        Value::Object(o) if o.len() == 1 && o.contains_key("<unordered>") => {
            let want = o["<unordered>"].as_array().ok_or_else(|| format!("{path}: <unordered> needs an array"))?;
            let have = got.as_array().ok_or_else(|| format!("{path}: expected an array, got {got}"))?;
            if want.len() != have.len() {
                return Err(format!("{path}: expected {} items, got {}: {got}", want.len(), have.len()));
            }
            let mut used = vec![false; have.len()];
            for (i, w) in want.iter().enumerate() {
                let hit = have.iter().enumerate().position(|(j, h)| !used[j] && matches(w, h, path).is_ok());
                match hit {
                    Some(j) => used[j] = true,
                    None => return Err(format!("{path}[{i}]: no item matches {w} in {got}")),
                }
            }
            Ok(())
        }
        Value::Object(o) => {
            let g = got.as_object().ok_or_else(|| format!("{path}: expected an object, got {got}"))?;
            for (k, w) in o {
                let h = g.get(k).ok_or_else(|| format!("{path}.{k}: missing in {got}"))?;
                matches(w, h, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(a) => {
            let h = got.as_array().ok_or_else(|| format!("{path}: expected an array, got {got}"))?;
            if a.len() != h.len() {
                return Err(format!("{path}: expected {} items, got {}: {got}", a.len(), h.len()));
            }
            a.iter().zip(h).enumerate().try_for_each(|(i, (w, x))| matches(w, x, &format!("{path}[{i}]")))
        }
        Value::Number(n) => match got.as_f64() {
            Some(g) if n.as_f64() == Some(g) => Ok(()),
            _ => Err(format!("{path}: expected {n}, got {got}")),
        },
        other => (other == got).then_some(()).ok_or_else(|| format!("{path}: expected {other}, got {got}")),
    }
}

/// How often a case marked `harperdb_settles` is asked of HarperDB before it counts as failed.
const SETTLE_TRIES: usize = 30;

/// Runs every case in order; returns (cases run, failures described).
pub async fn run(target: &Target) -> anyhow::Result<(usize, Vec<String>)> {
    let file = load()?;
    let cases = file["cases"].as_array().ok_or_else(|| anyhow::anyhow!("no cases"))?;
    let admin = OpsClient::new(&target.url, Credentials::basic(&target.admin_user, &target.admin_password))?;
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let client = match case["auth"].as_str().unwrap_or("admin") {
            "admin" => admin.clone(),
            "none" => admin.with_credentials(Credentials::None),
            "wrong" => admin.with_credentials(Credentials::basic(&target.admin_user, "definitely-wrong")),
            "unknown" => admin.with_credentials(Credentials::basic("nouser", "x")),
            "reader" => admin.with_credentials(Credentials::basic("reader", "pw123")),
            other => anyhow::bail!("case '{name}': unknown auth '{other}'"),
        };
        let (body, content_type) = match case.get("raw").and_then(Value::as_str) {
            Some(raw) => (raw.as_bytes().to_vec(), case["content_type"].as_str().unwrap_or("application/json")),
            None => (fill(&case["request"], &target.admin_password).to_string().into_bytes(), "application/json"),
        };
        let over = case.get(target.kind);
        let status = over.and_then(|o| o.get("status")).unwrap_or(&case["status"]).as_u64().unwrap_or(0) as u16;
        let expected = over.and_then(|o| o.get("body")).unwrap_or(&case["body"]);
        // HarperDB spreads a schema change to its worker threads asynchronously: such a case
        // may be asked again (bounded), and must then answer as expected; switchyard-node never.
        let tries = match (target.kind, case.get("harperdb_settles")) {
            ("harperdb", Some(why)) => {
                anyhow::ensure!(why.as_str().is_some_and(|w| !w.is_empty()), "case '{name}': harperdb_settles says no why");
                SETTLE_TRIES
            }
            _ => 1,
        };
        let mut outcome = Ok(());
        for attempt in 0..tries {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let got = client.send_bytes(body.clone(), content_type).await?;
            outcome = if got.status != status {
                Err(format!("{name}: status {} (expected {status}): {}", got.status, got.text))
            } else {
                matches(expected, &got.body, "body").map_err(|why| format!("{name}: {why}"))
            };
            if outcome.is_ok() {
                break;
            }
        }
        if let Err(failure) = outcome {
            failures.push(failure);
        }
    }
    Ok((cases.len(), failures))
}

#[cfg(test)]
mod tests {
    use super::matches;
    use serde_json::json;

    #[test]
    fn the_matcher_can_fail() {
        assert!(matches(&json!({"a": 1}), &json!({"a": 1, "b": 2}), "b").is_ok());
        assert!(matches(&json!({"a": 1}), &json!({"a": 2}), "b").is_err());
        assert!(matches(&json!({"a": 1}), &json!({}), "b").is_err());
        assert!(matches(&json!([1, 2]), &json!([2, 1]), "b").is_err());
        assert!(matches(&json!({"<unordered>": [1, 2]}), &json!([2, 1]), "b").is_ok());
        assert!(matches(&json!({"<unordered>": [1, 1]}), &json!([1, 2]), "b").is_err());
        assert!(matches(&json!("<string>"), &json!(1), "b").is_err());
        assert!(matches(&json!("<number>"), &json!(1.5), "b").is_ok());
        assert!(matches(&json!(null), &json!(0), "b").is_err());
        assert!(matches(&json!(25.5), &json!(25.5), "b").is_ok());
    }
}
