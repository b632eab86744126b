//! Record writes: insert, update, upsert, delete, and what each answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;


/// insert, update, upsert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteRecords {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub records: Vec<Value>,
}

/// delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRecords {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_values")]
    pub ids: Vec<Value>,
}

/// insert's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InsertReply {
    pub message: String,
    pub inserted_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}

/// update's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateReply {
    pub message: String,
    pub update_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}

/// upsert's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertReply {
    pub message: String,
    pub upserted_hashes: Vec<Value>,
}

/// delete's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteReply {
    pub message: String,
    pub deleted_hashes: Vec<Value>,
    pub skipped_hashes: Vec<Value>,
}
