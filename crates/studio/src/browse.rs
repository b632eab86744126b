//! Browsing and editing through the Operations API: the database tree, server-side pages (by
//! key where possible), record writes, SQL. Works the same on switchyard-node and HarperDB.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::ops::{
    Condition, CreateTable, DatabaseRef, DeleteRecords, DeleteReply, InsertReply, Message, Operator, SearchByConditions, SearchByValue, Sort, TableDescription, TableRef, UpdateReply,
    UpsertReply, WriteRecords,
};
use switchyard_protocol::Operation;

use crate::types::{ColumnFilter, NewTable, Page, PageAnchor, PageRequest, SqlResult, TreeDatabase, TreeTable, WriteMode, WriteReport};
use crate::error::{Error, Result};
use switchyard_client::OpsClient;

const SERVER_TIMESTAMPS: [&str; 2] = ["__createdtime__", "__updatedtime__"];

fn table_from(d: TableDescription) -> TreeTable {
    let primary_key = d.hash_attribute;
    let mut attributes: Vec<String> = d.attributes.into_iter().map(|a| a.attribute).collect();
    attributes.sort_by_key(|a| (a != &primary_key, SERVER_TIMESTAMPS.contains(&a.as_str()), a.clone()));
    TreeTable {
        name: d.name,
        primary_key,
        record_count: Some(d.record_count as f64),
        // HarperDB's estimate comes with the range it lies in (difference `record-count-estimate`).
        record_count_estimated: d.estimated_record_range.is_some_and(|r| !r.is_null()),
        expiration: d.expiration.map(|e| e as f64),
        attributes,
    }
}

/// Column order for a set of rows: primary key first, then first-seen order, timestamps last.
pub fn rows_columns(rows: &[Value], primary_key: Option<&str>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    if let Some(pk) = primary_key {
        seen.push(pk.to_string());
    }
    for r in rows.iter().take(1000) {
        if let Some(o) = r.as_object() {
            for k in o.keys() {
                if !seen.iter().any(|s| s == k) {
                    seen.push(k.clone());
                }
            }
        }
    }
    seen.sort_by_key(|c| SERVER_TIMESTAMPS.contains(&c.as_str()));
    seen
}

fn condition(f: &ColumnFilter) -> Condition {
    Condition::compare(&f.attribute, f.op.comparator(), f.value.clone())
}

/// The operation a page request becomes, and whether its answer comes back reversed (pages read
/// backwards from the end or from a key are fetched descending, then put back in order).
/// Conditions are in HarperDB 4.x's spelling, which switchyard-node shares.
pub fn page_request_ops(req: &PageRequest, total: Option<u64>) -> Result<(Operation, bool)> {
    let pk = req.primary_key.as_str();
    let limit = req.limit.clamp(1, 10_000) as u64;
    let by_key = req.sort.as_ref().is_none_or(|s| s.attribute == pk);
    let key_desc = req.sort.as_ref().is_some_and(|s| s.descending);
    let mut conditions: Vec<Condition> = req.filters.iter().map(condition).collect();
    let base = |conditions: Vec<Condition>, sort_attr: &str, descending: bool, offset: Option<u64>| {
        let (get_attributes, limit, offset) = (Some(vec!["*".to_string()]), Some(limit), offset.filter(|o| *o > 0));
        let sort = Some(Sort { attribute: sort_attr.to_string(), descending, next: None });
        let (database, table) = (req.database.clone(), req.table.clone());
        if conditions.is_empty() {
            Operation::SearchByValue(SearchByValue { database, table, search_attribute: pk.to_string(), search_value: Value::from("*"), get_attributes, limit, offset, sort })
        } else {
            Operation::SearchByConditions(SearchByConditions { database, table, operator: Operator::And, conditions, get_attributes, limit, offset, sort })
        }
    };
    if by_key {
        // Keyset paging: "after k" in the display order is "greater than k" ascending, or
        // "less than k" when the key sort is descending.
        let (fwd, back) = if key_desc { ("less_than", "greater_than") } else { ("greater_than", "less_than") };
        return Ok(match &req.anchor {
            PageAnchor::First => (base(conditions, pk, key_desc, None), false),
            PageAnchor::Last => (base(conditions, pk, !key_desc, None), true),
            PageAnchor::After { key } => {
                conditions.push(Condition::compare(pk, fwd, key.clone()));
                (base(conditions, pk, key_desc, None), false)
            }
            PageAnchor::Before { key } => {
                conditions.push(Condition::compare(pk, back, key.clone()));
                (base(conditions, pk, !key_desc, None), true)
            }
            PageAnchor::Offset { offset } => (base(conditions, pk, key_desc, Some(*offset as u64)), false),
        });
    }
    let sort = req.sort.as_ref().ok_or_else(|| Error::Invalid("no sort".into()))?;
    let offset = match &req.anchor {
        PageAnchor::First => 0,
        PageAnchor::Offset { offset } => *offset as u64,
        PageAnchor::Last => match total {
            Some(t) => t.saturating_sub(limit),
            None => return Ok((base(conditions, &sort.attribute, !sort.descending, None), true)),
        },
        PageAnchor::After { .. } | PageAnchor::Before { .. } => {
            return Err(Error::Invalid("pages sorted by a non-key attribute move by offset".into()))
        }
    };
    Ok((base(conditions, &sort.attribute, sort.descending, Some(offset)), false))
}

/// Browsing and writing through an instance's Operations API, in the shapes the studio shows.
#[allow(async_fn_in_trait)]
pub trait Browse {
    /// Databases and their tables with record counts (describe_all).
    async fn tree(&self) -> Result<Vec<TreeDatabase>>;
    async fn table_info(&self, database: &str, table: &str) -> Result<TreeTable>;
    /// One page of a table, paged and filtered on the server.
    async fn page(&self, req: &PageRequest) -> Result<Page>;
    /// Inserts, updates or upserts records.
    async fn write_records(&self, database: &str, table: &str, mode: WriteMode, records: Vec<Value>) -> Result<WriteReport>;
    async fn delete_records(&self, database: &str, table: &str, keys: Vec<Value>) -> Result<WriteReport>;
    async fn run_sql(&self, sql: &str) -> Result<SqlResult>;
    async fn new_database(&self, database: &str) -> Result<String>;
    async fn drop_database(&self, database: &str) -> Result<String>;
    async fn new_table(&self, t: &NewTable) -> Result<String>;
    async fn drop_table(&self, database: &str, table: &str) -> Result<String>;
}

impl Browse for OpsClient {
    /// Databases and their tables with record counts (describe_all).
    async fn tree(&self) -> Result<Vec<TreeDatabase>> {
        let all: BTreeMap<String, BTreeMap<String, TableDescription>> = self.run_as(&Operation::DescribeAll(NoFields {})).await?;
        // BTreeMaps: databases and tables come out sorted by name.
        Ok(all.into_iter().map(|(name, tables)| TreeDatabase { name, tables: tables.into_values().map(table_from).collect() }).collect())
    }

    async fn table_info(&self, database: &str, table: &str) -> Result<TreeTable> {
        Ok(table_from(self.describe_table(database, table).await?))
    }

    /// One page of a table, paged and filtered on the server.
    async fn page(&self, req: &PageRequest) -> Result<Page> {
        let total = if req.filters.is_empty() {
            self.table_info(&req.database, &req.table).await?.record_count.map(|c| c as u64)
        } else {
            None
        };
        let (op, reversed) = page_request_ops(req, total)?;
        let answer = self.run(&op).await?;
        let mut rows = match answer {
            Value::Array(rows) => rows,
            other => return Err(self.malformed(format!("a search answered {other}")).into()),
        };
        let at_end = rows.len() < req.limit as usize;
        if reversed {
            rows.reverse();
        }
        // A row without its primary key is not a record: left out, and said so. (Only HarperDB
        // answers such rows: records deleted before a drop_attribute, difference
        // `drop-attribute-resurrects`; on a node the rule never fires, so no kind is asked.)
        let before = rows.len();
        rows.retain(|r| !r.get(&req.primary_key).is_none_or(Value::is_null));
        let ghosts = before - rows.len();
        let notice = (ghosts > 0).then(|| {
            format!(
                "{ghosts} {} without a primary key left out: HarperDB 4.7 returns records deleted before a drop_attribute as empty rows (and counts them in the table's record count)",
                if ghosts == 1 { "row" } else { "rows" }
            )
        });
        let offset = match (&req.anchor, total) {
            (PageAnchor::First, _) => Some(0),
            (PageAnchor::Offset { offset }, _) => Some(*offset as u64),
            (PageAnchor::Last, Some(t)) => Some(t.saturating_sub(rows.len() as u64)),
            _ => None,
        };
        let columns = rows_columns(&rows, Some(&req.primary_key));
        Ok(Page { rows, columns, total: total.map(|t| t as f64), offset: offset.map(|o| o as f64), at_end, notice })
    }

    /// Inserts, updates or upserts records.
    async fn write_records(&self, database: &str, table: &str, mode: WriteMode, records: Vec<Value>) -> Result<WriteReport> {
        let w = WriteRecords { database: database.into(), table: table.into(), records };
        let op = match mode {
            WriteMode::Insert => Operation::Insert(w),
            WriteMode::Update => Operation::Update(w),
            WriteMode::Upsert => Operation::Upsert(w),
        };
        let (message, mut written_keys, skipped_keys) = match mode {
            WriteMode::Insert => {
                let r: InsertReply = self.run_as(&op).await?;
                (r.message, r.inserted_hashes, r.skipped_hashes)
            }
            WriteMode::Update => {
                let r: UpdateReply = self.run_as(&op).await?;
                (r.message, r.update_hashes, r.skipped_hashes)
            }
            WriteMode::Upsert => {
                let r: UpsertReply = self.run_as(&op).await?;
                (r.message, r.upserted_hashes, Vec::new())
            }
        };
        let written = written_keys.len() as f64;
        // HarperDB reports a key it generated as null (difference `generated-key-reported-null`):
        // counted as written, not listed as a key.
        written_keys.retain(|k| !k.is_null());
        let unreported = written as usize - written_keys.len();
        let notice = (unreported > 0).then(|| {
            format!(
                "{unreported} {} written with a key the server generated and did not report (HarperDB 4.7 answers null for generated keys): find {} by its other values",
                if unreported == 1 { "record was" } else { "records were" },
                if unreported == 1 { "it" } else { "them" }
            )
        });
        Ok(WriteReport { message, written, written_keys, skipped_keys, notice })
    }

    async fn delete_records(&self, database: &str, table: &str, keys: Vec<Value>) -> Result<WriteReport> {
        let r: DeleteReply = self.run_as(&Operation::Delete(DeleteRecords { database: database.into(), table: table.into(), ids: keys })).await?;
        Ok(WriteReport { message: r.message, written: r.deleted_hashes.len() as f64, written_keys: r.deleted_hashes, skipped_keys: r.skipped_hashes, notice: None })
    }

    async fn run_sql(&self, sql: &str) -> Result<SqlResult> {
        let started = Instant::now();
        let v = self.sql(sql).await?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(match v {
            Value::Array(rows) => {
                let columns = rows_columns(&rows, None);
                SqlResult { rows, columns, message: None, elapsed_ms }
            }
            // A statement that is not a query answers a message (and maybe the keys it wrote).
            other => {
                let reply: Message = serde_json::from_value(other).map_err(|e| self.malformed(format!("a SQL statement answered neither rows nor a message: {e}")))?;
                SqlResult { rows: vec![], columns: vec![], message: Some(reply.message), elapsed_ms }
            }
        })
    }

    async fn new_database(&self, database: &str) -> Result<String> {
        Ok(self.run_as::<Message>(&Operation::CreateDatabase(DatabaseRef { database: database.into() })).await?.message)
    }

    async fn drop_database(&self, database: &str) -> Result<String> {
        Ok(self.run_as::<Message>(&Operation::DropDatabase(DatabaseRef { database: database.into() })).await?.message)
    }

    async fn new_table(&self, t: &NewTable) -> Result<String> {
        let op = Operation::CreateTable(CreateTable {
            database: t.database.clone(),
            table: t.table.clone(),
            primary_key: t.primary_key.clone(),
            expiration: t.expiration.map(|e| e as u64),
            attributes: None,
        });
        Ok(self.run_as::<Message>(&op).await?.message)
    }

    async fn drop_table(&self, database: &str, table: &str) -> Result<String> {
        Ok(self.run_as::<Message>(&Operation::DropTable(TableRef { database: database.into(), table: table.into() })).await?.message)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::{FilterOp, SortSpec};

    fn req(anchor: PageAnchor) -> PageRequest {
        PageRequest { database: "dev".into(), table: "dog".into(), primary_key: "id".into(), sort: None, filters: vec![], anchor, limit: 100 }
    }

    fn as_json(r: &PageRequest, total: Option<u64>) -> Result<(Value, bool)> {
        page_request_ops(r, total).map(|(op, rev)| (serde_json::to_value(op).unwrap(), rev))
    }

    #[test]
    fn key_pages_use_key_conditions_and_reverse_backwards() {
        let (op, rev) = as_json(&req(PageAnchor::After { key: json!(42) }), Some(1000)).unwrap();
        assert_eq!(op["operation"], "search_by_conditions");
        assert_eq!(op["conditions"][0], json!({"search_attribute": "id", "search_type": "greater_than", "search_value": 42}));
        assert!(!rev);
        let (op, rev) = as_json(&req(PageAnchor::Last), Some(1000)).unwrap();
        assert_eq!(op["operation"], "search_by_value");
        assert_eq!(op["sort"], json!({"attribute": "id", "descending": true}));
        assert!(op.get("offset").is_none());
        assert!(rev);
    }

    /// An instance that answers every request with `body` (200), on loopback.
    async fn answering(body: &'static str) -> OpsClient {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            for _ in 0..8 {
                let Ok((mut s, _)) = listener.accept().await else { return };
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = s.write_all(answer.as_bytes()).await;
            }
        });
        OpsClient::new(url, switchyard_client::Credentials::None).unwrap()
    }

    #[tokio::test]
    async fn a_malformed_answer_is_refused_as_a_protocol_error_never_read_as_empty() {
        use switchyard_protocol::ErrorCode;
        // describe_all that is not databases of tables, a table without its primary key, an
        // insert without its keys: each an error, not "no databases", "id" or "0 written".
        let e = answering(r#"{"dev": 5}"#).await.tree().await.unwrap_err();
        assert!(matches!(&e, Error::Client(switchyard_client::Error::Protocol { .. })), "{e}");
        let e = answering(r#"{"schema": "dev", "name": "t", "record_count": 1}"#).await.table_info("dev", "t").await.unwrap_err();
        assert!(e.to_string().contains("hash_attribute"), "{e}");
        let e = answering(r#"{"message": "inserted 1"}"#).await.write_records("dev", "t", WriteMode::Insert, vec![json!({"id": 1})]).await.unwrap_err();
        assert!(e.to_string().contains("inserted_hashes"), "{e}");
        let e = answering(r#"[1]"#).await.new_database("x").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Internal, "{e}");
    }

    #[test]
    fn filters_and_other_sorts_page_by_offset() {
        let mut r = req(PageAnchor::Last);
        r.sort = Some(SortSpec { attribute: "age".into(), descending: false });
        r.filters = vec![ColumnFilter { attribute: "name".into(), op: FilterOp::Contains, value: json!("a") }];
        let (op, rev) = as_json(&r, Some(1000)).unwrap();
        assert_eq!(op["offset"], 900);
        assert_eq!(op["conditions"][0]["search_type"], "contains");
        assert!(!rev);
        r.anchor = PageAnchor::After { key: json!(1) };
        assert!(page_request_ops(&r, Some(1000)).is_err());
    }
}
