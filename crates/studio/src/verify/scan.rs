//! Verifying without digests (HarperDB keeps none): every member's table paged by key, each
//! record's content hashed, the keys compared; then the differing records read whole. Slower
//! (it reads every record) but it works on any server; it reports its progress and stops when
//! cancelled.
//!
//! Invariants: records compare by content without the server's own timestamps (each server
//! stamps a write it receives by its own clock), with object keys in one order and whole floats
//! as integers (JavaScript has one number type); the winner
//! of a content difference is the later `__updatedtime__` (HarperDB's last-writer-wins), and a
//! record one node lacks has no winner (HarperDB does not say whether it deleted it); loops are
//! bounded by SCAN_MAX records per member.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value};
use switchyard_protocol::ops::SearchById;
use switchyard_protocol::{Channel, Operation};
use tokio_util::sync::CancellationToken;

use super::run::{Member, VerifiedChannel, VerifiedRow};
use super::{Cell, CellState, ChannelReport, DiffRow, Method, Verdict, VerifyNode, ROWS_SHOWN};
use crate::browse::{page_request_ops, Browse};
use crate::types::{PageAnchor, PageRequest};

/// Records per page, and per member at most.
const PAGE: u32 = 10_000;
const SCAN_MAX: u64 = 2_000_000;
/// The attributes every server sets itself.
const STAMPS: [&str; 2] = ["__createdtime__", "__updatedtime__"];

/// A record's content without the servers' stamps, keys sorted at every level.
pub fn content(record: &Map<String, Value>) -> Value {
    fn canon(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, canon(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
            // One number, one text: HarperDB (JavaScript) answers 1 for a 1.0 it was sent.
            Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Value::from(f as i64),
                _ => v.clone(),
            },
            other => other.clone(),
        }
    }
    Value::Object(record.iter().filter(|(k, _)| !STAMPS.contains(&k.as_str())).map(|(k, v)| (k.clone(), canon(v))).collect::<BTreeMap<_, _>>().into_iter().collect())
}

fn content_hash(record: &Map<String, Value>) -> u64 {
    let mut h = DefaultHasher::new();
    content(record).to_string().hash(&mut h);
    h.finish()
}

fn updated(record: &Map<String, Value>) -> Option<f64> {
    record.get("__updatedtime__").and_then(Value::as_f64)
}

/// One member's table: per key text, the key, its content hash and time.
type Scanned = BTreeMap<String, (Value, u64, Option<f64>)>;

/// Pages one member's table by key; `progress` gets the records read so far.
async fn scan(m: &Member, channel: &Channel, pk: &str, cancel: &CancellationToken, mut progress: impl FnMut(u64)) -> crate::Result<(Scanned, bool)> {
    let mut out = Scanned::new();
    let mut anchor = PageAnchor::First;
    for _ in 0..=SCAN_MAX / PAGE as u64 {
        if cancel.is_cancelled() {
            return Err(crate::Error::Gone("Verify was cancelled".into()));
        }
        let req = PageRequest { database: channel.database.clone(), table: channel.table.clone(), primary_key: pk.into(), sort: None, filters: Vec::new(), anchor, limit: PAGE };
        // First and After pages by key are read forward: never reversed.
        let (op, _) = page_request_ops(&req, None)?;
        let rows = match m.client.run(&op).await? {
            Value::Array(rows) => rows,
            other => return Err(m.client.malformed(format!("a search answered {}", truncate(&other))).into()),
        };
        let full = rows.len() == PAGE as usize;
        let mut last = None;
        for row in rows {
            let Value::Object(record) = row else { return Err(m.client.malformed("a search answered a row that is not a record").into()) };
            // HarperDB's rows without a key (records deleted before a drop_attribute) are not records.
            let Some(key) = record.get(pk).filter(|k| !k.is_null()).cloned() else { continue };
            out.insert(key.to_string(), (key.clone(), content_hash(&record), updated(&record)));
            last = Some(key);
        }
        progress(out.len() as u64);
        match (full, last) {
            (true, Some(key)) => anchor = PageAnchor::After { key },
            _ => return Ok((out, false)),
        }
        if out.len() as u64 >= SCAN_MAX {
            break;
        }
    }
    Ok((out, true))
}

fn truncate(v: &Value) -> String {
    v.to_string().chars().take(120).collect()
}

/// The records of `keys` on one member, by key text.
async fn records(m: &Member, channel: &Channel, pk: &str, keys: &[Value]) -> crate::Result<BTreeMap<String, Map<String, Value>>> {
    let op = Operation::SearchById(SearchById { database: channel.database.clone(), table: channel.table.clone(), ids: keys.to_vec(), get_attributes: vec!["*".into()] });
    let rows = match m.client.run(&op).await? {
        Value::Array(rows) => rows,
        other => return Err(m.client.malformed(format!("search_by_id answered {}", truncate(&other))).into()),
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| match r {
            Value::Object(r) => r.get(pk).filter(|k| !k.is_null()).map(|k| k.to_string()).map(|k| (k, r)),
            _ => None,
        })
        .collect())
}

/// Verifies one channel across the members by reading every record; `progress` gets the share
/// read of all members' records together.
pub async fn scan_channel(members: &[Member], channel: &str, cancel: &CancellationToken, progress: &(dyn Fn(f64) + Sync)) -> (ChannelReport, VerifiedChannel) {
    let mut report = ChannelReport::new(channel, Method::Scan);
    let named = members.iter().map(|m| (m.id.clone(), m.name.clone())).collect();
    let parsed: Channel = match channel.parse() {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(e);
            return (report, VerifiedChannel { channel: Channel { database: String::new(), table: String::new() }, members: named, rows: Vec::new() });
        }
    };
    let verified = |rows| VerifiedChannel { channel: parsed.clone(), members: members.iter().map(|m| (m.id.clone(), m.name.clone())).collect(), rows };
    let mut infos = Vec::new();
    for m in members {
        match m.client.table_info(&parsed.database, &parsed.table).await {
            Ok(t) => infos.push(t),
            Err(e) => {
                report.error = Some(format!("{}: {e}", m.name));
                return (report, verified(Vec::new()));
            }
        }
    }
    let pk = infos[0].primary_key.clone();
    if let Some((m, t)) = members.iter().zip(&infos).find(|(_, t)| t.primary_key != pk) {
        report.error = Some(format!("{} keys {} by '{}', {} by '{pk}'", m.name, channel, t.primary_key, members[0].name));
        return (report, verified(Vec::new()));
    }
    let total: f64 = infos.iter().map(|t| t.record_count.unwrap_or(0.0)).sum::<f64>().max(1.0);
    let done = std::sync::Mutex::new(vec![0u64; members.len()]);
    let scans = members.iter().enumerate().map(|(i, m)| {
        let done = &done;
        scan(m, &parsed, &pk, cancel, move |n| {
            let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
            d[i] = n;
            progress((d.iter().sum::<u64>() as f64 / total).min(1.0));
        })
    });
    let scanned = futures_util::future::join_all(scans).await;
    let mut tables = Vec::with_capacity(members.len());
    for (m, s) in members.iter().zip(scanned) {
        match s {
            Ok((t, truncated)) => {
                report.truncated |= truncated;
                report.nodes.push(VerifyNode { id: m.id.clone(), name: m.name.clone(), count: t.len() as f64, watermark: Vec::new() });
                tables.push(t);
            }
            Err(e) => {
                report.error = Some(format!("{}: {e}", m.name));
                return (report, verified(Vec::new()));
            }
        }
    }
    report.scanned = tables.iter().map(|t| t.len() as f64).sum();
    let all: BTreeSet<&String> = tables.iter().flat_map(|t| t.keys()).collect();
    let differing: Vec<Value> = all
        .into_iter()
        .filter(|kt| {
            let seen: Vec<Option<u64>> = tables.iter().map(|t| t.get(*kt).map(|(_, h, _)| *h)).collect();
            seen.iter().any(|s| *s != seen[0])
        })
        .filter_map(|kt| tables.iter().find_map(|t| t.get(kt)).map(|(k, _, _)| k.clone()))
        .collect();
    report.differing = differing.len() as f64;
    let mut shown = differing;
    shown.sort_by(super::compare::key_order);
    shown.truncate(ROWS_SHOWN);
    let mut whole = Vec::with_capacity(members.len());
    for m in members {
        match records(m, &parsed, &pk, &shown).await {
            Ok(r) => whole.push(r),
            Err(e) => {
                report.error = Some(format!("{}: {e}", m.name));
                return (report, verified(Vec::new()));
            }
        }
    }
    let mut rows = Vec::with_capacity(shown.len());
    for key in shown {
        let kt = key.to_string();
        let states: Vec<Option<&Map<String, Value>>> = whole.iter().map(|w| w.get(&kt)).collect();
        let contents: Vec<Option<Value>> = states.iter().map(|s| s.map(content)).collect();
        if contents.iter().all(|c| *c == contents[0]) {
            // Equal by the time they were read whole: a write that arrived meanwhile.
            report.differing -= 1.0;
            continue;
        }
        let winner = if states.iter().any(Option::is_none) {
            None
        } else {
            let times: Vec<f64> = states.iter().map(|s| s.and_then(updated).unwrap_or(f64::MIN)).collect();
            let best = times.iter().cloned().fold(f64::MIN, f64::max);
            let at_best: Vec<usize> = (0..times.len()).filter(|i| times[*i] == best).collect();
            let one_content = at_best.windows(2).all(|w| contents[w[0]] == contents[w[1]]);
            (best > f64::MIN && one_content).then(|| at_best[0])
        };
        let behind: Vec<u32> = match winner {
            Some(w) => (0..states.len()).filter(|i| contents[*i] != contents[w]).map(|i| i as u32).collect(),
            None => Vec::new(),
        };
        let note = match winner {
            Some(_) => None,
            None if states.iter().any(Option::is_none) => Some("missing on a node: deleted there or never received (HarperDB does not say); not repaired".into()),
            None => Some("written at the same time with different content: no winner; not repaired".into()),
        };
        let cells = states
            .iter()
            .map(|s| match s {
                Some(r) => Cell { state: CellState::Live, version: None, origin: None, updated: updated(r), record: Some(Value::Object((*r).clone())) },
                None => Cell { state: CellState::Absent, version: None, origin: None, updated: None, record: None },
            })
            .collect();
        rows.push(VerifiedRow::scanned(key.clone(), states.iter().map(|s| s.cloned()).collect(), winner));
        report.rows.push(DiffRow { key, cells, winner: winner.map(|w| w as u32), behind, in_flight: false, note });
    }
    report.verdict = if report.differing == 0.0 { Verdict::InSync } else { Verdict::Differs };
    (report, verified(rows))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_leaves_out_the_stamps_and_orders_keys() {
        let a = json!({"id": 1, "b": {"y": 1, "x": 2}, "__updatedtime__": 5.0, "__createdtime__": 1.0});
        let b = json!({"b": {"x": 2, "y": 1}, "id": 1, "__updatedtime__": 9.0});
        let (Value::Object(a), Value::Object(b)) = (a, b) else { unreachable!() };
        assert_eq!(content(&a), content(&b));
        assert_eq!(content_hash(&a), content_hash(&b));
        let Value::Object(c) = json!({"id": 1, "b": {"x": 3, "y": 1}}) else { unreachable!() };
        assert_ne!(content_hash(&a), content_hash(&c));
        // A whole float is the number JavaScript answers for it.
        let (Value::Object(f), Value::Object(i)) = (json!({"id": 1, "v": 2.0}), json!({"id": 1, "v": 2})) else { unreachable!() };
        assert_eq!(content_hash(&f), content_hash(&i));
        let Value::Object(h) = json!({"id": 1, "v": 2.5}) else { unreachable!() };
        assert_ne!(content_hash(&f), content_hash(&h));
    }
}
