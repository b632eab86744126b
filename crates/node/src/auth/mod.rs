//! Who is asking and what they may do: users and roles, password and token checks, permissions.

mod permission;
mod throttle;
mod tokens;
mod users;
mod verifier;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};

pub use permission::{Access, Principal, Role};
use throttle::{Attempt, Throttle};
use verifier::Lane;

use crate::error::{Error, Result};
use crate::store::Store;

/// How long a verified password stays trusted without re-hashing (HarperDB's cacheTTL).
const CREDENTIAL_TTL: Duration = Duration::from_secs(30);

pub struct Auth {
    store: Arc<Store>,
    secret: Vec<u8>,
    /// sha256(credential) → principal; valid while its generation is current, its TTL has not
    /// run out and, for a token, before the token's own `exp`.
    cache: RwLock<HashMap<[u8; 32], Cached>>,
    /// Seconds an operation token lives.
    token_ttl: u64,
    /// The generation of users and roles: bumped by every change, which invalidates the cache
    /// at once and tells open sockets to check their identity again.
    changed: tokio::sync::watch::Sender<u64>,
    /// Failed logins per user and per address, which make the next ones wait.
    throttle: Throttle,
    /// user → sha256 of the last credentials that logged in as them: those are checked ahead of
    /// the rest and past the throttle, so a flood of wrong passwords does not lock them out.
    /// Outlives cache invalidation (it authorizes nothing: the password is still checked).
    known_good: Mutex<HashMap<String, [u8; 32]>>,
}

/// Users remembered in `known_good` before it starts over.
const KNOWN_GOOD_MAX: usize = 10_000;

struct Cached {
    principal: Principal,
    at: Instant,
    generation: u64,
    /// A token's `exp` (epoch seconds); `None` for a password.
    expires: Option<u64>,
}

fn epoch_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(u64::MAX)
}

impl Auth {
    /// Loads (or creates on first start) the token secret and the built-in roles, and creates the
    /// admin user when there are no users. Returns the generated password when one was made.
    pub async fn open(
        store: Arc<Store>,
        admin_user: &str,
        admin_password: Option<&str>,
        token_ttl: Duration,
        cluster_user: Option<&crate::config::ClusterUser>,
    ) -> Result<(Auth, Option<String>)> {
        let secret = match store.meta_get("jwt_secret").await? {
            Some(s) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| Error::Internal(format!("stored token secret is corrupt: {e}")))?,
            None => {
                let bytes: [u8; 32] = rand::random();
                store
                    .meta_set("jwt_secret", &base64::engine::general_purpose::STANDARD.encode(bytes))
                    .await?;
                bytes.to_vec()
            }
        };
        let auth = Auth {
            store,
            secret,
            cache: RwLock::new(HashMap::new()),
            token_ttl: token_ttl.as_secs().max(1),
            changed: tokio::sync::watch::channel(0).0,
            throttle: Throttle::default(),
            known_good: Mutex::new(HashMap::new()),
        };
        let generated = auth.bootstrap(admin_user, admin_password).await?;
        if let Some(cluster) = cluster_user {
            auth.ensure_cluster_user(cluster).await?;
        }
        Ok((auth, generated))
    }

    fn invalidate(&self) {
        // Bumped before the cache is cleared: an entry remembered under the old generation
        // meanwhile is never served.
        self.changed.send_modify(|gen| *gen += 1);
        if let Ok(mut c) = self.cache.write() {
            c.clear();
        }
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Principal> {
        self.cached_until(key).map(|(p, _)| p)
    }

    /// A live cache entry, with its token's `exp` if it is a token's.
    fn cached_until(&self, key: &[u8; 32]) -> Option<(Principal, Option<u64>)> {
        let gen = self.generation();
        let cache = self.cache.read().ok()?;
        let c = cache.get(key)?;
        let live = c.generation == gen && c.at.elapsed() < CREDENTIAL_TTL && c.expires.is_none_or(|exp| epoch_secs() < exp);
        live.then(|| (c.principal.clone(), c.expires))
    }

    fn remember(&self, key: [u8; 32], p: &Principal, gen: u64, expires: Option<u64>) {
        if let Ok(mut c) = self.cache.write() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, Cached { principal: p.clone(), at: Instant::now(), generation: gen, expires });
        }
    }

    fn generation(&self) -> u64 {
        *self.changed.borrow()
    }

    /// The generation of users and roles, bumped by every change: open sockets watch it and
    /// check their identity again.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Basic credentials, from `from` when they came over the network. Wrong user and wrong
    /// password give the same answer in the same time. A user or address with too many recent
    /// failures is refused (429) before any check, unless these credentials logged in before.
    pub async fn login(&self, username: &str, password: &str, from: Option<IpAddr>) -> Result<Principal> {
        let key = digest(&[b"basic", username.as_bytes(), password.as_bytes()]);
        if let Some(p) = self.cached(&key) {
            return Ok(p);
        }
        let attempt = Attempt { user: username, from };
        let known = self.known_good.lock().is_ok_and(|k| k.get(username) == Some(&key));
        let lane = if known { Lane::Known } else { Lane::Other };
        if !known {
            if let Some(retry_after) = self.throttle.wait(attempt) {
                return Err(Error::Throttled {
                    message: format!("too many failed logins for this user or from this address; try again in {retry_after} s"),
                    retry_after,
                });
            }
        }
        let gen = self.generation();
        match self.verify_password(username, password, lane).await {
            Ok(p) => {
                self.remember(key, &p, gen, None);
                if let Ok(mut k) = self.known_good.lock() {
                    if k.len() >= KNOWN_GOOD_MAX {
                        k.clear();
                    }
                    k.insert(username.to_string(), key);
                }
                Ok(p)
            }
            Err(e) => {
                if matches!(e, Error::Unauthorized(_)) {
                    self.throttle.failed(attempt);
                }
                Err(e)
            }
        }
    }

    /// A Bearer operation token.
    pub async fn bearer(&self, token: &str) -> Result<Principal> {
        self.bearer_until(token).await.map(|(p, _)| p)
    }

    /// A Bearer operation token's user, and the token's `exp` (epoch seconds; valid while
    /// now < exp).
    pub async fn bearer_until(&self, token: &str) -> Result<(Principal, u64)> {
        let key = digest(&[b"bearer", token.as_bytes()]);
        if let Some((p, Some(exp))) = self.cached_until(&key) {
            return Ok((p, exp));
        }
        let gen = self.generation();
        let claims = tokens::verify(&self.secret, token, tokens::OPERATION)?;
        let p = self.principal(&claims.username).await?.ok_or_else(|| Error::Unauthorized("invalid token".into()))?;
        // JWT `exp` is in whole seconds and the token is valid while now < exp (leeway 0).
        self.remember(key, &p, gen, Some(claims.exp));
        Ok((p, claims.exp))
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}
