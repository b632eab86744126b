//! Users and roles as stored in the `users` and `roles` tables: the SQL behind authentication
//! and the user operations (hashing, permissions and replies live in `auth`).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::value::now_ms;
use super::Store;
use crate::error::{Error, Result};

/// One row of `roles`; `permission` is the role's permission object as JSON text.
#[derive(Debug, Clone)]
pub struct StoredRole {
    pub id: String,
    pub permission: String,
    pub created: f64,
    pub updated: f64,
}

/// One user with its role.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub username: String,
    pub active: bool,
    pub created: f64,
    pub updated: f64,
    pub role: StoredRole,
}

/// Why a user could not be added or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Done,
    /// The role named does not exist.
    NoSuchRole,
    /// add: the user already exists; alter, drop: it does not.
    UserConflict,
}

fn role(row: &SqliteRow, offset: usize) -> Result<StoredRole> {
    Ok(StoredRole { id: row.try_get(offset)?, permission: row.try_get(offset + 1)?, created: row.try_get(offset + 2)?, updated: row.try_get(offset + 3)? })
}

impl Store {
    /// Creates the built-in roles if missing; true when no user exists yet.
    pub async fn ensure_roles(&self, builtin: &[(&str, &str)]) -> Result<bool> {
        let mut w = self.writer().await?;
        let now = now_ms();
        for (id, permission) in builtin {
            sqlx::query("INSERT OR IGNORE INTO roles (id, permission, created, updated) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(permission)
                .bind(now)
                .bind(now)
                .execute(&mut *w)
                .await?;
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *w).await?;
        Ok(users == 0)
    }

    /// The password hash and role of a user, active or not.
    pub async fn user_hash_and_role(&self, username: &str) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT password_hash, role FROM users WHERE username = ?").bind(username).fetch_optional(self.read_pool()).await?)
    }

    /// The password hash of an active user.
    pub async fn active_user_hash(&self, username: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT password_hash FROM users WHERE username = ? AND active = 1").bind(username).fetch_optional(self.read_pool()).await?)
    }

    /// Adds the user or makes it active with this hash and role, whatever it was.
    pub async fn put_user(&self, username: &str, hash: &str, role: &str) -> Result<()> {
        let now = now_ms();
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO users (username, password_hash, role, active, created, updated) VALUES (?, ?, ?, 1, ?, ?) \
             ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, active = 1, updated = excluded.updated",
        )
        .bind(username)
        .bind(hash)
        .bind(role)
        .bind(now)
        .bind(now)
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    /// A user and its role.
    pub async fn user(&self, username: &str) -> Result<Option<StoredUser>> {
        let row = sqlx::query(
            "SELECT u.username, u.active, u.created, u.updated, r.id, r.permission, r.created, r.updated \
             FROM users u JOIN roles r ON r.id = u.role WHERE u.username = ?",
        )
        .bind(username)
        .fetch_optional(self.read_pool())
        .await?;
        row.map(|r| user(&r)).transpose()
    }

    pub async fn users(&self) -> Result<Vec<StoredUser>> {
        let rows = sqlx::query(
            "SELECT u.username, u.active, u.created, u.updated, r.id, r.permission, r.created, r.updated \
             FROM users u JOIN roles r ON r.id = u.role ORDER BY u.username",
        )
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(user).collect()
    }

    pub async fn add_user(&self, username: &str, hash: &str, role: &str, active: bool) -> Result<AccountChange> {
        let mut w = self.writer().await?;
        if !role_exists(&mut w, role).await? {
            return Ok(AccountChange::NoSuchRole);
        }
        let now = now_ms();
        let done = sqlx::query("INSERT OR IGNORE INTO users (username, password_hash, role, active, created, updated) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(username)
            .bind(hash)
            .bind(role)
            .bind(active as i64)
            .bind(now)
            .bind(now)
            .execute(&mut *w)
            .await?;
        Ok(if done.rows_affected() == 0 { AccountChange::UserConflict } else { AccountChange::Done })
    }

    /// Changes what is given of a user; `UserConflict` when there is no such user.
    pub async fn alter_user(&self, username: &str, hash: Option<&str>, role: Option<&str>, active: Option<bool>) -> Result<AccountChange> {
        let mut w = self.writer().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT username FROM users WHERE username = ?").bind(username).fetch_optional(&mut *w).await?;
        if exists.is_none() {
            return Ok(AccountChange::UserConflict);
        }
        if let Some(role) = role {
            if !role_exists(&mut w, role).await? {
                return Ok(AccountChange::NoSuchRole);
            }
        }
        sqlx::query(
            "UPDATE users SET password_hash = COALESCE(?, password_hash), role = COALESCE(?, role), \
             active = COALESCE(?, active), updated = ? WHERE username = ?",
        )
        .bind(hash)
        .bind(role)
        .bind(active.map(|a| a as i64))
        .bind(now_ms())
        .bind(username)
        .execute(&mut *w)
        .await?;
        Ok(AccountChange::Done)
    }

    /// False when there was no such user.
    pub async fn drop_user(&self, username: &str) -> Result<bool> {
        let mut w = self.writer().await?;
        let done = sqlx::query("DELETE FROM users WHERE username = ?").bind(username).execute(&mut *w).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn role(&self, id: &str) -> Result<Option<StoredRole>> {
        let row = sqlx::query("SELECT id, permission, created, updated FROM roles WHERE id = ?").bind(id).fetch_optional(self.read_pool()).await?;
        row.map(|r| role(&r, 0)).transpose()
    }

    pub async fn roles(&self) -> Result<Vec<StoredRole>> {
        let rows = sqlx::query("SELECT id, permission, created, updated FROM roles ORDER BY id").fetch_all(self.read_pool()).await?;
        rows.iter().map(|r| role(r, 0)).collect()
    }

    /// The new role, or None when one of that id exists.
    pub async fn add_role(&self, id: &str, permission: &str) -> Result<Option<StoredRole>> {
        let mut w = self.writer().await?;
        let now = now_ms();
        let done = sqlx::query("INSERT OR IGNORE INTO roles (id, permission, created, updated) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(permission)
            .bind(now)
            .bind(now)
            .execute(&mut *w)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(StoredRole { id: id.to_string(), permission: permission.to_string(), created: now, updated: now }))
    }

    /// The changed role, or None when there is no such role.
    pub async fn alter_role(&self, id: &str, permission: &str) -> Result<Option<StoredRole>> {
        let mut w = self.writer().await?;
        let done = sqlx::query("UPDATE roles SET permission = ?, updated = ? WHERE id = ?").bind(permission).bind(now_ms()).bind(id).execute(&mut *w).await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT id, permission, created, updated FROM roles WHERE id = ?").bind(id).fetch_one(&mut *w).await?;
        Ok(Some(role(&row, 0)?))
    }

    /// Drops a role no user holds: `Err(BadRequest)` naming how many hold it, false when there
    /// was no such role.
    pub async fn drop_role(&self, id: &str) -> Result<bool> {
        let mut w = self.writer().await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = ?").bind(id).fetch_one(&mut *w).await?;
        if users > 0 {
            return Err(Error::bad(format!("role '{id}' is assigned to {users} user(s); reassign them first")));
        }
        let done = sqlx::query("DELETE FROM roles WHERE id = ?").bind(id).execute(&mut *w).await?;
        Ok(done.rows_affected() > 0)
    }
}

async fn role_exists(w: &mut sqlx::SqliteConnection, id: &str) -> Result<bool> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE id = ?").bind(id).fetch_optional(&mut *w).await?;
    Ok(found.is_some())
}

fn user(row: &SqliteRow) -> Result<StoredUser> {
    Ok(StoredUser {
        username: row.try_get(0)?,
        active: row.try_get::<i64, _>(1)? != 0,
        created: row.try_get(2)?,
        updated: row.try_get(3)?,
        role: role(row, 4)?,
    })
}
