//! csv_data_load and the jobs it runs.

use serde::{Deserialize, Serialize};


/// csv_data_load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CsvDataLoad {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    /// insert (default), update or upsert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub data: String,
}

/// get_job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRef {
    pub id: String,
}

/// What a csv_data_load job did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub written: u64,
    pub skipped: u64,
    pub total: u64,
}

/// get_job's answer (one entry per job asked for); times in RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReply {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub message: String,
    pub result: Option<LoadResult>,
    pub start_datetime: String,
    pub end_datetime: Option<String>,
}

/// csv_data_load's answer: the job that loaded the data, and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStarted {
    pub message: String,
    pub job_id: String,
    pub result: LoadResult,
}
