//! The canvas's node positions, kept in the app data folder across restarts.

use crate::error::{Error, Result};
use crate::types::NodePositions;

use super::Studio;

impl Studio {
    /// The canvas's saved node positions, by node name.
    pub async fn layout_load(&self) -> Result<NodePositions> {
        let file = self.layout_file.clone();
        tokio::task::spawn_blocking(move || match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Store(format!("{} is not a saved layout: {e}", file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NodePositions::default()),
            Err(e) => Err(Error::Io(e)),
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }

    /// Keeps the canvas's node positions (written whole, then renamed into place).
    pub async fn layout_save(&self, positions: NodePositions) -> Result<()> {
        let file = self.layout_file.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(&positions).map_err(|e| Error::Store(e.to_string()))?;
            let tmp = file.with_extension("json.tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &file)?;
            Ok(())
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
    }
}
