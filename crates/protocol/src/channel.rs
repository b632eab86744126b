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

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some((db, table)) if !db.is_empty() && !table.is_empty() && !table.contains(':') => {
                Ok(Channel::new(db, table))
            }
            _ => Err(format!("channel '{s}' is not of the form schema:table")),
        }
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
}
