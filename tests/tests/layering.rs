//! The crates' layering, as the dependency graph says it: the node is a server and depends on
//! no client (neither switchyard-client nor reqwest), and no crate under crates/ depends on Tauri.

use std::process::Command;

/// `cargo tree` of a package's normal dependencies, one crate name per line.
fn normal_dependencies(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none", "-p", package])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree -p {package} failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let names: Vec<String> = text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    assert!(names.iter().any(|n| n == package), "cargo tree listed nothing for {package}: {text}");
    names
}

#[test]
fn the_node_depends_on_no_client() {
    let deps = normal_dependencies("switchyard-node");
    for forbidden in ["switchyard-client", "reqwest"] {
        assert!(!deps.iter().any(|d| d == forbidden), "switchyard-node depends on {forbidden}");
    }
}

#[test]
fn no_crate_under_crates_depends_on_tauri() {
    for package in ["switchyard-protocol", "switchyard-node", "switchyard-client"] {
        let deps = normal_dependencies(package);
        assert!(!deps.iter().any(|d| d == "tauri" || d.starts_with("tauri-")), "{package} depends on Tauri");
    }
}
