//! The supervisor of local instances: switchyard-node servers run in this process on 127.0.0.1,
//! data under the app data folder, one fresh admin password per app session held only in memory.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::registry::Registry;
use crate::types::{InstanceKind, InstanceSpec, LocalState};
use switchyard_node::{NodeConfig, RunningNode};
use switchyard_protocol::ops::AlterUser;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// The local cluster's instances (and the factory scenario's: two edges, then hq), by name:
/// the one list every layer names them from (exported to the UI as `CLUSTER_NODES`).
pub const CLUSTER: [&str; 3] = ["edge-1", "edge-2", "hq"];

pub const ADMIN_USER: &str = "admin";

pub struct LocalInstances {
    root: PathBuf,
    /// This app session's admin password for every local instance: made at launch, held in
    /// memory only, the same across a stop and start (so that open tails log in again).
    password: String,
    running: Mutex<HashMap<String, RunningNode>>,
    errors: std::sync::Mutex<HashMap<String, String>>,
}

fn session_password() -> String {
    use rand::Rng;
    rand::thread_rng().sample_iter(&rand::distributions::Alphanumeric).take(24).map(char::from).collect()
}

/// A node name from a display name: lower case letters, digits and dashes.
fn node_name(name: &str) -> String {
    let n: String = name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let n = n.trim_matches('-').to_string();
    if n.is_empty() { "local".into() } else { n }
}

impl LocalInstances {
    pub fn new(root: PathBuf) -> Self {
        LocalInstances { root, password: session_password(), running: Mutex::new(HashMap::new()), errors: Default::default() }
    }

    fn data_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    fn set_error(&self, id: &str, e: Option<String>) {
        if let Ok(mut m) = self.errors.lock() {
            match e {
                Some(e) => m.insert(id.to_string(), e),
                None => m.remove(id),
            };
        }
    }

    /// Starts a registered local instance (again on its previous port when that is free).
    pub async fn start(&self, registry: &Registry, id: &str) -> Result<LocalState> {
        let spec = registry.get(id)?;
        if spec.kind != InstanceKind::Local {
            return Err(Error::Invalid(format!("'{}' is not a local instance", spec.name)));
        }
        let mut running = self.running.lock().await;
        if !running.contains_key(id) {
            match self.boot(registry, &spec).await {
                Ok(node) => {
                    self.set_error(id, None);
                    running.insert(id.to_string(), node);
                }
                Err(e) => {
                    self.set_error(id, Some(e.to_string()));
                    return Err(e);
                }
            }
        }
        drop(running);
        self.state(id).await
    }

    async fn boot(&self, registry: &Registry, spec: &InstanceSpec) -> Result<RunningNode> {
        let data_dir = self.data_dir(&spec.id);
        std::fs::create_dir_all(&data_dir)?;
        let listener = match spec.port {
            Some(p) => match TcpListener::bind(("127.0.0.1", p)).await {
                Ok(l) => l,
                Err(_) => TcpListener::bind(("127.0.0.1", 0)).await?,
            },
            None => TcpListener::bind(("127.0.0.1", 0)).await?,
        };
        let password = self.password.clone();
        let config = NodeConfig::new(&data_dir, node_name(&spec.name)).with_admin(&spec.username, &password);
        let node = switchyard_node::start(config, listener).await?;
        if node.generated_password.is_none() {
            // The data folder existed: this session's password replaces the last one.
            node.node
                .auth
                .alter_user(AlterUser { username: spec.username.clone(), password: Some(password.clone()), role: None, active: None })
                .await?;
        }
        registry.local_started(&spec.id, &node.url(), node.addr.port(), &password)?;
        Ok(node)
    }

    pub async fn stop(&self, id: &str) -> Result<LocalState> {
        let node = self.running.lock().await.remove(id);
        if let Some(node) = node {
            node.stop().await;
        }
        self.state(id).await
    }

    pub async fn stop_all(&self) {
        let all: Vec<RunningNode> = self.running.lock().await.drain().map(|(_, n)| n).collect();
        for n in all {
            n.stop().await;
        }
    }

    /// Creates a local instance and starts it.
    pub async fn create(&self, registry: &Registry, name: &str) -> Result<InstanceSpec> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid("give the local instance a name".into()));
        }
        if registry.list()?.iter().any(|i| i.name == name) {
            return Err(Error::Invalid(format!("an instance named '{name}' is already registered")));
        }
        let spec = registry.add_local(name, ADMIN_USER)?;
        self.start(registry, &spec.id).await?;
        registry.get(&spec.id)
    }

    /// Stops a local instance, forgets it and deletes its data.
    pub async fn delete(&self, registry: &Registry, id: &str) -> Result<()> {
        self.stop(id).await?;
        registry.remove(id)?;
        let dir = self.data_dir(id);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Three instances for topology work, `CLUSTER` (names already taken are skipped).
    pub async fn create_cluster(&self, registry: &Registry) -> Result<Vec<InstanceSpec>> {
        let taken: Vec<String> = registry.list()?.into_iter().map(|i| i.name).collect();
        let mut made = Vec::new();
        for name in CLUSTER {
            if !taken.iter().any(|t| t == name) {
                made.push(self.create(registry, name).await?);
            }
        }
        Ok(made)
    }

    /// On launch: every registered local instance starts; a first launch gets one ready instance.
    pub async fn launch(&self, registry: &Registry, first_launch: bool) {
        if first_launch && registry.list().map(|l| l.is_empty()).unwrap_or(false) {
            if let Err(e) = self.create(registry, "local").await {
                tracing::error!("could not create the first local instance: {e}");
            }
        }
        let locals: Vec<InstanceSpec> = registry.list().unwrap_or_default().into_iter().filter(|i| i.kind == InstanceKind::Local).collect();
        for spec in locals {
            match self.start(registry, &spec.id).await {
                Ok(_) => tracing::info!("local instance '{}' is running", spec.name),
                Err(e) => tracing::error!("local instance '{}' did not start: {e}", spec.name),
            }
        }
    }

    pub async fn state(&self, id: &str) -> Result<LocalState> {
        let running = self.running.lock().await;
        let node = running.get(id);
        Ok(LocalState {
            id: id.to_string(),
            running: node.is_some(),
            url: node.map(|n| n.url()),
            data_dir: self.data_dir(id).display().to_string(),
            error: self.errors.lock().ok().and_then(|m| m.get(id).cloned()),
        })
    }

    pub async fn states(&self, registry: &Registry) -> Result<Vec<LocalState>> {
        let mut out = Vec::new();
        for spec in registry.list()?.into_iter().filter(|i| i.kind == InstanceKind::Local) {
            out.push(self.state(&spec.id).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use crate::{Browse, Keychain, RegistryStorage};

    /// The registry file as plain JSON, like the plugin store writes it.
    struct FileStorage(PathBuf);

    impl RegistryStorage for FileStorage {
        fn load(&self) -> crate::Result<Vec<InstanceSpec>> {
            Ok(std::fs::read(&self.0).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
        }
        fn save(&self, instances: &[InstanceSpec]) -> crate::Result<()> {
            std::fs::write(&self.0, serde_json::to_vec(instances).unwrap_or_default()).map_err(|e| crate::Error::Invalid(e.to_string()))
        }
    }

    fn registry(dir: &std::path::Path) -> Registry {
        Registry::open(Box::new(FileStorage(dir.join("instances.json"))), Keychain::new("switchyard-test-unused")).expect("registry")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_instances_come_back_after_a_restart_with_their_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (id, port) = {
            let reg = registry(dir.path());
            let local = LocalInstances::new(dir.path().join("instances"));
            local.launch(&reg, true).await;
            let spec = reg.list().expect("list").into_iter().next().expect("a first-launch instance");
            assert_eq!(spec.kind, InstanceKind::Local);
            let ops = reg.client(&spec.id).expect("client");
            ops.create_table("dev", "dog", "id").await.expect("create table");
            ops.insert("dev", "dog", &[json!({"id": 1, "name": "Rex"})]).await.expect("insert");
            let cluster = local.create_cluster(&reg).await.expect("cluster");
            assert_eq!(cluster.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["edge-1", "edge-2", "hq"]);
            assert!(local.create_cluster(&reg).await.expect("again").is_empty(), "a second click makes no duplicates");
            let port = reg.get(&spec.id).expect("spec").port.expect("port remembered");
            local.stop_all().await;
            assert!(reg.client(&spec.id).expect("client").tree().await.is_err(), "stopped means unreachable");
            (spec.id, port)
        };
        // The app starts again: same registry file, new supervisor, not a first launch.
        let reg = registry(dir.path());
        let local = LocalInstances::new(dir.path().join("instances"));
        local.launch(&reg, false).await;
        assert_eq!(reg.list().expect("list").len(), 4, "no extra instance on a later launch");
        let spec = reg.get(&id).expect("still registered");
        assert_eq!(spec.port, Some(port), "the same port when it is free");
        let rows = reg.client(&id).expect("client").call(&json!({"operation": "search_by_id", "database": "dev", "table": "dog", "ids": [1], "get_attributes": ["*"]})).await.expect("read");
        assert_eq!(rows[0]["name"], "Rex");
        let states = local.states(&reg).await.expect("states");
        assert!(states.iter().all(|s| s.running), "{states:?}");

        // Delete stops it and removes its data.
        local.delete(&reg, &id).await.expect("delete");
        assert!(reg.get(&id).is_err());
        assert!(!dir.path().join("instances").join(&id).exists());
        local.stop_all().await;
    }
}
