//! The studio as one value: the registry of instances, the supervisor of local ones and the
//! exports folder; what the shell's commands reach.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::local::LocalInstances;
use crate::registry::Registry;
use crate::types::InstanceKind;

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

    /// Writes an export into the exports folder under a unique name and returns its path. The
    /// disk is touched off the async workers.
    pub async fn export(&self, name: &str, contents: String) -> Result<String> {
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
        if safe.is_empty() || safe.starts_with('.') {
            return Err(Error::Invalid(format!("'{name}' is not a usable file name")));
        }
        let exports = self.exports.clone();
        let written = tokio::task::spawn_blocking(move || -> Result<String> {
            std::fs::create_dir_all(&exports)?;
            let mut path = exports.join(&safe);
            let mut n = 1;
            while path.exists() {
                path = exports.join(format!("{n}-{safe}"));
                n += 1;
            }
            std::fs::write(&path, contents)?;
            Ok(path.display().to_string())
        });
        written.await.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }
}
