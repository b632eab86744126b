//! `switchyard instances add|test|remove`: an instance is added only once it answers with the
//! credentials given (a wrong password adds nothing), tested (exit 1 once it is down), removed;
//! with the studio's registry its password goes to a real Secret Service and nowhere else.

use std::process::Command;

use serde_json::Value;
use switchyard_testkit::{TestNode, ADMIN, PASSWORD};

use super::{errors, registry, switchyard, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_only_when_it_answers_tested_and_removed_with_passwords_from_the_environment() {
    let a = TestNode::launch("a").await;
    let mut b = TestNode::launch("b").await;
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), &[&a]);
    let before = std::fs::read_to_string(&reg).unwrap();

    let wrong = super::command(&reg, &[], &["instances", "add", "b", &b.url(), "--username", ADMIN]).env("SWITCHYARD_PASSWORD_B", "not-it").output().unwrap();
    assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
    assert!(errors(&wrong).contains("'b' was not added"), "{wrong:?}");
    assert_eq!(std::fs::read_to_string(&reg).unwrap(), before, "a refused add writes nothing");
    let no_password = super::command(&reg, &[], &["instances", "add", "b", &b.url(), "--username", ADMIN]).output().unwrap();
    assert!(no_password.status.code() == Some(1) && errors(&no_password).contains("SWITCHYARD_PASSWORD_B"), "{no_password:?}");

    let added = switchyard(&reg, &[&a, &b], &["instances", "add", "b", &b.url(), "--username", ADMIN]);
    assert!(added.status.success(), "{added:?}");
    assert!(text(&added).contains("read from SWITCHYARD_PASSWORD_B"), "{added:?}");
    let file = std::fs::read_to_string(&reg).unwrap();
    let saved: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(saved["launched"], true, "the file's other keys are kept: {file}");
    assert_eq!(saved["instances"].as_array().map(Vec::len), Some(2), "{file}");
    assert!(!file.contains(PASSWORD), "no password in the registry: {file}");
    let again = switchyard(&reg, &[&a, &b], &["instances", "add", "b", &b.url(), "--username", ADMIN]);
    assert!(again.status.code() == Some(1) && errors(&again).contains("already registered"), "{again:?}");

    let tested = switchyard(&reg, &[&a, &b], &["instances", "test", "b"]);
    assert!(tested.status.success() && text(&tested).starts_with("b\tonline"), "{tested:?}");
    b.stop().await;
    let down = switchyard(&reg, &[&a, &b], &["instances", "test", "b"]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(text(&down).contains("offline") && errors(&down).contains("'b' does not answer"), "{down:?}");

    let removed = switchyard(&reg, &[&a, &b], &["instances", "remove", "b"]);
    assert!(removed.status.success(), "{removed:?}");
    let listed = switchyard(&reg, &[&a], &["instances", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().map(|l| l.iter().map(|i| i["name"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>()), Some(vec!["a".to_string()]), "{listed}");
}

/// With no --registry, the studio's own list (under XDG_DATA_HOME) and keychain: the password read
/// from stdin is kept in gnome-keyring, used from there, and deleted with the instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_registry_keeps_the_password_in_the_keychain() {
    let a = TestNode::launch("a").await;
    let home = tempfile::tempdir().unwrap();
    let run = home.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let cli = env!("CARGO_BIN_EXE_switchyard");
    // One D-Bus session for every step: its keyring is the studio's keychain.
    let script = format!(
        r#"set -u
printf '%s' switchyard-cli | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf '%s\n' "$PW" | {cli} instances add a {url} --username {ADMIN} --password-stdin > add.out 2>&1; echo "add $?" >> steps
cp "$XDG_DATA_HOME/dev.switchyard.studio/instances.json" registry.json
secret-tool search service switchyard-studio > secrets.before 2>&1
{cli} instances test a > test.out 2>&1; echo "test $?" >> steps
{cli} instances remove a > remove.out 2>&1; echo "remove $?" >> steps
secret-tool search service switchyard-studio > secrets.after 2>&1
"#,
        url = a.url()
    );
    let done = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .current_dir(home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", &run)
        .env("PW", PASSWORD)
        .output()
        .expect("dbus-run-session (installed by make test) runs");
    assert!(done.status.success(), "{done:?}");
    let read = |f: &str| std::fs::read_to_string(home.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(read("steps"), "add 0\ntest 0\nremove 0\n", "add: {} test: {} remove: {}", read("add.out"), read("test.out"), read("remove.out"));
    assert!(read("add.out").contains("its password is in the keychain"), "{}", read("add.out"));
    let registry = read("registry.json");
    assert!(registry.contains("\"name\":\"a\"") && !registry.contains(PASSWORD), "{registry}");
    assert!(read("secrets.before").contains(PASSWORD), "the keyring holds it: {}", read("secrets.before"));
    assert!(read("test.out").starts_with("a\tonline"), "{}", read("test.out"));
    assert!(!read("secrets.after").contains(PASSWORD), "removed with the instance: {}", read("secrets.after"));
}
