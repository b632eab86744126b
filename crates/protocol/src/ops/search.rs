//! Searches: by id, by value, by conditions (with their sorts and groups).

use serde::{Deserialize, Serialize};
use serde_json::Value;


/// search_by_id (alias search_by_hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchById {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    #[serde(alias = "hash_values")]
    pub ids: Vec<Value>,
    pub get_attributes: Vec<String>,
}

/// A sort key; `next` chains a secondary key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sort {
    pub attribute: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub descending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Box<Sort>>,
}

/// search_by_value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchByValue {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    pub search_attribute: String,
    pub search_value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}

impl SearchByValue {
    /// Every record of `database.table` (`attribute` matched against `*`), with `get_attributes`.
    pub fn every(database: &str, table: &str, attribute: &str, get_attributes: &[&str]) -> SearchByValue {
        SearchByValue {
            database: database.into(),
            table: table.into(),
            search_attribute: attribute.into(),
            search_value: Value::from("*"),
            get_attributes: Some(get_attributes.iter().map(|a| a.to_string()).collect()),
            limit: None,
            offset: None,
            sort: None,
        }
    }
}

/// How the conditions of a group combine.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    #[default]
    And,
    Or,
}

/// One condition of search_by_conditions: a comparison or a nested group.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Condition {
    Group {
        #[serde(default)]
        operator: Operator,
        conditions: Vec<Condition>,
    },
    Compare {
        search_attribute: String,
        search_type: String,
        search_value: Value,
    },
}

impl Condition {
    pub fn compare(attribute: &str, search_type: &str, value: Value) -> Condition {
        Condition::Compare { search_attribute: attribute.into(), search_type: search_type.into(), search_value: value }
    }
}

/// What a condition must hold, in the words a caller is told when it does not.
pub const CONDITION_FORMS: &str =
    "each condition needs 'search_attribute', 'search_type' and 'search_value', or 'operator' and 'conditions'";

/// Read by which fields it has (a group has `conditions`), so that a malformed condition is
/// refused in words that name what is missing rather than as "no variant matched".
impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        struct Group {
            #[serde(default)]
            operator: Operator,
            conditions: Vec<Condition>,
        }
        #[derive(Deserialize)]
        struct Compare {
            search_attribute: String,
            search_type: String,
            search_value: Value,
        }
        let v = Value::deserialize(d)?;
        let bad = |e: serde_json::Error| D::Error::custom(format!("{CONDITION_FORMS} ({e})"));
        if v.get("conditions").is_some() {
            let g: Group = serde_json::from_value(v).map_err(bad)?;
            Ok(Condition::Group { operator: g.operator, conditions: g.conditions })
        } else if v.get("search_attribute").is_some() {
            let c: Compare = serde_json::from_value(v).map_err(bad)?;
            Ok(Condition::Compare { search_attribute: c.search_attribute, search_type: c.search_type, search_value: c.search_value })
        } else {
            Err(D::Error::custom(CONDITION_FORMS))
        }
    }
}

/// search_by_conditions. Keyset paging: a `greater_than` condition on the primary key with a sort
/// on the primary key reads only the page, however deep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchByConditions {
    #[serde(alias = "schema", default = "super::default_database")]
    pub database: String,
    pub table: String,
    #[serde(default)]
    pub operator: Operator,
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}
