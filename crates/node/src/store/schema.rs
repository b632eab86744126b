//! Databases, tables and attributes: their rows in the catalog tables, their record tables, and
//! the in-memory catalog kept in step under the writer connection.

use std::sync::Arc;

use super::*;

impl Store {
    pub async fn create_database(&self, name: &str) -> Result<()> {
        validate_name("database", name)?;
        let mut w = self.writer().await?;
        if self.catalog().databases.contains_key(name) {
            return Err(Error::bad(format!("database '{name}' already exists")));
        }
        sqlx::query("INSERT INTO databases (name, created) VALUES (?, ?)")
            .bind(name)
            .bind(now_ms())
            .execute(&mut *w)
            .await?;
        self.with_catalog(|c| c.databases.insert(name.to_string(), Default::default()));
        Ok(())
    }

    pub async fn drop_database(&self, name: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let tables: Vec<Arc<TableMeta>> = self.catalog().database(name)?.values().cloned().collect();
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        for t in &tables {
            sqlx::query(&format!("DROP TABLE IF EXISTS {}", t.physical())).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM tables WHERE id = ?").bind(t.id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM databases WHERE name = ?").bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        self.with_catalog(|c| c.databases.remove(name));
        Ok(())
    }

    /// Creates the table (and its database when missing). `attributes` makes it schema-defined.
    pub async fn create_table(
        &self,
        database: &str,
        name: &str,
        primary_key: &str,
        expiration: Option<u64>,
        declared: Option<Vec<AttributeMeta>>,
    ) -> Result<Arc<TableMeta>> {
        validate_name("database", database)?;
        validate_name("table", name)?;
        validate_name("primary key", primary_key)?;
        let mut w = self.writer().await?;
        let catalog = self.catalog();
        if catalog.databases.get(database).is_some_and(|d| d.contains_key(name)) {
            return Err(Error::bad(format!("Table '{name}' already exists in '{database}'")));
        }
        let schema_defined = declared.is_some();
        let mut attributes = vec![AttributeMeta { name: primary_key.to_string(), kind: None, indexed: true }];
        match declared {
            Some(list) => {
                for a in list {
                    validate_name("attribute", &a.name)?;
                    if a.name == primary_key {
                        attributes[0].kind = a.kind;
                    } else if !attributes.iter().any(|x| x.name == a.name) {
                        attributes.push(a);
                    }
                }
            }
            None => {
                for t in [CREATED, UPDATED] {
                    attributes.push(AttributeMeta { name: t.into(), kind: None, indexed: true });
                }
            }
        }
        let now = now_ms();
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        if !catalog.databases.contains_key(database) {
            sqlx::query("INSERT INTO databases (name, created) VALUES (?, ?)")
                .bind(database)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tables (database, name, primary_key, expiration, schema_defined, created) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(database)
        .bind(name)
        .bind(primary_key)
        .bind(expiration.map(|e| e as i64))
        .bind(schema_defined as i64)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (pos, a) in attributes.iter().enumerate() {
            sqlx::query("INSERT INTO attributes (table_id, position, name, type, indexed) VALUES (?, ?, ?, ?, ?)")
                .bind(id)
                .bind(pos as i64)
                .bind(&a.name)
                .bind(&a.kind)
                .bind(a.indexed as i64)
                .execute(&mut *tx)
                .await?;
        }
        // `pk` has no declared type, so SQLite keeps numbers as numbers and strings as strings.
        sqlx::query(&format!(
            "CREATE TABLE r{id} (pk PRIMARY KEY NOT NULL, doc TEXT NOT NULL, updated REAL NOT NULL, origin TEXT NOT NULL DEFAULT '', \
             version INTEGER NOT NULL DEFAULT 0, bucket INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
        ))
        .execute(&mut *tx)
        .await?;
        if expiration.is_some() {
            sqlx::query(&format!("CREATE INDEX r{id}_updated ON r{id} (updated)")).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let meta = Arc::new(TableMeta {
            id,
            database: database.to_string(),
            name: name.to_string(),
            primary_key: primary_key.to_string(),
            expiration,
            schema_defined,
            attributes,
        });
        self.with_catalog(|c| {
            c.databases.entry(database.to_string()).or_default().insert(name.to_string(), meta.clone())
        });
        Ok(meta)
    }

    pub async fn drop_table(&self, database: &str, name: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let meta = self.table(database, name)?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        sqlx::query(&format!("DROP TABLE IF EXISTS {}", meta.physical())).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM tables WHERE id = ?").bind(meta.id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.with_catalog(|c| c.databases.get_mut(database).map(|d| d.remove(name)));
        Ok(())
    }

    pub async fn create_attribute(&self, database: &str, table: &str, attribute: &str) -> Result<()> {
        validate_name("attribute", attribute)?;
        let mut w = self.writer().await?;
        let meta = self.table(database, table)?;
        if meta.has_attribute(attribute) {
            return Err(Error::bad(format!("attribute '{attribute}' already exists in {database}.{table}")));
        }
        let mut next = (*meta).clone();
        next.attributes.push(AttributeMeta { name: attribute.to_string(), kind: None, indexed: true });
        sqlx::query("INSERT INTO attributes (table_id, position, name, indexed) VALUES (?, ?, ?, 1)")
            .bind(meta.id)
            .bind(next.attributes.len() as i64 - 1)
            .bind(attribute)
            .execute(&mut *w)
            .await?;
        self.replace_meta(next);
        Ok(())
    }

    /// Removes the attribute from the table and from every record.
    pub async fn drop_attribute(&self, database: &str, table: &str, attribute: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let meta = self.table(database, table)?;
        if !meta.has_attribute(attribute) {
            return Err(Error::NotFound(format!("attribute '{attribute}' does not exist in {database}.{table}")));
        }
        if attribute == meta.primary_key || attribute == CREATED || attribute == UPDATED {
            return Err(Error::bad(format!("attribute '{attribute}' cannot be dropped")));
        }
        value::attr_sql(attribute, "->")?; // refuses names a JSON path cannot hold
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        sqlx::query("DELETE FROM attributes WHERE table_id = ? AND name = ?")
            .bind(meta.id)
            .bind(attribute)
            .execute(&mut *tx)
            .await?;
        // The documents change in place: the digest takes back what they held and adds what
        // they hold after.
        let (t, name) = (meta.physical(), attribute.replace('\'', "''"));
        let holding = format!("json_type(doc, '$.\"{name}\"') IS NOT NULL");
        let mut changes = digest::Changes::default();
        for row in sqlx::query(&format!("SELECT pk, version, doc FROM {t} WHERE {holding}")).fetch_all(&mut *tx).await? {
            let (kt, hash) = digest::keyed_row_hash(&row)?;
            changes.remove(meta.id, digest::bucket_of(&kt), hash);
        }
        let changed = sqlx::query(&format!("UPDATE {t} SET doc = json_remove(doc, '$.\"{name}\"') WHERE {holding} RETURNING pk, version, doc")).fetch_all(&mut *tx).await?;
        for row in &changed {
            let (kt, hash) = digest::keyed_row_hash(row)?;
            changes.add(meta.id, digest::bucket_of(&kt), hash);
        }
        changes.write(&mut tx).await?;
        tx.commit().await?;
        let mut next = (*meta).clone();
        next.attributes.retain(|a| a.name != attribute);
        self.replace_meta(next);
        Ok(())
    }

    pub(crate) fn replace_meta(&self, meta: TableMeta) {
        let db = meta.database.clone();
        let name = meta.name.clone();
        self.with_catalog(|c| c.databases.entry(db).or_default().insert(name, Arc::new(meta)));
    }
}
