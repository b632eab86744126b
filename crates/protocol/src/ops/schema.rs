//! Databases, tables and attributes: create, drop, describe, and how a table is described.

use serde::{Deserialize, Serialize};
use serde_json::Value;


fn default_primary_key() -> String {
    "id".to_string()
}

/// create_database, drop_database, describe_database (and their `schema` aliases).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseRef {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
}

/// drop_table, describe_table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRef {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
}

/// A declared attribute of a schema-defined table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeDef {
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed: Option<bool>,
}

/// create_table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTable {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_attribute", default = "default_primary_key")]
    pub primary_key: String,
    /// Seconds after its last update that a record expires (edge raw data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<AttributeDef>>,
}

/// create_attribute, drop_attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeRef {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub attribute: String,
}

/// One attribute in a table description.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttributeDescription {
    pub attribute: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_primary_key: Option<bool>,
}

/// describe_table's answer (and each entry of describe_database / describe_all).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDescription {
    pub schema: String,
    pub name: String,
    #[serde(alias = "primary_key")]
    pub hash_attribute: String,
    #[serde(default)]
    pub audit: bool,
    #[serde(default)]
    pub schema_defined: bool,
    #[serde(default)]
    pub attributes: Vec<AttributeDescription>,
    #[serde(default)]
    pub db_size: u64,
    #[serde(default)]
    pub sources: Vec<Value>,
    pub record_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_record: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<u64>,
    /// HarperDB: the range its estimated `record_count` lies in (difference
    /// `record-count-estimate`); switchyard-node counts exactly and sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_record_range: Option<Value>,
}
