//! Finished jobs (csv_data_load) as stored in the `jobs` table, for get_job.

use sqlx::Row;

use super::Store;
use crate::error::Result;

/// One row of `jobs`; `result` is JSON text.
#[derive(Debug, Clone)]
pub struct StoredJob {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub message: String,
    pub result: Option<String>,
    pub created: f64,
    pub finished: Option<f64>,
}

impl Store {
    pub async fn save_job(&self, job: &StoredJob) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("INSERT INTO jobs (id, type, status, message, result, created, finished) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&job.id)
            .bind(&job.kind)
            .bind(&job.status)
            .bind(&job.message)
            .bind(&job.result)
            .bind(job.created)
            .bind(job.finished)
            .execute(&mut *w)
            .await?;
        Ok(())
    }

    pub async fn job(&self, id: &str) -> Result<Option<StoredJob>> {
        let row = sqlx::query("SELECT id, type, status, message, result, created, finished FROM jobs WHERE id = ?").bind(id).fetch_optional(self.read_pool()).await?;
        row.map(|r| {
            Ok(StoredJob {
                id: r.try_get("id")?,
                kind: r.try_get("type")?,
                status: r.try_get("status")?,
                message: r.try_get("message")?,
                result: r.try_get("result")?,
                created: r.try_get("created")?,
                finished: r.try_get("finished")?,
            })
        })
        .transpose()
    }
}
