//! `switchyard tail`: the records written, one NDJSON line per transaction, from the log and then
//! live, filtered; a reader that goes away (`| head`) ends it quietly with exit 0.

use std::process::Stdio;

use serde_json::{json, Value};
use switchyard_testkit::TestNode;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{command, registry, switchyard, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_the_records_written_as_ndjson_and_ends_quietly_on_a_closed_pipe() {
    let a = TestNode::launch("a").await;
    a.table("t").await;
    for id in 1..=3 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": id, "v": format!("r{id}")}]})).await;
    }
    a.ok(json!({"operation": "delete", "database": "dev", "table": "t", "ids": [2]})).await;
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), &[&a]);

    let all = switchyard(&reg, &[&a], &["tail", "dev:t", "--node", "a", "--from", "0", "--count", "4"]);
    assert!(all.status.success(), "{all:?}");
    let lines: Vec<Value> = text(&all).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    let ops: Vec<&str> = lines.iter().map(|l| l["operation"].as_str().unwrap_or("")).collect();
    assert_eq!(ops, ["insert", "insert", "insert", "delete"], "{lines:?}");
    assert_eq!((&lines[1]["data"][0]["id"], &lines[1]["data"][0]["v"]), (&json!(2), &json!("r2")), "{lines:?}");
    assert_eq!(lines[3]["data"], json!([2]));
    assert!(lines.iter().all(|l| l["channel"] == "dev:t" && l["origin"] == "a"), "{lines:?}");
    let after = lines[1]["id"].as_i64().unwrap();

    let deletes = switchyard(&reg, &[&a], &["tail", "dev:t", "--node", "a", "--from", "0", "--op", "delete", "--count", "1"]);
    assert_eq!(text(&deletes).lines().count(), 1, "{deletes:?}");
    let grep = switchyard(&reg, &[&a], &["tail", "dev:t", "--node", "a", "--from", &after.to_string(), "--grep", "R3", "--count", "1"]);
    let found: Value = serde_json::from_str(text(&grep).trim()).unwrap();
    assert_eq!(found["data"][0]["v"], "r3", "from a log id, any case: {grep:?}");
    let refused = switchyard(&reg, &[&a], &["tail", "dev:nothing", "--node", "a"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");

    // Live: what is written after the tail starts is printed; then the reader goes away and the
    // next record written ends the tail with exit 0, no panic, nothing on stderr but status.
    let mut child = tokio::process::Command::from(command(&reg, &[&a], &["tail", "dev:t", "--node", "a"])).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_id = 10;
    let mut seen = Vec::new();
    for _ in 0..100 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": next_id}]})).await;
        next_id += 1;
        if let Ok(Ok(Some(line))) = tokio::time::timeout(std::time::Duration::from_millis(200), lines.next_line()).await {
            seen.push(serde_json::from_str::<Value>(&line).unwrap());
            break;
        }
    }
    let first = seen.first().expect("a live record is printed");
    assert_eq!(first["operation"], "insert");
    assert!(first["data"][0]["id"].as_i64().is_some_and(|id| id >= 10), "{first}");
    drop(lines);
    let mut status = None;
    for _ in 0..100 {
        a.ok(json!({"operation": "insert", "database": "dev", "table": "t", "records": [{"id": next_id}]})).await;
        next_id += 1;
        if let Ok(Ok(s)) = tokio::time::timeout(std::time::Duration::from_millis(100), child.wait()).await {
            status = Some(s);
            break;
        }
    }
    let status = status.expect("the tail ends once its reader is gone");
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).await.unwrap();
    assert!(status.success(), "{status:?} {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}
