//! Files written into the exports folder under unique names.

use std::path::PathBuf;

use crate::error::{Error, Result};

use super::Studio;

impl Studio {
    /// Writes an export into the exports folder under a unique name and returns its path. The
    /// disk is touched off the async workers.
    pub async fn exports_write(&self, name: &str, contents: String) -> Result<String> {
        let (exports, name) = (self.exports.clone(), name.to_string());
        let written = tokio::task::spawn_blocking(move || -> Result<String> {
            let path = export_path(&exports, &name)?;
            std::fs::write(&path, contents)?;
            Ok(path.display().to_string())
        });
        written.await.map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }
}

/// A new file's path in the `exports` folder for `name` (`name`, else `1-name`, `2-name`…),
/// the folder made when missing.
pub(super) fn export_path(exports: &std::path::Path, name: &str) -> Result<PathBuf> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    if safe.is_empty() || safe.starts_with('.') {
        return Err(Error::Invalid(format!("'{name}' is not a usable file name")));
    }
    std::fs::create_dir_all(exports)?;
    let mut path = exports.join(&safe);
    let mut n = 1;
    while path.exists() {
        path = exports.join(format!("{n}-{safe}"));
        n += 1;
    }
    Ok(path)
}
