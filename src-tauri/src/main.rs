//! The studio's entry point; everything else is in the library (`switchyard_app::run`).

// No extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc instead of glibc's malloc: the write path allocates per record (JSON values, keys,
/// SQL arguments), and glibc spent ~20 % of an insert batch in malloc and free (BENCHMARKS.md,
/// "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let settled = switchyard_app::footprint::settle();
    switchyard_app::run(settled)
}
