//! The instances the command line works on: the studio's registry file and keychain, or a
//! `--registry FILE`; a password in `SWITCHYARD_PASSWORD_<NAME>` is used before the keychain.

use std::path::PathBuf;

use switchyard_client::OpsClient;
use switchyard_studio::{InstanceSpec, Keychain, Registry, RegistryStorage};

use crate::out::{fail, Failed};

/// The instance list as the studio keeps it (`{"instances": [...]}`, beside its other keys) or a
/// bare list. Saving keeps the file's form and its other keys, and replaces it whole (written
/// beside, then renamed), so a reader never sees half of it.
pub struct FileStorage(pub PathBuf);

impl FileStorage {
    fn read(&self) -> switchyard_studio::Result<Option<serde_json::Value>> {
        match std::fs::read_to_string(&self.0) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| switchyard_studio::Error::Store(format!("{} is not JSON: {e}", self.0.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(switchyard_studio::Error::Store(format!("{}: {e}", self.0.display()))),
        }
    }
}

impl RegistryStorage for FileStorage {
    fn load(&self) -> switchyard_studio::Result<Vec<InstanceSpec>> {
        let Some(v) = self.read()? else { return Ok(Vec::new()) };
        let list = match v {
            serde_json::Value::Object(mut o) => o.remove("instances").unwrap_or(serde_json::Value::Array(Vec::new())),
            other => other,
        };
        serde_json::from_value(list).map_err(|e| switchyard_studio::Error::Store(format!("{} is not a list of instances: {e}", self.0.display())))
    }

    fn save(&self, instances: &[InstanceSpec]) -> switchyard_studio::Result<()> {
        let failed = |e: &dyn std::fmt::Display| switchyard_studio::Error::Store(format!("{} could not be written: {e}", self.0.display()));
        let list = serde_json::to_value(instances).map_err(|e| failed(&e))?;
        let whole = match self.read()? {
            Some(serde_json::Value::Object(mut o)) => {
                o.insert("instances".into(), list);
                serde_json::Value::Object(o)
            }
            Some(_) => list,
            None => serde_json::json!({ "instances": list }),
        };
        if let Some(dir) = self.0.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
        }
        let beside = self.0.with_extension("json.new");
        std::fs::write(&beside, whole.to_string()).map_err(|e| failed(&e))?;
        std::fs::rename(&beside, &self.0).map_err(|e| failed(&e))
    }
}

/// The studio's own instance list (its data folder), when no --registry is given.
fn studio_registry_file() -> Result<PathBuf, Failed> {
    let base = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match base {
        Some(b) => Ok(b.join("dev.switchyard.studio/instances.json")),
        None => fail("no --registry, and no home folder to find the studio's instances in"),
    }
}

/// `SWITCHYARD_PASSWORD_<NAME>` for an instance name.
pub fn password_env(name: &str) -> String {
    format!("SWITCHYARD_PASSWORD_{}", name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect::<String>())
}

/// The password given for `name` in the environment, if any.
pub fn env_password(name: &str) -> Option<String> {
    std::env::var(password_env(name)).ok().filter(|p| !p.is_empty())
}

/// The registry, every password given in the environment put to use.
pub fn open(file: Option<&PathBuf>) -> Result<Registry, Failed> {
    let file = match file {
        Some(f) => f.clone(),
        None => studio_registry_file()?,
    };
    let registry = Registry::open(Box::new(FileStorage(file)), Keychain::default())?;
    for spec in registry.list()? {
        if let Some(pw) = env_password(&spec.name) {
            registry.use_password(&spec.id, &pw)?;
        }
    }
    Ok(registry)
}

/// The instance named `name`.
pub fn named(registry: &Registry, name: &str) -> Result<InstanceSpec, Failed> {
    match registry.list()?.into_iter().find(|s| s.name == name) {
        Some(s) => Ok(s),
        None => {
            let known: Vec<String> = registry.list()?.into_iter().map(|s| s.name).collect();
            fail(format!("no instance named '{name}' (registered: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") }))
        }
    }
}

/// Every instance with its client.
pub fn clients(registry: &Registry) -> Result<Vec<(InstanceSpec, OpsClient)>, Failed> {
    let mut out = Vec::new();
    for spec in registry.list()? {
        let client = registry.client(&spec.id)?;
        out.push((spec, client));
    }
    Ok(out)
}
