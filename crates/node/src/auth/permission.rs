//! Roles and the permission checks every operation makes before it touches data.

use serde_json::Value;
use switchyard_protocol::ops::{Denied, MissingPermission};
use switchyard_protocol::RELAY_ORIGINS;

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Role {
    pub id: String,
    /// HarperDB's permission object: `{"super_user": bool, "<db>": {"tables": {"<t>": {...}}}}`.
    pub permission: Value,
}

impl Role {
    pub fn super_user(&self) -> bool {
        self.permission.get("super_user").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn cluster_user(&self) -> bool {
        self.permission.get("cluster_user").and_then(Value::as_bool).unwrap_or(false)
    }

    /// The nodes whose entries a limited link user may relay besides its own node's
    /// (`"relay_origins": ["a", "b"]`, set by whoever makes the link: the studio lists the nodes
    /// upstream of the dialler on what it pushes).
    pub fn relay_origins(&self) -> Vec<&str> {
        self.permission.get(RELAY_ORIGINS).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub username: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Insert,
    Update,
    Delete,
}

impl Access {
    /// The permission's name in a role (`read`, `insert`, `update`, `delete`).
    pub fn key(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Insert => "insert",
            Access::Update => "update",
            Access::Delete => "delete",
        }
    }
}

impl Principal {
    pub fn is_super(&self) -> bool {
        self.role.super_user()
    }

    /// Whether the role grants `access` on `database.table`. A cluster user reads every table:
    /// it replicates every table's log anyway, and a cluster-wide read over a link made with it
    /// runs as it on the peer.
    pub fn allows(&self, database: &str, table: &str, access: Access) -> bool {
        self.is_super()
            || (matches!(access, Access::Read) && self.role.cluster_user())
            || self
                .role
                .permission
                .get(database)
                .and_then(|d| d.get("tables"))
                .and_then(|t| t.get(table))
                .and_then(|t| t.get(access.key()))
                .and_then(Value::as_bool)
                .unwrap_or(false)
    }

    /// 403 unless the role may read some table of `database` (whether it exists or not), so a
    /// database's existence is told only to those who may see into it.
    pub fn require_database(&self, database: &str) -> Result<()> {
        let reads_some = self.is_super()
            || self.role.cluster_user()
            || self.role.permission.get(database).and_then(|d| d.get("tables")).and_then(Value::as_object).is_some_and(|tables| {
                tables.values().any(|t| t.get(Access::Read.key()).and_then(Value::as_bool).unwrap_or(false))
            });
        if reads_some {
            return Ok(());
        }
        Err(Error::Forbidden(vec![Denied::Restricted(format!("no permission to read any table of database '{database}'"))]))
    }

    /// 403 naming every permission that is missing on the table.
    pub fn require(&self, database: &str, table: &str, needs: &[Access]) -> Result<()> {
        let missing: Vec<&str> = needs.iter().filter(|a| !self.allows(database, table, **a)).map(|a| a.key()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::Forbidden(vec![Denied::Table(MissingPermission {
            schema: database.into(),
            table: table.into(),
            required_table_permissions: missing.into_iter().map(str::to_string).collect(),
            required_attribute_permissions: vec![],
        })]))
    }

    /// Whether a replication peer logged in as this user may pull the log of `database.table`
    /// (read it) or push entries into it (insert, update and delete: a log carries all three).
    /// Super users and cluster users replicate every table; any other role only what it grants,
    /// which is how a link made by the studio is held to exactly the channels it carries.
    pub fn replicates(&self, database: &str, table: &str, push: bool) -> bool {
        if self.is_super() || self.role.cluster_user() {
            return true;
        }
        if push {
            [Access::Insert, Access::Update, Access::Delete].iter().all(|a| self.allows(database, table, *a))
        } else {
            self.allows(database, table, Access::Read)
        }
    }

    /// Whether tables may be made for a peer's channels (super and cluster users).
    pub fn replicates_everything(&self) -> bool {
        self.is_super() || self.role.cluster_user()
    }

    /// 403 for operations only a super user may run.
    pub fn require_super(&self, operation: &str) -> Result<()> {
        if self.is_super() {
            return Ok(());
        }
        Err(Error::Forbidden(vec![Denied::Restricted(format!(
            "Operation '{operation}' is restricted to 'super_user' roles"
        ))]))
    }
}

/// Checks a permission object's shape so a bad role is refused at add_role, not at use.
pub fn validate_permission(p: &Value) -> Result<()> {
    let obj = p.as_object().ok_or_else(|| Error::bad("'permission' must be an object"))?;
    for (k, v) in obj {
        match k.as_str() {
            RELAY_ORIGINS => {
                if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                    return Err(Error::bad(format!("permission '{RELAY_ORIGINS}' must be an array of node names")));
                }
            }
            "super_user" | "cluster_user" | "structure_user" => {
                if !(v.is_boolean() || (k == "structure_user" && v.is_array())) {
                    return Err(Error::bad(format!("permission '{k}' must be a boolean")));
                }
            }
            db => {
                let tables = v
                    .get("tables")
                    .and_then(Value::as_object)
                    .ok_or_else(|| Error::bad(format!("permission for database '{db}' needs a 'tables' object")))?;
                for (t, perms) in tables {
                    let perms = perms
                        .as_object()
                        .ok_or_else(|| Error::bad(format!("permission for table '{db}.{t}' must be an object")))?;
                    for (pk, pv) in perms {
                        let ok = match pk.as_str() {
                            "read" | "insert" | "update" | "delete" => pv.is_boolean(),
                            "attribute_permissions" => pv.is_array() || pv.is_null(),
                            _ => false,
                        };
                        if !ok {
                            return Err(Error::bad(format!("permission '{pk}' on table '{db}.{t}' is not valid")));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
