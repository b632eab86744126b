//! The committed TypeScript declarations (`ui/src/platform/ipc.ts`) match the Rust IPC types.
//! `UPDATE_IPC_TYPES=1` rewrites the file instead of failing.

use std::path::PathBuf;

#[test]
fn committed_typescript_matches_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/platform/ipc.ts");
    let want = switchyard_studio::typescript_declarations();
    if std::env::var_os("UPDATE_IPC_TYPES").is_some() {
        std::fs::write(&path, &want).expect("write ipc.ts");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} is missing ({e}); run with UPDATE_IPC_TYPES=1", path.display()));
    assert!(
        have == want,
        "{} is out of date with the Rust IPC types; run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-studio --test ipc_types` and commit it",
        path.display()
    );
}
