//! Shaping stored documents into answers: `get_attributes` projection and JSON array assembly.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::store::TableMeta;

/// Assembles a JSON array from documents. Without `get_attributes` the stored text is passed
/// through untouched; `["*"]` lists every table attribute (null when absent); a list picks those.
pub fn project(meta: &TableMeta, docs: Vec<String>, get: Option<&[String]>) -> Result<String> {
    let Some(get) = get else {
        return Ok(join(docs.iter().map(String::as_str)));
    };
    let names: Vec<&str> = if get.iter().any(|g| g == "*") {
        meta.attributes.iter().map(|a| a.name.as_str()).collect()
    } else {
        get.iter().map(String::as_str).collect()
    };
    let mut out = Vec::with_capacity(docs.len());
    for text in &docs {
        let doc: Map<String, Value> = serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored record is not JSON: {e}")))?;
        out.push(Value::Object(pick(&doc, &names)).to_string());
    }
    Ok(join(out.iter().map(String::as_str)))
}

fn pick(doc: &Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    let mut m = Map::with_capacity(names.len());
    for n in names {
        m.insert((*n).to_string(), doc.get(*n).cloned().unwrap_or(Value::Null));
    }
    m
}

pub fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut s = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(item);
    }
    s.push(']');
    s
}
