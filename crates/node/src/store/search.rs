//! search_by_value and search_by_conditions as SQLite over a record table, with bound values.
//! Conditions and sorts on the primary key use the table's clustered key, so keyset paging
//! (`pk > last` sorted by pk) reads only the page at any depth.

use serde_json::Value;
use sqlx::Row;
use switchyard_protocol::ops::{Condition, Operator, SearchByConditions, SearchByValue, Sort};

use super::value::{attr_sql, normalize_key, same_kind, Param};
use super::{Store, TableMeta};
use crate::error::{Error, Result};

/// The SQL for one attribute's value; the primary key is its own indexed column.
pub fn column(meta: &TableMeta, attr: &str) -> Result<String> {
    if attr == meta.primary_key {
        Ok("pk".to_string())
    } else {
        attr_sql(attr, "->>")
    }
}

fn known(meta: &TableMeta, attr: &str) -> Result<()> {
    if meta.has_attribute(attr) {
        Ok(())
    } else {
        Err(Error::bad(format!("unknown attribute '{attr}'")))
    }
}

/// A bound value for a comparison with `attr`; keys are normalised like stored keys.
fn param(meta: &TableMeta, attr: &str, v: &Value) -> Param {
    if attr == meta.primary_key {
        if let Ok(k) = normalize_key(v, attr) {
            return Param::from_json(&k);
        }
    }
    Param::from_json(v)
}

fn text_param(v: &Value, search_type: &str) -> Result<Param> {
    match v {
        Value::String(s) => Ok(Param::Text(s.clone())),
        Value::Number(n) => Ok(Param::Text(n.to_string())),
        _ => Err(Error::bad(format!("search_value for '{search_type}' must be a string"))),
    }
}

fn compare(meta: &TableMeta, attr: &str, search_type: &str, value: &Value, params: &mut Vec<Param>) -> Result<String> {
    known(meta, attr)?;
    let col = column(meta, attr)?;
    let sql = match search_type {
        "equals" if value.is_null() => format!("{col} IS NULL"),
        "not_equal" | "not_equals" if value.is_null() => format!("{col} IS NOT NULL"),
        "equals" | "not_equal" | "not_equals" | "greater_than" | "greater_than_equal" | "less_than" | "less_than_equal" => {
            if !(value.is_string() || value.is_number() || value.is_boolean()) {
                return Err(Error::bad(format!("search_value for '{search_type}' must be a string, number or boolean")));
            }
            let p = param(meta, attr, value);
            let guard = same_kind(&col, &p).filter(|_| !matches!(search_type, "equals" | "not_equal" | "not_equals"));
            params.push(p);
            let op = match search_type {
                "equals" => "=",
                "not_equal" | "not_equals" => "IS NOT",
                "greater_than" => ">",
                "greater_than_equal" => ">=",
                "less_than" => "<",
                _ => "<=",
            };
            match guard {
                Some(g) => format!("({col} {op} ? AND {g})"),
                None => format!("{col} {op} ?"),
            }
        }
        "contains" => {
            params.push(text_param(value, search_type)?);
            format!("instr({col}, ?) > 0")
        }
        "starts_with" => {
            let p = text_param(value, search_type)?;
            params.push(p.clone());
            params.push(p);
            format!("substr({col}, 1, length(?)) = ?")
        }
        "ends_with" => {
            let p = text_param(value, search_type)?;
            params.push(p.clone());
            params.push(p);
            format!("({col} IS NOT NULL AND substr({col}, -length(?)) = ?)")
        }
        "between" => {
            let pair = value.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
                Error::bad("search_value for 'between' must be an array of two values [low, high]")
            })?;
            let lo = param(meta, attr, &pair[0]);
            let guard = same_kind(&col, &lo);
            params.push(lo);
            params.push(param(meta, attr, &pair[1]));
            match guard {
                Some(g) => format!("({col} BETWEEN ? AND ? AND {g})"),
                None => format!("{col} BETWEEN ? AND ?"),
            }
        }
        other => return Err(Error::bad(format!("Unknown query comparator \"{other}\""))),
    };
    Ok(sql)
}

pub fn condition(meta: &TableMeta, c: &Condition, params: &mut Vec<Param>) -> Result<String> {
    match c {
        Condition::Compare { search_attribute, search_type, search_value } => {
            compare(meta, search_attribute, search_type, search_value, params)
        }
        Condition::Group { operator, conditions } => group(meta, *operator, conditions, params),
    }
}

fn group(meta: &TableMeta, op: Operator, conditions: &[Condition], params: &mut Vec<Param>) -> Result<String> {
    if conditions.is_empty() {
        return Err(Error::bad("'conditions' must contain at least 1 items"));
    }
    let joiner = match op {
        Operator::And => " AND ",
        Operator::Or => " OR ",
    };
    let parts = conditions.iter().map(|c| condition(meta, c, params)).collect::<Result<Vec<_>>>()?;
    Ok(format!("({})", parts.join(joiner)))
}

/// ORDER BY for a sort chain, always ending on the key so pages are stable.
pub fn order_by(meta: &TableMeta, sort: Option<&Sort>) -> Result<String> {
    let mut parts = Vec::new();
    let mut on_key = false;
    let mut next = sort;
    while let Some(s) = next {
        known(meta, &s.attribute)?;
        let col = column(meta, &s.attribute)?;
        on_key |= col == "pk";
        parts.push(format!("{col}{}", if s.descending { " DESC" } else { "" }));
        next = s.next.as_deref();
    }
    if !on_key {
        parts.push("pk".to_string());
    }
    Ok(format!(" ORDER BY {}", parts.join(", ")))
}

fn paging(limit: Option<u64>, offset: Option<u64>, params: &mut Vec<Param>) -> String {
    match (limit, offset) {
        (None, None) => String::new(),
        (l, o) => {
            params.push(Param::Int(l.map(|l| l.min(i64::MAX as u64) as i64).unwrap_or(-1)));
            params.push(Param::Int(o.unwrap_or(0).min(i64::MAX as u64) as i64));
            " LIMIT ? OFFSET ?".to_string()
        }
    }
}

async fn docs(store: &Store, sql: &str, params: &[Param]) -> Result<Vec<String>> {
    store
        .fetch(sql, params)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0).map_err(Error::from))
        .collect()
}

impl Store {
    /// The documents (JSON text) a search_by_value matches, in its order and page. `*` alone
    /// matches every record that has the attribute; `*` inside a string is a wildcard.
    pub async fn search_by_value(&self, meta: &TableMeta, search: &SearchByValue) -> Result<Vec<String>> {
        known(meta, &search.search_attribute)?;
        let col = column(meta, &search.search_attribute)?;
        let mut params = Vec::new();
        let filter = match &search.search_value {
            Value::String(s) if s == "*" => {
                if col == "pk" { String::new() } else { format!(" WHERE {col} IS NOT NULL") }
            }
            Value::String(s) if s.contains('*') => {
                // GLOB: `*` is the wildcard, other glob characters are escaped into classes.
                let pattern: String = s
                    .chars()
                    .map(|c| match c {
                        '?' => "[?]".to_string(),
                        '[' => "[[]".to_string(),
                        c => c.to_string(),
                    })
                    .collect();
                params.push(Param::Text(pattern));
                format!(" WHERE {col} GLOB ?")
            }
            v if v.is_null() => format!(" WHERE {col} IS NULL"),
            v if v.is_array() || v.is_object() => {
                return Err(Error::bad("search_value must be a string, number or boolean"));
            }
            v => {
                params.push(param(meta, &search.search_attribute, v));
                format!(" WHERE {col} = ?")
            }
        };
        let order = order_by(meta, search.sort.as_ref())?;
        let page = paging(search.limit, search.offset, &mut params);
        let sql = format!("SELECT doc FROM {}{filter}{order}{page}", meta.physical());
        docs(self, &sql, &params).await
    }

    /// The documents (JSON text) a search_by_conditions matches, in its order and page.
    pub async fn search_by_conditions(&self, meta: &TableMeta, search: &SearchByConditions) -> Result<Vec<String>> {
        let mut params = Vec::new();
        let filter = group(meta, search.operator, &search.conditions, &mut params)?;
        let order = order_by(meta, search.sort.as_ref())?;
        let page = paging(search.limit, search.offset, &mut params);
        let sql = format!("SELECT doc FROM {} WHERE {filter}{order}{page}", meta.physical());
        docs(self, &sql, &params).await
    }
}
