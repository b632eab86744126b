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

#[cfg(test)]
mod tests {
    use super::super::Studio;
    use crate::error::{Error, Result};
    use crate::local::LocalInstances;
    use crate::registry::Registry;
    use crate::types::NodePositions;
    use crate::types::Position;
    use crate::{InstanceSpec, Keychain, RegistryStorage};

    /// No instances: the layout is all these tests read.
    struct NoInstances;

    impl RegistryStorage for NoInstances {
        fn load(&self) -> Result<Vec<InstanceSpec>> {
            Ok(Vec::new())
        }
        fn save(&self, _: &[InstanceSpec]) -> Result<()> {
            Ok(())
        }
    }

    /// The studio as the app makes it at start, over `dir`.
    fn studio(dir: &std::path::Path) -> Studio {
        let registry = Registry::open(Box::new(NoInstances), Keychain::new("switchyard-test-unused")).expect("registry");
        Studio::new(registry, LocalInstances::new(dir.join("instances")), dir.join("exports"), dir.join("topology.json"))
    }

    #[tokio::test]
    async fn the_canvas_layout_is_kept_across_restarts_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(studio(dir.path()).layout_load().await.expect("no layout yet"), NodePositions::default());
        let mut saved = NodePositions::default();
        saved.positions.insert("edge-1".into(), Position { x: 40.0, y: -12.5 });
        saved.positions.insert("hq".into(), Position { x: 420.0, y: 105.0 });
        studio(dir.path()).layout_save(saved.clone()).await.expect("save");
        // The app starts again: a new studio over the same folder.
        assert_eq!(studio(dir.path()).layout_load().await.expect("read back"), saved);
        std::fs::write(dir.path().join("topology.json"), "{\"positions\": {\"hq\": 3}}").expect("damage it");
        let err = studio(dir.path()).layout_load().await.expect_err("a damaged layout is refused, not read as empty");
        assert!(matches!(err, Error::Store(_)), "{err:?}");
    }
}
