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

/// Every `.rs` file under `dir` (relative to the workspace), with its text up to its first
/// `#[cfg(test)]` (tests may build what they like).
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
                out.push((path.strip_prefix(&root).expect("under root").display().to_string(), code));
            }
        }
    }
    assert!(out.len() >= 3, "found only {} sources under {dir}", out.len());
    out
}

#[test]
fn sql_lives_only_in_the_nodes_store() {
    for (file, code) in sources("crates/node/src") {
        if file.starts_with("store/") || file == "error.rs" {
            continue;
        }
        assert!(!code.contains("sqlx::query") && !code.contains("use sqlx"), "crates/node/src/{file} runs SQL outside store/");
    }
}

#[test]
fn no_wire_shape_is_built_with_json_macros() {
    for dir in ["crates/node/src", "crates/client/src", "crates/sc/src", "crates/studio/src"] {
        for (file, code) in sources(dir) {
            assert!(!code.contains("json!("), "{dir}/{file} builds JSON with json!; use the switchyard-protocol types");
        }
    }
}
