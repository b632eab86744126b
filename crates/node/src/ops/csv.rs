//! csv_data_load and get_job. The load is validated whole before one batch write, so a bad row
//! rejects the load and nothing is written; its outcome is kept as a job.

use serde_json::{Map, Value};
use switchyard_protocol::ops::{CsvDataLoad, JobRef, JobReply, JobStarted, LoadResult};

use super::data::required_access;
use super::Reply;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::log::rfc3339;
use crate::store::value::now_ms;
use crate::store::{StoredJob, WriteMode};
use crate::Node;

/// A CSV cell as JSON: empty → absent, numbers (without leading zeros), booleans, JSON objects
/// and arrays, otherwise the text itself.
pub fn cell(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t == "true" || t == "false" {
        return Some(Value::Bool(t == "true"));
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if !leading_zero && digits.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(f) = t.parse::<f64>() {
            if f.is_finite() {
                return Some(Value::from(f));
            }
        }
    }
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return Some(v);
        }
    }
    Some(Value::String(s.to_string()))
}

pub fn parse_csv(data: &str) -> Result<Vec<Value>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::bad(format!("CSV header could not be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().any(String::is_empty) {
        return Err(Error::bad("CSV header has an empty column name"));
    }
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| Error::bad(format!("CSV row {} is malformed: {e}", i + 2)))?;
        let mut rec = Map::new();
        for (h, v) in headers.iter().zip(row.iter()) {
            if let Some(v) = cell(v) {
                rec.insert(h.clone(), v);
            }
        }
        records.push(Value::Object(rec));
    }
    Ok(records)
}

pub async fn load(node: &Node, who: &Principal, req: CsvDataLoad) -> Result<Reply> {
    let mode = match req.action.as_deref().unwrap_or("insert") {
        "insert" => WriteMode::Insert,
        "update" => WriteMode::Update,
        "upsert" => WriteMode::Upsert,
        other => return Err(Error::bad(format!("'action' must be insert, update or upsert, not '{other}'"))),
    };
    who.require(&req.database, &req.table, required_access(mode))?;
    node.store.table(&req.database, &req.table)?;
    let data = req.data;
    let records = tokio::task::spawn_blocking(move || parse_csv(&data))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let started = now_ms();
    let total = records.len();
    let (written, skipped) = if records.is_empty() {
        (0, 0)
    } else {
        let out = node.store.write(&req.database, &req.table, mode, records, Some(&who.username)).await?;
        (out.written.len(), out.skipped.len())
    };
    let id = uuid::Uuid::new_v4().to_string();
    let message = format!("successfully loaded {written} of {total} records");
    let result = LoadResult { message: None, written: written as u64, skipped: skipped as u64, total: total as u64 };
    let job = StoredJob {
        id: id.clone(),
        kind: "csv_data_load".into(),
        status: "COMPLETE".into(),
        message: message.clone(),
        result: Some(serde_json::to_string(&result).map_err(|e| Error::Internal(e.to_string()))?),
        created: started,
        finished: Some(now_ms()),
    };
    node.store.save_job(&job).await?;
    Reply::of(&JobStarted { message: format!("Starting job with id {id}"), job_id: id, result: LoadResult { message: Some(message), ..result } })
}

pub async fn get_job(node: &Node, req: JobRef) -> Result<Reply> {
    let job = node.store.job(&req.id).await?.ok_or_else(|| Error::NotFound(format!("job '{}' not found", req.id)))?;
    // A stored result that does not read back is a bug of ours, never shown as no result.
    let result = job.result.as_deref().map(serde_json::from_str::<LoadResult>).transpose().map_err(|e| Error::Internal(format!("job '{}' has a corrupt result: {e}", job.id)))?;
    Reply::of(&[JobReply {
        id: job.id,
        kind: job.kind,
        status: job.status,
        message: job.message,
        result,
        start_datetime: rfc3339(job.created as i64),
        end_datetime: job.finished.map(|f| rfc3339(f as i64)),
    }])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_infer_types() {
        assert_eq!(cell("12"), Some(json!(12)));
        assert_eq!(cell("-1.5"), Some(json!(-1.5)));
        assert_eq!(cell("007"), Some(json!("007")));
        assert_eq!(cell("true"), Some(json!(true)));
        assert_eq!(cell(""), None);
        assert_eq!(cell("{\"a\":1}"), Some(json!({"a":1})));
        assert_eq!(cell("[x"), Some(json!("[x")));
        assert_eq!(cell("inf"), Some(json!("inf")));
    }

    #[test]
    fn ragged_rows_are_refused() {
        assert!(parse_csv("id,name\n1,a\n2\n").is_err());
        assert_eq!(parse_csv("id,name\n1,a\n2,\n").unwrap().len(), 2);
    }
}
