//! The peers this node dials, as stored in the `peers` table (their subscriptions and TLS
//! settings as JSON text, read and written by the replication layer).

use sqlx::Row;

use super::value::now_ms;
use super::Store;
use crate::error::Result;

/// One row of `peers`.
#[derive(Debug, Clone)]
pub struct StoredPeer {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// `[NodeSubscription]` as JSON.
    pub subscriptions: String,
    /// `Trust` as JSON, for a TLS peer.
    pub tls: Option<String>,
    pub paused: bool,
}

impl Store {
    pub async fn peers(&self) -> Result<Vec<StoredPeer>> {
        let rows = sqlx::query("SELECT name, host, port, username, password, subscriptions, tls, paused FROM peers ORDER BY name").fetch_all(self.read_pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredPeer {
                    name: r.try_get("name")?,
                    host: r.try_get("host")?,
                    port: r.try_get::<i64, _>("port")? as u16,
                    username: r.try_get("username")?,
                    password: r.try_get("password")?,
                    subscriptions: r.try_get("subscriptions")?,
                    tls: r.try_get("tls")?,
                    paused: r.try_get("paused")?,
                })
            })
            .collect()
    }

    /// Adds or replaces a peer by name.
    pub async fn save_peer(&self, p: &StoredPeer) -> Result<()> {
        let now = now_ms();
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO peers (name, host, port, username, password, subscriptions, tls, paused, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(name) DO UPDATE SET host = excluded.host, port = excluded.port, username = excluded.username, \
             password = excluded.password, subscriptions = excluded.subscriptions, tls = excluded.tls, paused = excluded.paused, \
             updated = excluded.updated",
        )
        .bind(&p.name)
        .bind(&p.host)
        .bind(p.port as i64)
        .bind(&p.username)
        .bind(&p.password)
        .bind(&p.subscriptions)
        .bind(&p.tls)
        .bind(p.paused)
        .bind(now)
        .bind(now)
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    /// Forgets a peer; false when none had the name.
    pub async fn delete_peer(&self, name: &str) -> Result<bool> {
        let mut w = self.writer().await?;
        let done = sqlx::query("DELETE FROM peers WHERE name = ?").bind(name).execute(&mut *w).await?;
        Ok(done.rows_affected() > 0)
    }
}
