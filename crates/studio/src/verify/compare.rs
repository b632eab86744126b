//! Comparing what several nodes hold of one table, without the network: which buckets differ,
//! which keys in them, who wins each by the replication rule, and what is still in flight.
//!
//! Invariants: a key differs when the nodes do not all hold the same (version, origin, hash);
//! the winner is the highest (version, origin) among records and tombstones, as last-writer-wins
//! decides on every node; a node that lacks the winner is *in flight* when the winner's origin
//! reaches it on this channel and its watermark for that origin is below the winner's version
//! (replication will bring it), otherwise the difference is a divergence.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use switchyard_protocol::ops::{DigestRecord, KeyState, OriginMark, RecordMark, RecordState, TableDigest};

use super::{Cell, CellState, DiffRow};

/// The buckets where the digests are not all the same.
pub fn differing_buckets(digests: &[&TableDigest]) -> Vec<u16> {
    let Some(first) = digests.first() else { return Vec::new() };
    (0..first.buckets.len()).filter(|i| digests.iter().any(|d| d.buckets.get(*i) != first.buckets.get(*i))).map(|i| i as u16).collect()
}

/// What one node listed of the differing buckets, by key text.
pub type Listing = BTreeMap<String, DigestRecord>;

pub fn listing(records: impl IntoIterator<Item = DigestRecord>) -> Listing {
    records.into_iter().map(|r| (r.key.to_string(), r)).collect()
}

/// The keys the nodes do not all hold alike, in `key_order`.
pub fn differing_keys(listings: &[Listing]) -> Vec<Value> {
    let all: BTreeSet<&String> = listings.iter().flat_map(|l| l.keys()).collect();
    let mut keys: Vec<Value> = all
        .into_iter()
        .filter_map(|kt| {
            let seen: Vec<Option<(i64, &str, &str)>> = listings.iter().map(|l| l.get(kt).map(|r| (r.version, r.origin.as_str(), r.hash.as_str()))).collect();
            let differs = seen.iter().any(|s| *s != seen[0]);
            differs.then(|| listings.iter().find_map(|l| l.get(kt)).map(|r| r.key.clone())).flatten()
        })
        .collect();
    keys.sort_by(key_order);
    keys
}

/// The order differing keys are listed (and cut at the rows shown) in, as a table sorts its
/// primary key: numbers by value (2 before 10), then texts by their bytes, then anything else by
/// its JSON text.
pub fn key_order(a: &Value, b: &Value) -> Ordering {
    fn class(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            _ => 2,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.as_f64().unwrap_or(f64::NAN).total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

/// Whether writes of `origin` on this channel reach node `node` (by index).
pub trait Reach {
    fn reaches(&self, origin: &str, node: usize) -> bool;
}

/// One differing key across the nodes (their states in the nodes' order), judged.
pub fn judge(key: Value, states: &[&RecordState], watermarks: &[&[OriginMark]], reach: &impl Reach) -> DiffRow {
    let marks: Vec<RecordMark> = states.iter().map(|s| s.mark()).collect();
    let best = marks.iter().filter_map(RecordMark::order).max();
    // A tie in (version, origin) with different content has no winner: it cannot come from
    // replication, and a repair must not pick a side.
    let tied = best.is_some_and(|b| {
        let holders: Vec<&RecordState> = states.iter().zip(&marks).filter(|(_, m)| m.order() == Some(b)).map(|(s, _)| *s).collect();
        holders.windows(2).any(|w| w[0] != w[1])
    });
    let winner = if tied { None } else { best.and_then(|b| marks.iter().position(|m| m.order() == Some(b))) };
    let behind: Vec<usize> = match winner {
        Some(w) => (0..states.len()).filter(|i| states[*i] != states[w]).collect(),
        None => Vec::new(),
    };
    let in_flight = match (winner, best) {
        (Some(_), Some((version, origin))) => {
            !behind.is_empty()
                && behind.iter().all(|i| {
                    let mark = watermarks[*i].iter().find(|m| m.origin == origin);
                    reach.reaches(origin, *i) && mark.is_none_or(|m| m.version < version)
                })
        }
        _ => false,
    };
    let note = if tied {
        Some("the same version holds different content on different nodes: no winner by the replication rule; not repaired".into())
    } else {
        None
    };
    DiffRow { key, cells: states.iter().map(|s| cell(s)).collect(), winner: winner.map(|w| w as u32), behind: behind.into_iter().map(|i| i as u32).collect(), in_flight, note }
}

fn cell(s: &RecordState) -> Cell {
    match s {
        RecordState::Live { version, origin, updated, record } => {
            Cell { state: CellState::Live, version: Some(version.to_string()), origin: Some(origin.clone()), updated: Some(*updated), record: Some(Value::Object(record.clone())) }
        }
        RecordState::Deleted { version, origin, updated } => {
            Cell { state: CellState::Deleted, version: Some(version.to_string()), origin: Some(origin.clone()), updated: Some(*updated), record: None }
        }
        RecordState::Absent => Cell { state: CellState::Absent, version: None, origin: None, updated: None, record: None },
    }
}

/// The states of the differing keys on each node, in the keys' order (record_states answers
/// in the order asked); refused when a node answered other keys.
pub fn states_in_order<'a>(keys: &[Value], answers: &'a [Vec<KeyState>]) -> Result<Vec<Vec<&'a RecordState>>, String> {
    let mut rows = Vec::with_capacity(keys.len());
    for (k, key) in keys.iter().enumerate() {
        let mut row = Vec::with_capacity(answers.len());
        for a in answers {
            match a.get(k) {
                Some(ks) if ks.key == *key => row.push(&ks.state),
                _ => return Err(format!("a node answered record_states for other keys than {key}")),
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};
    use switchyard_protocol::ops::BucketDigest;

    use super::*;

    struct Everyone;
    impl Reach for Everyone {
        fn reaches(&self, _: &str, _: usize) -> bool {
            true
        }
    }
    struct Nobody;
    impl Reach for Nobody {
        fn reaches(&self, _: &str, _: usize) -> bool {
            false
        }
    }

    fn live(version: i64, origin: &str, v: &str) -> RecordState {
        let mut record = Map::new();
        record.insert("id".into(), json!(1));
        record.insert("v".into(), json!(v));
        RecordState::Live { version, origin: origin.into(), updated: 1.0, record }
    }

    fn mark(origin: &str, version: i64) -> OriginMark {
        OriginMark { origin: origin.into(), id: 1, version }
    }

    fn rec(key: i64, version: i64, hash: &str) -> DigestRecord {
        DigestRecord { bucket: 0, key: json!(key), version, origin: "a".into(), hash: hash.into() }
    }

    #[test]
    fn buckets_and_keys_that_differ_are_found_across_three_nodes() {
        let d = |c: u64| TableDigest {
            node: "n".into(),
            database: "dev".into(),
            table: "t".into(),
            count: c,
            digest: String::new(),
            buckets: (0..4).map(|i| BucketDigest { count: if i == 2 { c } else { 1 }, digest: format!("{i}") }).collect(),
            watermark: Vec::new(),
        };
        let (a, b, c) = (d(1), d(1), d(2));
        assert_eq!(differing_buckets(&[&a, &b, &c]), vec![2]);
        assert!(differing_buckets(&[&a, &b]).is_empty());
        let la = listing([rec(1, 5, "x"), rec(2, 5, "y"), rec(3, 5, "z")]);
        let lb = listing([rec(1, 5, "x"), rec(2, 6, "y2")]);
        let lc = listing([rec(1, 5, "x"), rec(2, 5, "y"), rec(3, 5, "z"), rec(4, 5, "w")]);
        assert_eq!(differing_keys(&[la, lb, lc]), vec![json!(2), json!(3), json!(4)]);
    }

    #[test]
    fn differing_keys_are_listed_numbers_by_value_then_texts() {
        let keyed = |keys: Vec<Value>| listing(keys.into_iter().map(|key| DigestRecord { bucket: 0, key, version: 1, origin: "a".into(), hash: "h".into() }));
        let a = keyed(vec![json!(1), json!(100), json!(2), json!(10), json!("b"), json!("a10"), json!("a9"), json!(2.5), json!(-3)]);
        assert_eq!(
            differing_keys(&[a, Listing::new()]),
            vec![json!(-3), json!(1), json!(2), json!(2.5), json!(10), json!(100), json!("a10"), json!("a9"), json!("b")]
        );
    }

    #[test]
    fn the_winner_is_the_highest_version_and_a_tombstone_can_win() {
        let (old, new) = (live(5, "a", "old"), live(9, "b", "new"));
        let tomb = RecordState::Deleted { version: 12, origin: "c".into(), updated: 2.0 };
        let row = judge(json!(1), &[&old, &new, &tomb], &[&[], &[], &[]], &Nobody);
        assert_eq!((row.winner, row.behind.clone(), row.in_flight), (Some(2), vec![0, 1], false));
        let row = judge(json!(1), &[&old, &new, &RecordState::Absent], &[&[], &[], &[]], &Nobody);
        assert_eq!((row.winner, row.behind), (Some(1), vec![0, 2]));
        // The same version and origin (b's write) with different content: no winner.
        let forged = live(9, "b", "other");
        let row = judge(json!(1), &[&new, &forged], &[&[], &[]], &Everyone);
        assert_eq!((row.winner, row.in_flight), (None, false));
        assert!(row.note.is_some());
    }

    #[test]
    fn a_write_newer_than_a_receiver_s_watermark_is_in_flight_only_where_its_origin_reaches() {
        let (old, new) = (live(5, "a", "old"), live(9, "b", "new"));
        // Node 0 has applied b's writes up to version 7: b's version 9 may still be coming.
        let behind = [mark("b", 7)];
        let row = judge(json!(1), &[&old, &new], &[&behind, &[]], &Everyone);
        assert!(row.in_flight);
        // It has applied b's writes past 9 and still lacks it: diverged.
        let past = [mark("b", 10)];
        assert!(!judge(json!(1), &[&old, &new], &[&past, &[]], &Everyone).in_flight);
        // b does not reach node 0 on this channel: nothing will come.
        assert!(!judge(json!(1), &[&old, &new], &[&behind, &[]], &Nobody).in_flight);
    }

    #[test]
    fn states_must_come_back_for_the_keys_asked() {
        let keys = [json!(1), json!(2)];
        let ks = |k: i64| KeyState { key: json!(k), state: RecordState::Absent };
        let ok = [vec![ks(1), ks(2)], vec![ks(1), ks(2)]];
        assert_eq!(states_in_order(&keys, &ok).unwrap().len(), 2);
        let wrong = [vec![ks(1), ks(2)], vec![ks(2), ks(1)]];
        assert!(states_in_order(&keys, &wrong).is_err());
        let short = [vec![ks(1)], vec![ks(1), ks(2)]];
        assert!(states_in_order(&keys, &short).is_err());
    }
}
