//! Users and roles: bootstrap, password verification, add/alter/drop/list, tokens (the SQL is
//! `store/accounts.rs`).

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use serde_json::Value;
use switchyard_protocol::ops::{AddUser, AlterUser, Message, RoleDef, RoleReply, Tokens, UpdateReply, UserInfo, UserReply};

use super::permission::validate_permission;
use super::verifier::{self, Lane};
use super::{tokens, Auth, Principal, Role};
use crate::error::{Error, Result};
use crate::store::{AccountChange, StoredRole};

const BUILTIN_ROLES: [(&str, &str); 2] = [("super_user", r#"{"super_user":true}"#), ("cluster_user", r#"{"cluster_user":true}"#)];

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("could not hash password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Whether `password` matches the stored `hash` (None: the user does not exist, which costs the
/// same), checked on the bounded verifier pool.
pub(super) async fn password_matches(password: &str, hash: Option<String>, lane: Lane) -> Result<bool> {
    let answer = verifier::submit(password, hash, lane).map_err(|verifier::Busy| Error::Overloaded {
        message: "every password check is busy; try again shortly".into(),
        retry_after: 1,
    })?;
    answer.await.map_err(|_| Error::Internal("a password check ended without an answer".into()))
}

fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..24).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

fn role_reply(role: StoredRole) -> Result<RoleReply> {
    let permission: Value = serde_json::from_str(&role.permission).map_err(|e| Error::Internal(format!("role '{}' has a corrupt permission: {e}", role.id)))?;
    Ok(RoleReply { role: role.id.clone(), id: role.id, permission, __createdtime__: role.created, __updatedtime__: role.updated })
}

impl Auth {
    /// Makes the configured cluster user (shared by every node of a cluster) a user with the
    /// built-in cluster_user role and the configured password, creating or correcting it.
    pub(super) async fn ensure_cluster_user(&self, cluster: &crate::config::ClusterUser) -> Result<()> {
        if let Some((hash, role)) = self.store.user_hash_and_role(&cluster.username).await? {
            if role == "cluster_user" && password_matches(&cluster.password, Some(hash), Lane::Known).await? {
                return Ok(());
            }
        }
        let hash = hash_password(cluster.password.clone()).await?;
        self.store.put_user(&cluster.username, &hash, "cluster_user").await?;
        self.invalidate();
        Ok(())
    }

    pub(super) async fn bootstrap(&self, admin_user: &str, admin_password: Option<&str>) -> Result<Option<String>> {
        if !self.store.ensure_roles(&BUILTIN_ROLES).await? {
            return Ok(None);
        }
        let (password, generated) = match admin_password {
            Some(p) if !p.is_empty() => (p.to_string(), None),
            _ => {
                let p = generate_password();
                (p.clone(), Some(p))
            }
        };
        let hash = hash_password(password).await?;
        self.store.put_user(admin_user, &hash, "super_user").await?;
        Ok(generated)
    }

    /// The active user and its role, or None.
    pub async fn principal(&self, username: &str) -> Result<Option<Principal>> {
        let Some(user) = self.store.user(username).await? else { return Ok(None) };
        if !user.active {
            return Ok(None);
        }
        let permission = serde_json::from_str(&user.role.permission).map_err(|e| Error::Internal(format!("role '{}' has a corrupt permission: {e}", user.role.id)))?;
        Ok(Some(Principal { username: user.username, role: Role { id: user.role.id, permission } }))
    }

    /// The user, when `password` is theirs. A name that does not exist (or is inactive) costs a
    /// full check too and fails alike.
    pub(super) async fn verify_password(&self, username: &str, password: &str, lane: Lane) -> Result<Principal> {
        let failed = || Error::Unauthorized("Login failed".into());
        let hash = self.store.active_user_hash(username).await?;
        if !password_matches(password, hash, lane).await? {
            return Err(failed());
        }
        self.principal(username).await?.ok_or_else(failed)
    }

    pub fn issue_tokens(&self, p: &Principal) -> Result<Tokens> {
        let (su, cu) = (p.role.super_user(), p.role.cluster_user());
        Ok(Tokens {
            operation_token: tokens::issue(&self.secret, &p.username, su, cu, tokens::OPERATION, self.token_ttl)?,
            refresh_token: Some(tokens::issue(&self.secret, &p.username, su, cu, tokens::REFRESH, self.token_ttl)?),
        })
    }

    /// A new operation token for a valid refresh token of an active user.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens> {
        let claims = tokens::verify(&self.secret, refresh_token, tokens::REFRESH)?;
        let p = self.principal(&claims.username).await?.ok_or_else(|| Error::Unauthorized("invalid token".into()))?;
        Ok(Tokens {
            operation_token: tokens::issue(&self.secret, &p.username, p.role.super_user(), p.role.cluster_user(), tokens::OPERATION, self.token_ttl)?,
            refresh_token: None,
        })
    }

    pub async fn add_user(&self, req: AddUser) -> Result<Message> {
        crate::store::validate_name("user", &req.username)?;
        if req.password.is_empty() {
            return Err(Error::bad("'password' must not be empty"));
        }
        let hash = hash_password(req.password).await?;
        match self.store.add_user(&req.username, &hash, &req.role, req.active).await? {
            AccountChange::NoSuchRole => return Err(Error::NotFound(format!("{} role not found", req.role))),
            AccountChange::UserConflict => return Err(Error::Conflict(format!("User {} already exists", req.username))),
            AccountChange::Done => {}
        }
        self.invalidate();
        Ok(Message { message: format!("{} successfully added", req.username) })
    }

    pub async fn alter_user(&self, req: AlterUser) -> Result<UpdateReply> {
        let hash = match req.password {
            Some(p) if p.is_empty() => return Err(Error::bad("'password' must not be empty")),
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        match self.store.alter_user(&req.username, hash.as_deref(), req.role.as_deref(), req.active).await? {
            AccountChange::UserConflict => return Err(Error::NotFound(format!("user '{}' not found", req.username))),
            AccountChange::NoSuchRole => return Err(Error::NotFound(format!("{} role not found", req.role.unwrap_or_default()))),
            AccountChange::Done => {}
        }
        self.invalidate();
        Ok(UpdateReply { message: "updated 1 of 1 records".into(), update_hashes: vec![Value::String(req.username)], skipped_hashes: vec![] })
    }

    pub async fn drop_user(&self, username: &str, caller: &str) -> Result<Message> {
        if username == caller {
            return Err(Error::bad("a user cannot drop itself"));
        }
        if !self.store.drop_user(username).await? {
            return Err(Error::NotFound(format!("user '{username}' not found")));
        }
        self.invalidate();
        Ok(Message { message: format!("{username} successfully deleted") })
    }

    pub async fn list_users(&self) -> Result<Vec<UserReply>> {
        self.store
            .users()
            .await?
            .into_iter()
            .map(|u| Ok(UserReply { username: u.username, active: u.active, __createdtime__: u.created, __updatedtime__: u.updated, role: role_reply(u.role)? }))
            .collect()
    }

    pub async fn user_info(&self, p: &Principal) -> Result<UserInfo> {
        let role = self.store.role(&p.role.id).await?.ok_or_else(|| Error::NotFound(format!("{} role not found", p.role.id)))?;
        Ok(UserInfo { active: true, username: p.username.clone(), role: role_reply(role)? })
    }

    pub async fn add_role(&self, req: RoleDef) -> Result<RoleReply> {
        let id = req.role.or(req.id).ok_or_else(|| Error::bad("'role' is required"))?;
        crate::store::validate_name("role", &id)?;
        validate_permission(&req.permission)?;
        let role = self.store.add_role(&id, &req.permission.to_string()).await?.ok_or_else(|| Error::Conflict(format!("Role {id} already exists")))?;
        self.invalidate();
        role_reply(role)
    }

    pub async fn alter_role(&self, req: RoleDef) -> Result<RoleReply> {
        let id = req.id.or(req.role).ok_or_else(|| Error::bad("'id' is required"))?;
        validate_permission(&req.permission)?;
        let role = self.store.alter_role(&id, &req.permission.to_string()).await?.ok_or_else(|| Error::NotFound(format!("{id} role not found")))?;
        self.invalidate();
        role_reply(role)
    }

    pub async fn drop_role(&self, id: &str) -> Result<Message> {
        if BUILTIN_ROLES.iter().any(|(b, _)| *b == id) {
            return Err(Error::bad(format!("built-in role '{id}' cannot be dropped")));
        }
        if !self.store.drop_role(id).await? {
            return Err(Error::NotFound(format!("{id} role not found")));
        }
        self.invalidate();
        Ok(Message { message: format!("{id} successfully deleted") })
    }

    pub async fn list_roles(&self) -> Result<Vec<RoleReply>> {
        self.store.roles().await?.into_iter().map(role_reply).collect()
    }
}
