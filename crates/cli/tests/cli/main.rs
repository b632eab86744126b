//! `switchyard` run as a user runs it, against real nodes on loopback: each module one family of
//! subcommands; passwords from the environment (`SWITCHYARD_PASSWORD_<NAME>`), or from a real
//! Secret Service (gnome-keyring in dbus-run-session) where the keychain is the point.

mod instances;
mod tail;
mod verify;
mod wiring;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use switchyard_studio::links::{plan_link, Direction, LinkChannel, LinkRequest, Party};
use switchyard_testkit::{TestNode, ADMIN, PASSWORD};

pub fn party(n: &TestNode) -> Party {
    Party { id: format!("id-{}", n.name), name: n.name.clone(), node_name: n.name.clone(), url: n.url(), trust: Default::default(), server_kind: Some(switchyard_client::ServerKind::SwitchyardNode), client: n.client.clone() }
}

/// `from` dials `to` and pushes `channel`, as the canvas links them.
pub async fn link(from: &TestNode, to: &TestNode, channel: &str) {
    let req = LinkRequest { a: format!("id-{}", from.name), b: format!("id-{}", to.name), channels: vec![LinkChannel { channel: channel.into(), direction: Direction::AToB }], ..Default::default() };
    assert!(plan_link(&req, party(from), party(to)).await.unwrap().apply().await.ok);
}

/// A registry file naming `nodes` (the studio's form), in `dir`.
pub fn registry(dir: &Path, nodes: &[&TestNode]) -> std::path::PathBuf {
    let path = dir.join("instances.json");
    let specs: Vec<_> = nodes.iter().map(|n| json!({"id": format!("id-{}", n.name), "name": n.name, "url": n.url(), "username": ADMIN, "kind": "remote"})).collect();
    std::fs::write(&path, json!({"instances": specs, "launched": true}).to_string()).unwrap();
    path
}

/// `switchyard --registry FILE ARGS…`, every node's password in its variable.
pub fn command(registry: &Path, nodes: &[&TestNode], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    c.arg("--registry").arg(registry).args(args);
    for n in nodes {
        c.env(format!("SWITCHYARD_PASSWORD_{}", n.name.to_uppercase()), PASSWORD);
    }
    c
}

pub fn switchyard(registry: &Path, nodes: &[&TestNode], args: &[&str]) -> Output {
    command(registry, nodes, args).output().expect("switchyard runs")
}

pub fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn errors(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn completions_and_help_are_printed() {
    let bash = Command::new(env!("CARGO_BIN_EXE_switchyard")).args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success() && text(&bash).contains("_switchyard()") && text(&bash).contains("wiring"), "{bash:?}");
    let help = Command::new(env!("CARGO_BIN_EXE_switchyard")).arg("--help").output().unwrap();
    assert!(text(&help).contains("Examples:") && text(&help).contains("Exit codes"), "{help:?}");
    let bad = Command::new(env!("CARGO_BIN_EXE_switchyard")).args(["wiring", "apply"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap's usage error: {bad:?}");
}

/// Colour on a terminal (a pty made by `script`), none with NO_COLOR and none into a pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    let a = TestNode::launch("a").await;
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), &[&a]);
    let line = format!("{} --registry {} instances list", env!("CARGO_BIN_EXE_switchyard"), reg.display());
    let on_terminal = |no_color: bool| {
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"]).env("SWITCHYARD_PASSWORD_A", PASSWORD).env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        c.output().expect("`script` (util-linux) runs the command on a pty")
    };
    let coloured = on_terminal(false);
    assert!(coloured.status.success() && text(&coloured).contains("\x1b[32monline"), "{coloured:?}");
    let plain = on_terminal(true);
    assert!(plain.status.success() && text(&plain).contains("online") && !text(&plain).contains('\x1b'), "{plain:?}");
    let piped = switchyard(&reg, &[&a], &["instances", "list"]);
    assert!(text(&piped).contains("online") && !text(&piped).contains('\x1b'), "{piped:?}");
}
