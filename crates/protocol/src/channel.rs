//! Channel names: `schema:table`, one per replicated table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A publish/subscribe channel; its name is `database:table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    pub database: String,
    pub table: String,
}

impl Channel {
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Self {
        Channel { database: database.into(), table: table.into() }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.database, self.table)
    }
}

/// Why `name` cannot be a channel's database or table, or `None`: the node's rule for those names
/// (not empty, at most 250 bytes, no control character, no '.', ':' or '/'), and no space at
/// either end. The cases are `channel_cases.json`, shared with the UI's `validChannel`.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > 250 {
        Some("is longer than 250 bytes")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.contains(['.', ':', '/']) {
        Some("contains '.', ':' or '/'")
    } else if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        Some("starts or ends with a space")
    } else {
        None
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((db, table)) = s.split_once(':') else {
            return Err(format!("channel '{s}' is not of the form database:table"));
        };
        for (what, name) in [("database", db), ("table", table)] {
            if let Some(why) = name_problem(name) {
                return Err(format!("channel '{}' is not database:table: its {what} {why}", s.escape_debug()));
            }
        }
        Ok(Channel::new(db, table))
    }
}

impl Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let c: Channel = "dev:sensor".parse().unwrap();
        assert_eq!(c, Channel::new("dev", "sensor"));
        assert_eq!(c.to_string(), "dev:sensor");
        assert!("dev".parse::<Channel>().is_err());
        assert!(":t".parse::<Channel>().is_err());
        assert!("a:b:c".parse::<Channel>().is_err());
    }

    #[test]
    fn the_shared_cases_hold() {
        let text = include_str!("../channel_cases.json");
        let cases: serde_json::Value = serde_json::from_str(text).unwrap();
        let cases = cases["cases"].as_array().unwrap();
        assert!(cases.len() >= 15);
        for c in cases {
            let t = c["text"].as_str().unwrap();
            assert_eq!(t.parse::<Channel>().is_ok(), c["valid"].as_bool().unwrap(), "{t:?}");
        }
    }
}
