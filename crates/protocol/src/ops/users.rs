//! Users, roles, tokens and permissions, and what a 403 says was missing.

use serde::{Deserialize, Serialize};
use serde_json::Value;


/// add_role, alter_role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub permission: Value,
}

/// drop_role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleRef {
    pub id: String,
}

/// add_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddUser {
    pub username: String,
    pub password: String,
    pub role: String,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

/// alter_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlterUser {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// drop_user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRef {
    pub username: String,
}

/// create_authentication_tokens, login: credentials in the body, or none to use the header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// create_authentication_tokens / refresh_operation_token answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub operation_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A role as add_role, alter_role, list_roles and user_info answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleReply {
    pub role: String,
    pub id: String,
    pub permission: Value,
    pub __createdtime__: f64,
    pub __updatedtime__: f64,
}

/// A user as list_users answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserReply {
    pub username: String,
    pub active: bool,
    pub __createdtime__: f64,
    pub __updatedtime__: f64,
    pub role: RoleReply,
}

/// user_info's answer: the caller and its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub active: bool,
    pub username: String,
    pub role: RoleReply,
}

/// What a 403 refused: a table permission the role lacks, or an operation only super users run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Denied {
    Table(MissingPermission),
    Restricted(String),
}

/// A table permission a role lacks (in a 403's `unauthorized_access`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingPermission {
    pub schema: String,
    pub table: String,
    pub required_table_permissions: Vec<String>,
    pub required_attribute_permissions: Vec<String>,
}

/// What a role grants on one table (HarperDB's permission shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TablePermission {
    pub read: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    #[serde(default)]
    pub attribute_permissions: Vec<Value>,
}

/// What a role grants in one database: its tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabasePermission {
    pub tables: std::collections::BTreeMap<String, TablePermission>,
}
