//! The registry of instances: specs persisted through a `RegistryStorage` (tauri-plugin-store in
//! the app), passwords in the keychain, local instances' session passwords in memory only.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use crate::keychain::Keychain;
use crate::types::{InstanceInput, InstanceKind, InstanceSpec, InstanceStatus, LocalCredentials, RegistryView};
use switchyard_protocol::tls::Trust;
use crate::error::{Error, Result};
use switchyard_client::{Credentials, OpsClient, ServerKind};

/// Where the list of instances is kept. Never receives a password.
pub trait RegistryStorage: Send + Sync {
    fn load(&self) -> Result<Vec<InstanceSpec>>;
    fn save(&self, instances: &[InstanceSpec]) -> Result<()>;
}

/// Requests from the studio wait at most this long for an answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Status probes are quicker to give up: a dead instance must not stall the sidebar.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Registry {
    storage: Box<dyn RegistryStorage>,
    keychain: Keychain,
    instances: RwLock<Vec<InstanceSpec>>,
    /// Passwords read once from the keychain, and local instances' generated ones (never stored).
    passwords: RwLock<HashMap<String, String>>,
    /// Each instance's server kind, as its last status probe found it: its clients read answers
    /// with that server's quirks in mind.
    kinds: RwLock<HashMap<String, ServerKind>>,
}

fn lock_err<T>(_: T) -> Error {
    Error::Invalid("the instance registry is unavailable (a previous operation panicked)".into())
}

fn validate(input: &InstanceInput) -> Result<()> {
    if input.name.trim().is_empty() {
        return Err(Error::Invalid("give the instance a name".into()));
    }
    let url = reqwest::Url::parse(input.url.trim()).map_err(|e| Error::Invalid(format!("'{}' is not a valid URL ({e}); write it like http://host:9925", input.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Invalid(format!("'{}' must start with http:// or https://", input.url)));
    }
    if url.host_str().is_none() {
        return Err(Error::Invalid(format!("'{}' names no host", input.url)));
    }
    if input.username.trim().is_empty() {
        return Err(Error::Invalid("a user name is needed".into()));
    }
    // A malformed pin or CA is refused here, before it is stored.
    switchyard_tls::check(&input.tls).map_err(|e| Error::Invalid(e.0))?;
    Ok(())
}

fn client_for(spec: &InstanceSpec, password: &str, timeout: Duration) -> Result<OpsClient> {
    Ok(OpsClient::with_trust(spec.url.trim_end_matches('/'), Credentials::basic(&spec.username, password), timeout, &spec.tls)?)
}

impl Registry {
    pub fn open(storage: Box<dyn RegistryStorage>, keychain: Keychain) -> Result<Self> {
        let instances = storage.load()?;
        Ok(Registry { storage, keychain, instances: RwLock::new(instances), passwords: RwLock::new(HashMap::new()), kinds: RwLock::new(HashMap::new()) })
    }

    pub fn view(&self) -> Result<RegistryView> {
        let instances = self.instances.read().map_err(lock_err)?.clone();
        let check = self.keychain.check();
        Ok(RegistryView { instances, keychain_available: check.is_ok(), keychain_error: check.err() })
    }

    pub fn get(&self, id: &str) -> Result<InstanceSpec> {
        self.instances
            .read()
            .map_err(lock_err)?
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| Error::NotRegistered(id.to_string()))
    }

    pub fn list(&self) -> Result<Vec<InstanceSpec>> {
        Ok(self.instances.read().map_err(lock_err)?.clone())
    }

    fn persist(&self, next: Vec<InstanceSpec>) -> Result<()> {
        self.storage.save(&next)?;
        *self.instances.write().map_err(lock_err)? = next;
        Ok(())
    }

    /// Adds (no id) or edits (id) a remote instance. The password goes to the keychain first: if
    /// that fails nothing is saved, so no instance is left without its secret.
    pub fn save_remote(&self, input: InstanceInput) -> Result<InstanceSpec> {
        self.save(input, true)
    }

    /// Adds a remote instance whose password is given each time it is used (the command line's
    /// `SWITCHYARD_PASSWORD_<NAME>`): the password is checked to be there, and kept for this
    /// process only, never in the keychain.
    pub fn register_remote(&self, input: InstanceInput) -> Result<InstanceSpec> {
        if input.id.is_some() {
            return Err(Error::Invalid("register_remote adds an instance; edit one with save_remote".into()));
        }
        self.save(input, false)
    }

    /// Uses `password` for the instance `id` in this process (before the keychain); never stored.
    pub fn use_password(&self, id: &str, password: &str) -> Result<()> {
        self.passwords.write().map_err(lock_err)?.insert(id.to_string(), password.to_string());
        Ok(())
    }

    /// Forgets an instance registered without its password (`register_remote`): the keychain is
    /// not asked.
    pub fn unregister(&self, id: &str) -> Result<InstanceSpec> {
        self.forget(id, false)
    }

    fn save(&self, input: InstanceInput, keychain: bool) -> Result<InstanceSpec> {
        let mut next = self.list()?;
        let local = input.id.as_ref().and_then(|id| next.iter().find(|i| &i.id == id)).is_some_and(|i| i.kind == InstanceKind::Local);
        if local {
            if input.name.trim().is_empty() {
                return Err(Error::Invalid("give the instance a name".into()));
            }
        } else {
            validate(&input)?;
        }
        let name = input.name.trim().to_string();
        if next.iter().any(|i| i.name == name && Some(&i.id) != input.id.as_ref()) {
            return Err(Error::Invalid(format!("an instance named '{name}' is already registered")));
        }
        let spec = match &input.id {
            Some(id) => {
                let existing = next.iter_mut().find(|i| &i.id == id).ok_or_else(|| Error::NotRegistered(id.clone()))?;
                if existing.kind == InstanceKind::Local {
                    existing.name = name;
                    return self.persist_spec(next, id);
                }
                existing.name = name;
                existing.url = input.url.trim().trim_end_matches('/').to_string();
                existing.username = input.username.trim().to_string();
                existing.tls = input.tls.clone();
                existing.clone()
            }
            None => {
                if input.password.as_deref().unwrap_or("").is_empty() {
                    return Err(Error::Invalid("a password is needed".into()));
                }
                let spec = InstanceSpec {
                    id: uuid::Uuid::new_v4().to_string(),
                    name,
                    url: input.url.trim().trim_end_matches('/').to_string(),
                    username: input.username.trim().to_string(),
                    kind: InstanceKind::Remote,
                    tls: input.tls.clone(),
                    port: None,
                };
                next.push(spec.clone());
                spec
            }
        };
        if let Some(pw) = input.password.as_deref().filter(|p| !p.is_empty()) {
            if keychain {
                self.keychain.set(&spec.id, pw)?;
            }
            self.passwords.write().map_err(lock_err)?.insert(spec.id.clone(), pw.to_string());
        }
        self.persist(next)?;
        Ok(spec)
    }

    fn persist_spec(&self, next: Vec<InstanceSpec>, id: &str) -> Result<InstanceSpec> {
        let spec = next.iter().find(|i| i.id == id).cloned().ok_or_else(|| Error::NotRegistered(id.to_string()))?;
        self.persist(next)?;
        Ok(spec)
    }

    /// Registers a local instance (the supervisor calls this); its password lives in memory.
    pub fn add_local(&self, name: &str, username: &str) -> Result<InstanceSpec> {
        let mut next = self.list()?;
        let spec = InstanceSpec {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            url: String::new(),
            username: username.to_string(),
            kind: InstanceKind::Local,
            tls: Trust::System,
            port: None,
        };
        next.push(spec.clone());
        self.persist(next)?;
        Ok(spec)
    }

    /// A local instance came up at `url`: remember the port and this session's password.
    pub fn local_started(&self, id: &str, url: &str, port: u16, password: &str) -> Result<()> {
        let mut next = self.list()?;
        if let Some(spec) = next.iter_mut().find(|i| i.id == id) {
            spec.url = url.to_string();
            spec.port = Some(port);
        }
        self.passwords.write().map_err(lock_err)?.insert(id.to_string(), password.to_string());
        self.persist(next)
    }

    /// Forgets an instance and its password.
    pub fn remove(&self, id: &str) -> Result<InstanceSpec> {
        self.forget(id, true)
    }

    /// Forgets an instance; with `keychain`, a remote one's password is deleted from it first.
    fn forget(&self, id: &str, keychain: bool) -> Result<InstanceSpec> {
        let mut next = self.list()?;
        let pos = next.iter().position(|i| i.id == id).ok_or_else(|| Error::NotRegistered(id.to_string()))?;
        let spec = next.remove(pos);
        if keychain && spec.kind == InstanceKind::Remote {
            self.keychain.delete(id)?;
        }
        self.passwords.write().map_err(lock_err)?.remove(id);
        self.persist(next)?;
        Ok(spec)
    }

    fn password(&self, spec: &InstanceSpec) -> Result<String> {
        if let Some(p) = self.passwords.read().map_err(lock_err)?.get(&spec.id) {
            return Ok(p.clone());
        }
        match spec.kind {
            InstanceKind::Local => Err(Error::Client(switchyard_client::Error::Unreachable { url: spec.name.clone(), reason: "this local instance is not running".into() })),
            InstanceKind::Remote => {
                let p = self.keychain.get(&spec.id)?.ok_or_else(|| {
                    Error::Keychain(format!("no password for '{}' is in the keychain; edit the instance and enter it again", spec.name))
                })?;
                self.passwords.write().map_err(lock_err)?.insert(spec.id.clone(), p.clone());
                Ok(p)
            }
        }
    }

    /// This session's credentials of a running local instance (never of a remote one).
    pub fn local_credentials(&self, id: &str) -> Result<LocalCredentials> {
        let spec = self.get(id)?;
        if spec.kind != InstanceKind::Local {
            return Err(Error::Invalid(format!("'{}' is not a local instance; its password stays in the keychain", spec.name)));
        }
        Ok(LocalCredentials { url: spec.url.clone(), username: spec.username.clone(), password: self.password(&spec)? })
    }

    /// What a tail of a registered instance needs: its Operations API client, its SocketCluster
    /// endpoint (same host and port, same trust) and its credentials.
    pub fn tail_access(&self, id: &str) -> Result<(OpsClient, switchyard_sc::Endpoint, (String, String))> {
        let spec = self.get(id)?;
        let password = self.password(&spec)?;
        let client = client_for(&spec, &password, REQUEST_TIMEOUT)?;
        let url = reqwest::Url::parse(spec.url.trim()).map_err(|e| Error::Invalid(format!("'{}' is not a valid URL: {e}", spec.url)))?;
        let host = url.host_str().ok_or_else(|| Error::Invalid(format!("'{}' names no host", spec.url)))?.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = url.port_or_known_default().ok_or_else(|| Error::Invalid(format!("'{}' names no port", spec.url)))?;
        let trust = (url.scheme() == "https").then(|| spec.tls.clone());
        Ok((client, switchyard_sc::Endpoint { host, port, trust }, (spec.username.clone(), password)))
    }

    /// A client for a registered instance, with its stored credentials and trust.
    pub fn client(&self, id: &str) -> Result<OpsClient> {
        let spec = self.get(id)?;
        let client = client_for(&spec, &self.password(&spec)?, REQUEST_TIMEOUT)?;
        let kind = self.kinds.read().map_err(lock_err)?.get(id).copied();
        Ok(match kind {
            Some(k) => client.with_kind(k),
            None => client,
        })
    }

    /// The live status of a registered instance.
    pub async fn status(&self, id: &str) -> Result<InstanceStatus> {
        let spec = self.get(id)?;
        let client = match self.password(&spec).and_then(|p| client_for(&spec, &p, PROBE_TIMEOUT)) {
            Ok(c) => c,
            Err(e) => return Ok(InstanceStatus::unreachable(id, e.to_body())),
        };
        let status = crate::probe::status(id, &client).await;
        if let Some(kind) = status.server_kind {
            self.kinds.write().map_err(lock_err)?.insert(id.to_string(), kind);
        }
        Ok(status)
    }

    /// "Test connection" for what the form holds, before anything is saved. With no password
    /// given for an existing instance, the stored one is used.
    pub async fn test(&self, input: InstanceInput) -> Result<InstanceStatus> {
        validate(&input)?;
        let password = match (&input.password, &input.id) {
            (Some(p), _) if !p.is_empty() => p.clone(),
            (_, Some(id)) => self.password(&self.get(id)?)?,
            _ => return Err(Error::Invalid("a password is needed".into())),
        };
        let spec = InstanceSpec {
            id: input.id.clone().unwrap_or_default(),
            name: input.name.clone(),
            url: input.url.trim().trim_end_matches('/').to_string(),
            username: input.username.clone(),
            kind: InstanceKind::Remote,
            tls: input.tls.clone(),
            port: None,
        };
        let client = client_for(&spec, &password, PROBE_TIMEOUT)?;
        Ok(crate::probe::status(&spec.id, &client).await)
    }
}
