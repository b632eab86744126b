//! Durability: a restarted node has all its data, users and tokens; the binary's first start
//! generates and prints a password once; settings come from flags, environment or a file.


use std::process::Command;

use crate::common::{spawn, TestNode};
use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};

#[tokio::test]
async fn a_restart_keeps_records_counts_attributes_users_and_tokens() {
    let mut n = TestNode::start().await;
    n.table("keep").await;
    let records: Vec<Value> = (0..2000).map(|i| json!({"id": i, "v": format!("value {i}")})).collect();
    n.ok(json!({"operation": "insert", "database": "dev", "table": "keep", "records": records})).await;
    n.ok(json!({"operation": "delete", "database": "dev", "table": "keep", "ids": [5, 6]})).await;
    n.ok(json!({"operation": "create_attribute", "database": "dev", "table": "keep", "attribute": "later"})).await;
    n.ok(json!({"operation": "add_role", "role": "r", "permission": {"dev": {"tables": {"keep": {"read": true}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "r", "username": "carol", "password": "pw"})).await;
    let token = n.ok(json!({"operation": "create_authentication_tokens"})).await["operation_token"].as_str().unwrap().to_string();
    let before = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "keep"})).await;

    n.restart().await;

    let after = n.ok(json!({"operation": "describe_table", "database": "dev", "table": "keep"})).await;
    assert_eq!(after["record_count"], 1998);
    assert_eq!(after["attributes"], before["attributes"]);
    let all = n.all("keep").await;
    assert_eq!(all.len(), 1998);
    assert_eq!(all[100], json!({"id": 102, "v": "value 102", "__createdtime__": all[100]["__createdtime__"], "__updatedtime__": all[100]["__updatedtime__"]}));
    let carol = n.as_user("carol", "pw");
    assert_eq!(carol.call(&json!({"operation": "describe_table", "database": "dev", "table": "keep"})).await.unwrap()["record_count"], 1998);
    let with_token = n.client.with_credentials(Credentials::Bearer(token));
    assert_eq!(with_token.call(&json!({"operation": "user_info"})).await.unwrap()["username"], "admin", "tokens survive a restart");
}

#[tokio::test]
async fn the_binary_generates_a_password_once_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let (proc1, url, lines) = spawn(&["--data", data, "--port", "0", "--node-name", "edge"], &[]);
    let pw_line = lines.iter().find(|l| l.contains("generated password")).unwrap_or_else(|| panic!("no password in {lines:?}"));
    let password = pw_line.rsplit(' ').next().unwrap().to_string();
    assert_eq!(password.len(), 24);
    let c = OpsClient::new(&url, Credentials::basic("admin", &password)).unwrap();
    c.create_table("dev", "t", "id").await.unwrap();
    c.insert("dev", "t", &[json!({"id": 1, "a": "kept"})]).await.unwrap();
    assert_eq!(c.registration_info().await.unwrap().node_name.as_deref(), Some("edge"));
    drop(proc1); // SIGKILL: durability must not depend on a clean shutdown

    // A second start neither prints nor changes the password; the flag is ignored for an existing folder.
    let (_proc2, url, lines) = spawn(&["--data", data, "--port", "0", "--node-name", "edge", "--admin-password", "other"], &[]);
    assert!(!lines.iter().any(|l| l.contains("password")), "{lines:?}");
    let c = OpsClient::new(&url, Credentials::basic("admin", &password)).unwrap();
    let rows = c.sql("SELECT a FROM dev.t").await.unwrap();
    assert_eq!(rows, json!([{"a": "kept"}]));
}

#[tokio::test]
async fn settings_come_from_env_and_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    let data = dir.path().join("d");
    std::fs::write(&file, format!("data = {:?}\nport = 0\nnode_name = \"from-file\"\nadmin_user = \"boss\"\n", data.to_str().unwrap())).unwrap();
    let (_p, url, _) = spawn(&["--config", file.to_str().unwrap()], &[("SWITCHYARD_ADMIN_PASSWORD", "env-pw"), ("SWITCHYARD_NODE_NAME", "from-env")]);
    let c = OpsClient::new(&url, Credentials::basic("boss", "env-pw")).unwrap();
    assert_eq!(c.registration_info().await.unwrap().node_name.as_deref(), Some("from-env"), "env wins over the file");

    std::fs::write(&file, "prot = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-node")).args(["--config", file.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not valid") && err.contains("prot"), "{err}");
}

#[tokio::test]
async fn the_admin_password_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("admin-password");
    std::fs::write(&secret, "from-a-file\n").unwrap();
    let data = dir.path().join("d");
    let (_p, url, lines) = spawn(&["--data", data.to_str().unwrap(), "--port", "0", "--admin-password-file", secret.to_str().unwrap()], &[]);
    assert!(!lines.iter().any(|l| l.contains("generated password")), "{lines:?}");
    let c = OpsClient::new(&url, Credentials::basic("admin", "from-a-file")).unwrap();
    assert!(c.registration_info().await.is_ok());

    std::fs::write(&secret, "\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-node")).args(["--data", dir.path().join("e").to_str().unwrap(), "--admin-password-file", secret.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("is empty"), "{out:?}");
}

/// Its reader gone (`switchyard-node | head -3`), the binary still serves and stops cleanly: no
/// line it prints can panic it.
#[test]
fn a_closed_stdout_neither_panics_nor_stops_the_binary() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-node"))
        .args(["--data", dir.path().join("d").to_str().unwrap(), "--port", "0", "--admin-password", "pw"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let listening = line.contains("listening on");
        seen.push(line);
        if listening {
            break;
        }
    }
    assert!(seen.iter().any(|l| l.contains("listening on")), "{seen:?}");
    drop(lines);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !errors.contains("panicked"), "{:?} {errors}", out.status);
}
