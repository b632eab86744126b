//! JSON ⇄ SQLite values: bound parameters, primary-key normalisation and canonical keys.

use serde_json::{Number, Value};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

use crate::error::{Error, Result};

/// A value bound into generated SQL; literals never appear in SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Param {
    /// How a JSON value compares inside SQLite (`doc ->> path` yields the same kinds).
    pub fn from_json(v: &Value) -> Param {
        match v {
            Value::Null => Param::Null,
            Value::Bool(b) => Param::Int(*b as i64),
            Value::Number(n) => number_param(n),
            Value::String(s) => Param::Text(s.clone()),
            other => Param::Text(other.to_string()),
        }
    }
}

fn number_param(n: &Number) -> Param {
    match n.as_i64() {
        Some(i) => Param::Int(i),
        None => Param::Real(n.as_f64().unwrap_or(f64::NAN)),
    }
}

pub type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// Binds `params` in order.
pub fn bind_all<'q>(mut q: SqliteQuery<'q>, params: &[Param]) -> SqliteQuery<'q> {
    for p in params {
        q = match p {
            Param::Null => q.bind(Option::<i64>::None),
            Param::Int(i) => q.bind(*i),
            Param::Real(f) => q.bind(*f),
            Param::Text(s) => q.bind(s.clone()),
        };
    }
    q
}

/// 2^63: every integral double in [-2^63, 2^63) is exactly an i64.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// A primary key as stored: a string, or a number with integral floats folded to integers so that
/// `1` and `1.0` are the same key. Anything else is refused.
pub fn normalize_key(v: &Value, pk: &str) -> Result<Value> {
    match v {
        Value::String(_) => Ok(v.clone()),
        Value::Number(n) => {
            if n.is_u64() && !n.is_i64() {
                // Stored as a double it would become another key (and collide with neighbours).
                return Err(out_of_range(pk, n));
            }
            if n.is_i64() {
                return Ok(v.clone());
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if !f.is_finite() {
                return Err(Error::bad(format!("primary key '{pk}' must be a finite number")));
            }
            if f.fract() == 0.0 {
                // An integer literal outside 64 bits reaches us as the nearest double (serde
                // parses `100000000000000000000` and `-9223372036854775809` so): its own value is
                // lost, and neighbours would become one key. Refused, however it was written;
                // -2^63 as a double can only be such a rounding (the literal parses as an i64).
                if f <= -I64_BOUND || f >= I64_BOUND {
                    return Err(out_of_range(pk, n));
                }
                // SQLite compares an integer and an integral double by value, so `1e16` and
                // `10000000000000000` are one key there: fold every integral double (each is
                // exactly an i64 here). Other doubles stay doubles and never equal an integer.
                return Ok(Value::from(f as i64));
            }
            Ok(Value::from(f))
        }
        other => Err(Error::bad(format!(
            "primary key '{pk}' must be a string or a number, got {}",
            kind_of(other)
        ))),
    }
}

fn out_of_range(pk: &str, n: &Number) -> Error {
    Error::bad(format!(
        "primary key '{pk}' {n} is out of range: integer keys must fit in a signed 64-bit integer \
         (-9223372036854775808 to 9223372036854775807); use a string for larger ones"
    ))
}

/// The canonical text of a normalised key, used to match keys coming back from SQLite.
pub fn key_text(v: &Value) -> String {
    v.to_string()
}

/// The key in column `i` of a row that selected `pk` itself, read with the type SQLite stored
/// it as. Never through text: SQLite prints doubles with 15 significant digits, so
/// `0.30000000000000004` would come back as another key.
pub fn key_from_row(row: &SqliteRow, i: usize) -> Result<Value> {
    let raw = row.try_get_raw(i)?;
    let kind = raw.type_info().name().to_string();
    let v = match kind.as_str() {
        "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => Value::from(row.try_get_unchecked::<f64, _>(i)?),
        "TEXT" => Value::String(row.try_get_unchecked::<String, _>(i)?),
        other => return Err(Error::Internal(format!("a stored key has SQLite type {other}"))),
    };
    normalize_key(&v, "key")
}

pub fn key_param(v: &Value) -> Param {
    match v {
        Value::String(s) => Param::Text(s.clone()),
        Value::Number(n) => number_param(n),
        _ => Param::Null,
    }
}

/// A guard that keeps a range comparison within the kind of its bound: numbers compare with
/// numbers and text with text. Without it SQLite ranks all text above all numbers, so
/// `id >= 10` would also match every string key.
pub fn same_kind(col: &str, p: &Param) -> Option<String> {
    match p {
        Param::Int(_) | Param::Real(_) => Some(format!("typeof({col}) IN ('integer', 'real')")),
        Param::Text(_) => Some(format!("typeof({col}) = 'text'")),
        Param::Null => None,
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `doc ->> '$."name"'`: the SQL value of a top-level attribute. Names are inlined as a string
/// literal (single quotes doubled). SQLite reads a quoted path label with a backslash in it as
/// JSON-escaped, so a backslash is written `\\`; a `"` cannot be expressed in a label at all.
pub fn attr_sql(name: &str, arrow: &str) -> Result<String> {
    if name.contains('"') || name.chars().any(char::is_control) {
        return Err(Error::bad(format!(
            "attribute '{name}' cannot be searched: its name contains '\"' or a control character"
        )));
    }
    Ok(format!("(doc {arrow} '$.\"{}\"')", name.replace('\\', "\\\\").replace('\'', "''")))
}

/// Epoch milliseconds with microsecond fraction, as HarperDB stamps records.
pub fn now_ms() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_normalise() {
        assert_eq!(normalize_key(&json!(1.0), "id").unwrap(), json!(1));
        assert_eq!(normalize_key(&json!(1.5), "id").unwrap(), json!(1.5));
        assert_eq!(normalize_key(&json!("a"), "id").unwrap(), json!("a"));
        assert!(normalize_key(&json!(null), "id").is_err());
        assert!(normalize_key(&json!([1]), "id").is_err());
        assert_eq!(normalize_key(&json!(1e16), "id").unwrap(), json!(10_000_000_000_000_000i64));
        assert_eq!(normalize_key(&json!(0.30000000000000004), "id").unwrap(), json!(0.30000000000000004));
        assert_eq!(normalize_key(&json!(-9223372036854775808i64), "id").unwrap(), json!(i64::MIN));
        assert!(normalize_key(&json!(18446744073709551615u64), "id").is_err());
        assert!(normalize_key(&json!(9.3e18), "id").is_err(), "an integral double beyond i64 is refused");
        for text in ["100000000000000000000", "100000000000000000001", "18446744073709551616", "-9223372036854775809", "-9223372036854775808.0", "1e300"] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(normalize_key(&v, "id").is_err(), "{text} is refused, not rounded");
        }
        assert_eq!(normalize_key(&serde_json::from_str("9223372036854775807").unwrap(), "id").unwrap(), json!(i64::MAX));
        assert!(normalize_key(&json!(1.5e300), "id").is_err());
        assert_eq!(normalize_key(&json!(2.5), "id").unwrap(), json!(2.5), "fractions stay doubles");
    }

    #[test]
    fn attribute_paths_are_quoted() {
        assert_eq!(attr_sql("a.b", "->>").unwrap(), "(doc ->> '$.\"a.b\"')");
        assert_eq!(attr_sql("it's", "->").unwrap(), "(doc -> '$.\"it''s\"')");
        assert!(attr_sql("bad\"name", "->>").is_err());
        assert_eq!(attr_sql("a\\b", "->>").unwrap(), "(doc ->> '$.\"a\\\\b\"')");
    }
}
