//! The real npm socketcluster-client against switchyard-node: refused before login, logs in
//! through the `login` procedure, subscribes to `dev:dog`, receives the transactions of writes
//! made through the Operations API, and publishes a record that is then in the table. Issue 17's
//! loop (refused subscribe, unsubscribe, login, subscribe) never leaves a subscription pending.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Node script of tests/js; its stdout lines arrive on the returned channel.
fn run_script(script: &str, args: &[String]) -> (Script, mpsc::Receiver<Value>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/js");
    assert!(
        std::path::Path::new(dir).join("node_modules/socketcluster-client").exists(),
        "socketcluster-client is not installed in {dir}; `make test` installs it (npm install --prefix tests/js)"
    );
    let mut child = Command::new("node")
        .arg(format!("{dir}/{script}"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed to run the socketcluster-client test (make test installs it)");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v = serde_json::from_str(&line).unwrap_or_else(|_| json!({"step": "noise", "line": line}));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    (Script(child), rx)
}

fn next_step(rx: &mpsc::Receiver<Value>, deadline: Instant) -> Value {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = rx.recv_timeout(left).unwrap_or_else(|e| panic!("no output from the socketcluster-client script in time: {e}"));
        if v["step"] == "failed" {
            panic!("the socketcluster-client script failed: {}", v["error"]);
        }
        if v["step"] != "noise" {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_socketcluster_client_tails_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let (node, ops) = switchyard_testkit::launch_in(dir.path(), "edge", 0, |c| c.admin_password = Some("sc-pw".into())).await;
    ops.create_table("dev", "dog", "id").await.unwrap();

    let port = node.addr.port().to_string();
    let (_script, rx) = run_script("sc-scenario.mjs", &[port, "admin".into(), "sc-pw".into(), "dev:dog".into(), "3".into()]);
    let deadline = Instant::now() + Duration::from_secs(60);

    let connected = next_step(&rx, deadline);
    assert_eq!(connected, json!({"step": "connected", "isAuthenticated": false, "pingTimeout": 20000}));
    let refused = next_step(&rx, deadline);
    assert_eq!(refused["step"], "refused-subscribe");
    assert_eq!(refused["error"]["name"], "SubscribeAuthError", "{refused}");
    let refused = next_step(&rx, deadline);
    assert_eq!(refused["step"], "refused-publish");
    assert_eq!(refused["error"]["name"], "PublishAuthError", "{refused}");
    let bad = next_step(&rx, deadline);
    assert_eq!(bad["error"]["name"], "LoginError", "{bad}");
    let logged_in = next_step(&rx, deadline);
    assert_eq!(logged_in["login"], json!({"username": "admin"}));
    assert_eq!(logged_in["authToken"]["username"], "admin", "the client decoded the JWT set by #setAuthToken: {logged_in}");
    assert_eq!(next_step(&rx, deadline)["step"], "subscribed");

    // Three committed transactions: a two-record insert, an update, a delete.
    ops.insert("dev", "dog", &[json!({"id": 1, "name": "Penny"}), json!({"id": 2, "name": "Harper"})]).await.unwrap();
    ops.call(&json!({"operation": "update", "database": "dev", "table": "dog", "records": [{"id": 1, "age": 8}]})).await.unwrap();
    ops.call(&json!({"operation": "delete", "database": "dev", "table": "dog", "ids": [2]})).await.unwrap();

    let mut last_id = 0;
    let mut got = Vec::new();
    for _ in 0..3 {
        let p = next_step(&rx, deadline);
        assert_eq!(p["step"], "publication", "{p}");
        let data = p["data"].clone();
        assert_eq!(data["channel"], "dev:dog");
        assert_eq!(data["origin"], "edge");
        let id = data["id"].as_i64().expect("transaction id");
        assert!(id > last_id, "transaction ids increase: {id} after {last_id}");
        last_id = id;
        got.push(data);
    }
    assert_eq!(got[0]["operation"], "insert");
    assert_eq!(got[0]["records"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect::<Vec<_>>(), [json!("Penny"), json!("Harper")]);
    assert_eq!(got[1]["operation"], "update");
    assert_eq!(got[1]["records"][0]["age"], 8);
    assert_eq!(got[1]["records"][0]["name"], "Penny", "updates carry the whole merged record");
    assert_eq!(got[2]["operation"], "delete");
    assert_eq!(got[2]["ids"], json!([2]));

    let published = next_step(&rx, deadline);
    assert_eq!(published["ack"], json!({"inserted_hashes": ["from-sc"], "skipped_hashes": []}), "{published}");
    let own = next_step(&rx, deadline);
    assert_eq!(own["data"]["operation"], "insert");
    assert_eq!(own["data"]["user"], "admin");
    assert_eq!(own["data"]["records"][0]["id"], "from-sc");
    assert_eq!(next_step(&rx, deadline)["step"], "done");

    let row = ops.call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": ["from-sc"], "get_attributes": ["name"]})).await.unwrap();
    assert_eq!(row, json!([{"name": "published by socketcluster-client"}]), "the publish was written to the table");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_refused_before_login_never_leaves_the_next_one_pending() {
    let dir = tempfile::tempdir().unwrap();
    let (node, ops) = switchyard_testkit::launch_in(dir.path(), "observed", 0, |c| c.admin_password = Some("sc-pw".into())).await;
    ops.create_table("dev", "observed", "id").await.unwrap();
    let port = node.addr.port().to_string();
    let (_script, rx) = run_script("sc-resubscribe.mjs", &[port, "admin".into(), "sc-pw".into(), "dev:observed".into(), "400".into()]);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut stuck = Vec::new();
    let done = loop {
        let v = next_step(&rx, deadline);
        match v["step"].as_str() {
            Some("stuck") => stuck.push(v),
            Some("done") => break v,
            _ => panic!("unexpected output {v}"),
        }
    };
    assert!(stuck.is_empty(), "stuck iterations (with their frames): {stuck:#?}");
    assert_eq!(done["stuck"], 0, "{done}");
    assert_eq!(done["of"], 400, "{done}");
    assert_eq!(done["inflight"], json!({"ok": true}), "a subscribe sent while the login is in flight: {done}");
    // Every iteration's publish and the in-flight one were written.
    assert_eq!(ops.describe_table("dev", "observed").await.unwrap().record_count, 401);
    node.stop().await;
}
