//! The registry's persistence: a tauri-plugin-store file (`instances.json`) in the app's
//! config folder. Only specs are written; passwords never reach this file.

use std::sync::Arc;

use switchyard_studio::{Error, InstanceSpec, RegistryStorage, Result};
use tauri::Runtime;
use tauri_plugin_store::Store;

pub struct PluginStore<R: Runtime> {
    pub store: Arc<Store<R>>,
}

const KEY: &str = "instances";

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("the instance list could not be saved: {e}"))
}

impl<R: Runtime> RegistryStorage for PluginStore<R> {
    fn load(&self) -> Result<Vec<InstanceSpec>> {
        match self.store.get(KEY) {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_value(v).map_err(|e| Error::Store(format!("the instance list is unreadable: {e}"))),
        }
    }

    fn save(&self, instances: &[InstanceSpec]) -> Result<()> {
        let value = serde_json::to_value(instances).map_err(|e| Error::Store(format!("the instance list cannot be written: {e}")))?;
        self.store.set(KEY, value);
        self.store.save().map_err(failed)
    }
}
