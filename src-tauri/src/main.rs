//! The studio's entry point; everything else is in the library (`switchyard_app::run`).

// No extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    switchyard_app::run()
}
