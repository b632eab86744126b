//! switchyard-studio: the Tauri shell. Owns the app's state (registry, local supervisor), wires
//! the commands and the window; all behaviour lives in switchyard-client and switchyard-node.

mod commands;
mod error;
mod local;
mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use switchyard_client::studio::{InstanceKind, Keychain, Registry};
use tauri::{Emitter, Manager, RunEvent};
use tauri_plugin_store::StoreExt;

pub use error::{Error, Result};
use local::LocalInstances;

/// Everything the commands reach.
pub struct Studio {
    pub registry: Registry,
    pub local: LocalInstances,
    pub exports: PathBuf,
}

impl Studio {
    /// Removes any instance; a local one is stopped and its data deleted.
    pub async fn remove(&self, id: &str) -> Result<()> {
        if self.registry.get(id)?.kind == InstanceKind::Local {
            self.local.delete(&self.registry, id).await
        } else {
            self.registry.remove(id)?;
            Ok(())
        }
    }

    /// Writes an export into the exports folder under a unique name and returns its path.
    pub fn export(&self, name: &str, contents: &str) -> Result<String> {
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
        if safe.is_empty() || safe.starts_with('.') {
            return Err(Error::Invalid(format!("'{name}' is not a usable file name")));
        }
        std::fs::create_dir_all(&self.exports)?;
        let mut path = self.exports.join(&safe);
        let mut n = 1;
        while path.exists() {
            path = self.exports.join(format!("{n}-{safe}"));
            n += 1;
        }
        std::fs::write(&path, contents)?;
        Ok(path.display().to_string())
    }
}

/// Emitted when the set or state of instances changed outside a command's answer.
pub const REGISTRY_CHANGED: &str = "registry-changed";

fn setup(app: &mut tauri::App) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let data = app.path().app_data_dir()?;
    std::fs::create_dir_all(&data)?;
    let store = app.store("instances.json")?;
    let first_launch = store.get("launched").is_none();
    store.set("launched", true);
    store.save()?;
    let registry = Registry::open(Box::new(storage::PluginStore { store }), Keychain::default())?;
    let exports = app.path().download_dir().unwrap_or_else(|_| data.join("exports")).join("switchyard");
    let studio = Arc::new(Studio { registry, local: LocalInstances::new(data.join("instances")), exports });
    app.manage(studio.clone());
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        studio.local.launch(&studio.registry, first_launch).await;
        let _ = handle.emit(REGISTRY_CHANGED, ());
    });
    Ok(())
}

pub fn run() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).init();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(setup)
        .invoke_handler(tauri::generate_handler![
            commands::registry_view,
            commands::instance_save,
            commands::instance_remove,
            commands::instance_test,
            commands::instance_status,
            commands::local_create,
            commands::local_cluster,
            commands::local_start,
            commands::local_stop,
            commands::local_states,
            commands::local_credentials,
            commands::tree,
            commands::table_info,
            commands::page,
            commands::write_records,
            commands::delete_records,
            commands::run_sql,
            commands::create_database,
            commands::drop_database,
            commands::create_table,
            commands::drop_table,
            commands::export_file,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("switchyard-studio could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            // Local instances flush and close their databases before the process ends.
            let studio = handle.state::<Arc<Studio>>().inner().clone();
            tauri::async_runtime::block_on(studio.local.stop_all());
        }
    });
}
