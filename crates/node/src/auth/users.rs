//! Users and roles in SQLite: bootstrap, password verification, add/alter/drop/list, tokens.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::{json, Value};
use sqlx::Row;
use switchyard_protocol::ops::{AddUser, AlterUser, RoleDef, Tokens};

use super::permission::validate_permission;
use super::{tokens, Auth, Principal, Role};
use crate::error::{Error, Result};
use crate::store::value::now_ms;

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

async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..24).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

fn role_json(row: &sqlx::sqlite::SqliteRow) -> Result<Value> {
    let id: String = row.try_get("id")?;
    let permission: String = row.try_get("permission")?;
    let permission: Value = serde_json::from_str(&permission).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json!({
        "role": id,
        "id": id,
        "permission": permission,
        "__createdtime__": row.try_get::<f64, _>("created")?,
        "__updatedtime__": row.try_get::<f64, _>("updated")?,
    }))
}

impl Auth {
    /// Makes the configured cluster user (shared by every node of a cluster) a user with the
    /// built-in cluster_user role and the configured password, creating or correcting it.
    pub(super) async fn ensure_cluster_user(&self, cluster: &crate::config::ClusterUser) -> Result<()> {
        let current: Option<(String, String)> = sqlx::query_as("SELECT password_hash, role FROM users WHERE username = ?")
            .bind(&cluster.username)
            .fetch_optional(self.store.read_pool())
            .await?;
        if let Some((hash, role)) = &current {
            if role == "cluster_user" && password_matches(cluster.password.clone(), hash.clone()).await {
                return Ok(());
            }
        }
        let hash = hash_password(cluster.password.clone()).await?;
        let now = now_ms();
        let mut w = self.store.writer().await?;
        sqlx::query(
            "INSERT INTO users (username, password_hash, role, active, created, updated) VALUES (?, ?, 'cluster_user', 1, ?, ?) \
             ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, role = 'cluster_user', active = 1, updated = excluded.updated",
        )
        .bind(&cluster.username)
        .bind(hash)
        .bind(now)
        .bind(now)
        .execute(&mut *w)
        .await?;
        drop(w);
        self.invalidate();
        Ok(())
    }

    pub(super) async fn bootstrap(&self, admin_user: &str, admin_password: Option<&str>) -> Result<Option<String>> {
        let mut w = self.store.writer().await?;
        let now = now_ms();
        for (id, perm) in BUILTIN_ROLES {
            sqlx::query("INSERT OR IGNORE INTO roles (id, permission, created, updated) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(perm)
                .bind(now)
                .bind(now)
                .execute(&mut *w)
                .await?;
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *w).await?;
        if users > 0 {
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
        sqlx::query("INSERT INTO users (username, password_hash, role, active, created, updated) VALUES (?, ?, 'super_user', 1, ?, ?)")
            .bind(admin_user)
            .bind(hash)
            .bind(now)
            .bind(now)
            .execute(&mut *w)
            .await?;
        Ok(generated)
    }

    /// The active user and its role, or None.
    pub async fn principal(&self, username: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT u.username, u.active, r.id, r.permission FROM users u JOIN roles r ON r.id = u.role WHERE u.username = ?",
        )
        .bind(username)
        .fetch_optional(self.store.read_pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("active")? == 0 {
            return Ok(None);
        }
        let permission: String = row.try_get("permission")?;
        Ok(Some(Principal {
            username: row.try_get("username")?,
            role: Role {
                id: row.try_get("id")?,
                permission: serde_json::from_str(&permission).map_err(|e| Error::Internal(e.to_string()))?,
            },
        }))
    }

    pub(super) async fn verify_password(&self, username: &str, password: &str) -> Result<Principal> {
        let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = ? AND active = 1")
            .bind(username)
            .fetch_optional(self.store.read_pool())
            .await?;
        let failed = || Error::Unauthorized("Login failed".into());
        let Some(hash) = hash else { return Err(failed()) };
        if !password_matches(password.to_string(), hash).await {
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

    pub async fn add_user(&self, req: AddUser) -> Result<Value> {
        crate::store::validate_name("user", &req.username)?;
        if req.password.is_empty() {
            return Err(Error::bad("'password' must not be empty"));
        }
        let hash = hash_password(req.password).await?;
        let mut w = self.store.writer().await?;
        let role: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE id = ?").bind(&req.role).fetch_optional(&mut *w).await?;
        if role.is_none() {
            return Err(Error::NotFound(format!("{} role not found", req.role)));
        }
        let now = now_ms();
        let done = sqlx::query("INSERT OR IGNORE INTO users (username, password_hash, role, active, created, updated) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&req.username)
            .bind(hash)
            .bind(&req.role)
            .bind(req.active as i64)
            .bind(now)
            .bind(now)
            .execute(&mut *w)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::Conflict(format!("User {} already exists", req.username)));
        }
        self.invalidate();
        Ok(json!({ "message": format!("{} successfully added", req.username) }))
    }

    pub async fn alter_user(&self, req: AlterUser) -> Result<Value> {
        let hash = match req.password {
            Some(p) if p.is_empty() => return Err(Error::bad("'password' must not be empty")),
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let mut w = self.store.writer().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT username FROM users WHERE username = ?").bind(&req.username).fetch_optional(&mut *w).await?;
        if exists.is_none() {
            return Err(Error::NotFound(format!("user '{}' not found", req.username)));
        }
        if let Some(role) = &req.role {
            let found: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE id = ?").bind(role).fetch_optional(&mut *w).await?;
            if found.is_none() {
                return Err(Error::NotFound(format!("{role} role not found")));
            }
        }
        sqlx::query(
            "UPDATE users SET password_hash = COALESCE(?, password_hash), role = COALESCE(?, role), \
             active = COALESCE(?, active), updated = ? WHERE username = ?",
        )
        .bind(hash)
        .bind(&req.role)
        .bind(req.active.map(|a| a as i64))
        .bind(now_ms())
        .bind(&req.username)
        .execute(&mut *w)
        .await?;
        self.invalidate();
        Ok(json!({
            "message": "updated 1 of 1 records",
            "update_hashes": [req.username],
            "skipped_hashes": [],
        }))
    }

    pub async fn drop_user(&self, username: &str, caller: &str) -> Result<Value> {
        if username == caller {
            return Err(Error::bad("a user cannot drop itself"));
        }
        let mut w = self.store.writer().await?;
        let done = sqlx::query("DELETE FROM users WHERE username = ?").bind(username).execute(&mut *w).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("user '{username}' not found")));
        }
        self.invalidate();
        Ok(json!({ "message": format!("{username} successfully deleted") }))
    }

    pub async fn list_users(&self) -> Result<Value> {
        let rows = sqlx::query(
            "SELECT u.username, u.active, u.created, u.updated, r.id, r.permission, r.created, r.updated \
             FROM users u JOIN roles r ON r.id = u.role ORDER BY u.username",
        )
        .fetch_all(self.store.read_pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(json!({
                "username": row.try_get::<String, _>(0)?,
                "active": row.try_get::<i64, _>(1)? != 0,
                "__createdtime__": row.try_get::<f64, _>(2)?,
                "__updatedtime__": row.try_get::<f64, _>(3)?,
                "role": role_json(&row)?,
            }));
        }
        Ok(Value::Array(out))
    }

    pub async fn user_info(&self, p: &Principal) -> Result<Value> {
        let row = sqlx::query("SELECT id, permission, created, updated FROM roles WHERE id = ?")
            .bind(&p.role.id)
            .fetch_one(self.store.read_pool())
            .await?;
        Ok(json!({ "active": true, "username": p.username, "role": role_json(&row)? }))
    }

    pub async fn add_role(&self, req: RoleDef) -> Result<Value> {
        let id = req.role.or(req.id).ok_or_else(|| Error::bad("'role' is required"))?;
        crate::store::validate_name("role", &id)?;
        validate_permission(&req.permission)?;
        let mut w = self.store.writer().await?;
        let now = now_ms();
        let done = sqlx::query("INSERT OR IGNORE INTO roles (id, permission, created, updated) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(req.permission.to_string())
            .bind(now)
            .bind(now)
            .execute(&mut *w)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::Conflict(format!("Role {id} already exists")));
        }
        self.invalidate();
        let row = sqlx::query("SELECT id, permission, created, updated FROM roles WHERE id = ?").bind(&id).fetch_one(&mut *w).await?;
        role_json(&row)
    }

    pub async fn alter_role(&self, req: RoleDef) -> Result<Value> {
        let id = req.id.or(req.role).ok_or_else(|| Error::bad("'id' is required"))?;
        validate_permission(&req.permission)?;
        let mut w = self.store.writer().await?;
        let done = sqlx::query("UPDATE roles SET permission = ?, updated = ? WHERE id = ?")
            .bind(req.permission.to_string())
            .bind(now_ms())
            .bind(&id)
            .execute(&mut *w)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("{id} role not found")));
        }
        self.invalidate();
        let row = sqlx::query("SELECT id, permission, created, updated FROM roles WHERE id = ?").bind(&id).fetch_one(&mut *w).await?;
        role_json(&row)
    }

    pub async fn drop_role(&self, id: &str) -> Result<Value> {
        if BUILTIN_ROLES.iter().any(|(b, _)| *b == id) {
            return Err(Error::bad(format!("built-in role '{id}' cannot be dropped")));
        }
        let mut w = self.store.writer().await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = ?").bind(id).fetch_one(&mut *w).await?;
        if users > 0 {
            return Err(Error::bad(format!("role '{id}' is assigned to {users} user(s); reassign them first")));
        }
        let done = sqlx::query("DELETE FROM roles WHERE id = ?").bind(id).execute(&mut *w).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("{id} role not found")));
        }
        self.invalidate();
        Ok(json!({ "message": format!("{id} successfully deleted") }))
    }

    pub async fn list_roles(&self) -> Result<Value> {
        let rows = sqlx::query("SELECT id, permission, created, updated FROM roles ORDER BY id").fetch_all(self.store.read_pool()).await?;
        Ok(Value::Array(rows.iter().map(role_json).collect::<Result<_>>()?))
    }
}
