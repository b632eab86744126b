//! The in-memory catalog of databases, tables and attributes, loaded at open and changed only by
//! the holder of the write connection, after its transaction commits.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::{Row, SqliteConnection};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct AttributeMeta {
    pub name: String,
    pub kind: Option<String>,
    pub indexed: bool,
}

/// One table. Immutable: a change replaces the `Arc` in the catalog.
#[derive(Debug, Clone)]
pub struct TableMeta {
    pub id: i64,
    pub database: String,
    pub name: String,
    pub primary_key: String,
    pub expiration: Option<u64>,
    pub schema_defined: bool,
    /// In first-seen order: primary key, the two timestamps, then as records brought them.
    pub attributes: Vec<AttributeMeta>,
}

impl TableMeta {
    /// The SQLite table holding the records: `r<id>`, never user text.
    pub fn physical(&self) -> String {
        format!("r{}", self.id)
    }

    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name == name)
    }

    pub fn attribute(&self, name: &str) -> Option<&AttributeMeta> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The table's channel name, `database:table`.
    pub fn channel(&self) -> String {
        format!("{}:{}", self.database, self.name)
    }

    pub fn qualified(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub databases: BTreeMap<String, BTreeMap<String, Arc<TableMeta>>>,
}

impl Catalog {
    pub async fn load(conn: &mut SqliteConnection) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for row in sqlx::query("SELECT name FROM databases").fetch_all(&mut *conn).await? {
            catalog.databases.insert(row.try_get("name")?, BTreeMap::new());
        }
        let tables = sqlx::query(
            "SELECT id, database, name, primary_key, expiration, schema_defined FROM tables",
        )
        .fetch_all(&mut *conn)
        .await?;
        for row in tables {
            let id: i64 = row.try_get("id")?;
            let attrs = sqlx::query(
                "SELECT name, type, indexed FROM attributes WHERE table_id = ? ORDER BY position",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|a| {
                Ok(AttributeMeta {
                    name: a.try_get("name")?,
                    kind: a.try_get("type")?,
                    indexed: a.try_get::<i64, _>("indexed")? != 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let meta = TableMeta {
                id,
                database: row.try_get("database")?,
                name: row.try_get("name")?,
                primary_key: row.try_get("primary_key")?,
                expiration: row.try_get::<Option<i64>, _>("expiration")?.map(|e| e as u64),
                schema_defined: row.try_get::<i64, _>("schema_defined")? != 0,
                attributes: attrs,
            };
            catalog
                .databases
                .entry(meta.database.clone())
                .or_default()
                .insert(meta.name.clone(), Arc::new(meta));
        }
        Ok(catalog)
    }

    pub fn table(&self, database: &str, table: &str) -> Result<Arc<TableMeta>> {
        self.databases
            .get(database)
            .and_then(|d| d.get(table))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("Table '{database}.{table}' does not exist")))
    }

    pub fn database(&self, database: &str) -> Result<&BTreeMap<String, Arc<TableMeta>>> {
        self.databases
            .get(database)
            .ok_or_else(|| Error::NotFound(format!("database '{database}' does not exist")))
    }
}
