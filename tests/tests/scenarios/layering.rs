//! The crates' layering, as the dependency graph says it: the node is a server and depends on
//! no client (neither switchyard-client nor reqwest), no crate under crates/ depends on Tauri,
//! SQL stays in the node's store, wire shapes are typed, and no crate has a circle of modules.

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
    for package in ["switchyard-protocol", "switchyard-node", "switchyard-client", "switchyard-sc", "switchyard-studio", "switchyard-tls", "switchyard-cli", "switchyard-testkit"] {
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
                // Test code is left out: what follows `#[cfg(test)]`, and whole `*_tests.rs`
                // files (a module's tests kept beside it with `#[path]`).
                let is_tests = path.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_tests.rs"));
                let code = if is_tests { String::new() } else { text.split("#[cfg(test)]").next().unwrap_or("").to_string() };
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
    for dir in ["crates/node/src", "crates/client/src", "crates/sc/src", "crates/studio/src", "crates/protocol/src", "src-tauri/src"] {
        for (file, code) in sources(dir) {
            assert!(!code.contains("json!("), "{dir}/{file} builds JSON with json!; use the switchyard-protocol types");
        }
    }
}

/// Which top-level modules of a crate's `src` each one names: `crate::x` paths, also inside
/// `crate::{…}` groups (tests left out). Items re-exported at the crate root (`crate::Name`)
/// are not followed to their module.
fn module_graph(dir: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (file, code) in sources(dir) {
        let top = file.split('/').next().unwrap_or("").trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let mut named = std::collections::BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let paths: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for p in paths {
                let name: String = p.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && name != "self" && name != top {
                    named.insert(name);
                }
            }
        }
        graph.entry(top).or_default().extend(named);
    }
    graph
}

/// A circle in `graph`, as the modules along it, if there is one.
fn a_circle(graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut circle = path[start..].to_vec();
            circle.push(at.to_string());
            return Some(circle);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph.keys().find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_circle_of_modules() {
    for dir in ["crates/node/src", "crates/studio/src", "crates/client/src", "crates/sc/src", "crates/protocol/src", "crates/cli/src"] {
        let graph = module_graph(dir);
        assert!(graph.len() >= 3, "{dir}: only {} modules found", graph.len());
        if let Some(circle) = a_circle(&graph) {
            panic!("{dir} has a circle of modules: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_circle_check_finds_a_circle_and_lets_a_chain_be() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(a_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(a_circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
}
