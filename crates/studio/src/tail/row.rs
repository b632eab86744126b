//! A transaction as the tail holds it, and what the list reads of it: its keys (made once, when
//! first read), its record count and its preview.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::socket::TailRecord;

/// Characters of a line's payload preview: more than the widest data column shows.
pub const PREVIEW_CHARS: usize = 160;

/// A transaction held: the record and what the list and the filters read of it.
pub(super) struct Row {
    pub(super) seq: u64,
    pub(super) record: TailRecord,
    /// Records in the transaction (ids of a delete); at least 1.
    pub(super) count: u64,
    /// The keys, as text; made when first read (a line drawn, a key filter).
    pub(super) keys: OnceLock<String>,
}

impl Row {
    pub(super) fn keys(&self, primary_key: Option<&str>) -> &str {
        self.keys.get_or_init(|| keys_of(&self.record, primary_key))
    }
}

/// The keys of a record: the ids of a delete, or each record's primary key.
pub(super) fn keys_of(r: &TailRecord, primary_key: Option<&str>) -> String {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(r.data.get()) else { return String::new() };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let keys: Vec<String> = if r.operation == "delete" {
        items.iter().map(text).collect()
    } else {
        items.iter().map(|rec| match (rec, primary_key) {
            (Value::Object(o), Some(pk)) => o.get(pk).map(text).unwrap_or_default(),
            _ => String::new(),
        }).collect()
    };
    keys.join(", ")
}

/// Records in a transaction's data (an array; anything else counts as one).
pub(super) fn records_in(r: &TailRecord) -> u64 {
    match serde_json::from_str::<Vec<serde::de::IgnoredAny>>(r.data.get()) {
        Ok(items) => items.len().max(1) as u64,
        Err(_) => 1,
    }
}

/// `text` cut to `max` characters, an ellipsis added when cut.
pub(super) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The first records of a transaction as JSON, cut to `PREVIEW_CHARS`.
pub(super) fn preview(r: &TailRecord) -> String {
    cut(r.data.get(), PREVIEW_CHARS)
}

/// A held transaction, shared with the session while an export writes it.
pub struct TailRecordRef(pub(super) Arc<Row>);

impl TailRecordRef {
    pub fn record(&self) -> &TailRecord {
        &self.0.record
    }
}
