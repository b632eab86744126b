//! A received entry's records read without being built: each record's key and the attributes
//! the table lacks are taken out, the rest is only checked, and the record's text stays the
//! sender's, which is what this node stores as the document.
//!
//! Invariant: the stored document is byte for byte what the origin logged (its own stored text:
//! an origin's payload is `[doc,…]`), so every node hashes the same bytes for the digest, whoever
//! serialises numbers or escapes how. What a map would have hidden is refused instead: a record
//! that is not an object, has no primary key, or names an attribute twice.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::value::normalize_key;
use crate::store::TableMeta;

/// One record of an entry.
#[derive(Debug)]
pub(super) struct Record {
    /// Its primary key, normalised.
    pub key: Value,
    /// Where its text lies in the entry's records.
    pub text: Range<usize>,
    /// Its attributes the table did not have when the batch began (usually none).
    pub new_attributes: Vec<String>,
}

/// Reads an entry's records (`raw`, a JSON array) against `meta`. `what` names the entry in errors.
pub(super) fn read(meta: &TableMeta, raw: &str, what: &dyn fmt::Display) -> Result<Vec<Record>> {
    let bad = |err: &dyn fmt::Display| Error::bad(format!("entry {what}: records must be objects: {err}"));
    let records: Vec<&RawValue> = serde_json::from_str(raw).map_err(|e| bad(&e))?;
    let base = raw.as_ptr() as usize;
    records
        .into_iter()
        .map(|r| {
            let text = r.get();
            let mut de = serde_json::Deserializer::from_str(text);
            let scanned = Scan { meta }.deserialize(&mut de).map_err(|e| bad(&e))?;
            let key = scanned.key.ok_or_else(|| Error::bad(format!("a replicated record has no '{}'", meta.primary_key)))?;
            // A borrowed `RawValue` is a slice of `raw`: its place there is its offset.
            let start = (text.as_ptr() as usize).checked_sub(base).filter(|s| s + text.len() <= raw.len());
            let start = start.ok_or_else(|| Error::Internal("a record's text is not within its entry".into()))?;
            Ok(Record { key: normalize_key(&key, &meta.primary_key)?, text: start..start + text.len(), new_attributes: scanned.new_attributes })
        })
        .collect()
}

struct Scanned {
    key: Option<Value>,
    new_attributes: Vec<String>,
}

/// Walks one record's attributes: the key's value is read, every other value skipped.
struct Scan<'m> {
    meta: &'m TableMeta,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = Scanned;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Scanned, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = Scanned;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Scanned, A::Error> {
        let mut out = Scanned { key: None, new_attributes: Vec::new() };
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(Name)? {
            if !names.insert(name.clone()) {
                return Err(serde::de::Error::custom(format!("attribute '{name}' is given twice")));
            }
            if *name == *self.meta.primary_key {
                out.key = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            if !self.meta.has_attribute(&name) {
                out.new_attributes.push(name.into_owned());
            }
        }
        Ok(out)
    }
}

/// A record's attribute names so far: a list while short (most records), a set beyond, so a
/// record of a hundred thousand names costs no more than their count.
#[derive(Default)]
struct Names<'de> {
    few: Vec<Cow<'de, str>>,
    many: HashSet<Cow<'de, str>>,
}

impl<'de> Names<'de> {
    const FEW: usize = 16;

    /// False if `name` was there already.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&name) {
                return false;
            }
            if self.few.len() < Self::FEW {
                self.few.push(name);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(name)
    }
}

/// An attribute's name, borrowed from the text unless it has escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute's name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> TableMeta {
        let attribute = |name: &str| crate::store::AttributeMeta { name: name.into(), kind: None, indexed: false };
        TableMeta {
            id: 1,
            database: "dev".into(),
            name: "t".into(),
            primary_key: "id".into(),
            expiration: None,
            schema_defined: false,
            attributes: vec![attribute("id"), attribute("name")],
        }
    }

    fn texts<'a>(raw: &'a str, records: &[Record]) -> Vec<&'a str> {
        records.iter().map(|r| &raw[r.text.clone()]).collect()
    }

    #[test]
    fn records_keep_the_senders_text_and_name_their_keys_and_new_attributes() {
        let raw = r#"[{"id":1,"name":"a"}, {"name":"b\"","id":"k","x":1.50,"y":{"id":2}}]"#;
        let records = read(&meta(), raw, &"a#1").unwrap();
        assert_eq!(texts(raw, &records), [r#"{"id":1,"name":"a"}"#, r#"{"name":"b\"","id":"k","x":1.50,"y":{"id":2}}"#]);
        assert_eq!(records.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), [Value::from(1), Value::from("k")]);
        assert!(records[0].new_attributes.is_empty());
        // Only top-level attributes count; the nested `id` is neither the key nor a new attribute.
        assert_eq!(records[1].new_attributes, ["x", "y"]);
        // An escaped name is read as what it says.
        let raw = r#"[{"i\u0064":7,"n\u00e9":1}]"#;
        let records = read(&meta(), raw, &"a#1").unwrap();
        assert_eq!(records[0].key, Value::from(7));
        assert_eq!(records[0].new_attributes, ["né"]);
        // A float key with no fraction is the integer key, as a write's would be.
        assert_eq!(read(&meta(), r#"[{"id":3.0}]"#, &"a#1").unwrap()[0].key, Value::from(3));
    }

    #[test]
    fn what_a_map_would_hide_is_refused() {
        let refused = |raw: &str| read(&meta(), raw, &"a#1").unwrap_err().to_string();
        assert!(refused(r#"[{"id":1,"name":"a","name":"b"}]"#).contains("'name' is given twice"));
        assert!(refused(r#"[{"id":1,"id":2}]"#).contains("'id' is given twice"));
        // Beyond a few names they are kept in a set: a name given twice is still found.
        let many: Vec<String> = (0..40).map(|i| format!("\"a{i}\":{i}")).collect();
        assert!(read(&meta(), &format!("[{{\"id\":1,{}}}]", many.join(",")), &"a#1").is_ok());
        for twice in ["a3", "a30", "id"] {
            assert!(refused(&format!("[{{\"id\":1,{},\"{twice}\":0}}]", many.join(","))).contains(&format!("'{twice}' is given twice")), "{twice}");
        }
        assert!(refused(r#"[{"name":"a"}]"#).contains("has no 'id'"));
        assert!(refused(r#"[1]"#).contains("records must be objects"));
        assert!(refused(r#"{"id":1}"#).contains("records must be objects"));
        assert!(refused(r#"[{"id":[1]}]"#).contains("primary key"));
    }
}
