//! Repair: from a verification, the writes that set every node behind to the winning state
//! (the winner's record at its version, or its tombstone), shown first, then sent per node with
//! the nodes already repaired taken back if one fails.
//!
//! Invariants: a repair only moves a key a node still holds as verified (the node checks it);
//! keys without a winner are never touched; the undo of a node's repair is the repair back to
//! what it held, for exactly the keys it set.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_protocol::ops::{RecordRepair, RecordState};
use ts_rs::TS;

use super::run::{Held, Verified};
use crate::error::Result;
use switchyard_client::OpsClient;
use crate::links::{ApplyReport, StepResult};

/// One node's repair on one channel, as shown before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RepairStep {
    pub instance: String,
    pub instance_name: String,
    pub channel: String,
    /// Records written (the winner's version), tombstones set, keys emptied.
    pub writes: f64,
    pub deletes: f64,
    /// Keys whose repair waits on replication anyway (in flight when verified).
    pub keys: Vec<Value>,
}

/// A repair to show, then apply or drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RepairPlan {
    pub id: String,
    pub summary: String,
    pub steps: Vec<RepairStep>,
    /// Differing keys left alone (no winner by the replication rule), in words.
    pub skipped: Vec<String>,
}

/// The requests of a repair plan, kept in the studio until applied or dropped.
#[derive(Debug, Clone)]
pub struct Repairs {
    /// Per node and channel: what is shown, the table, and the writes.
    steps: Vec<(RepairStep, String, String, Writes)>,
}

/// One node's writes on one table, with what each key held before (its undo).
#[derive(Debug, Clone)]
enum Writes {
    /// repair_records at the winners' versions (switchyard-node).
    Repair { repairs: Vec<RecordRepair>, before: Vec<RecordState> },
    /// The winners' records upserted (a verification by scanning: any server); `before` is what
    /// each key held (none: a record copied where it was missing, deleted again on undo).
    Upsert { keys: Vec<Value>, records: Vec<Value>, before: Vec<Option<Value>> },
    /// An upsert's undo: the replaced records written back, the copied ones deleted.
    Restore { upserts: Vec<Value>, deletes: Vec<Value> },
}

/// A record to upsert: without the stamps its server sets itself.
fn unstamped(record: &Map<String, Value>) -> Value {
    Value::Object(record.iter().filter(|(k, _)| k.as_str() != "__createdtime__" && k.as_str() != "__updatedtime__").map(|(k, v)| (k.clone(), v.clone())).collect())
}

impl Repairs {
    /// The repair of everything a verification found behind its winner. With `copy_missing`, a
    /// record a scanned member lacks (HarperDB does not say whether it deleted it) is copied
    /// there from the members that hold it, when they hold it alike.
    pub fn plan(verified: &Verified, id: String, copy_missing: bool) -> (RepairPlan, Repairs) {
        let mut steps = Vec::new();
        let mut skipped = Vec::new();
        for ch in &verified.channels {
            for row in ch.rows.iter().filter(|r| winner(r, copy_missing).is_none()) {
                skipped.push(format!("{} key {}: no winner", ch.channel, row.key));
            }
            for (i, (instance, name)) in ch.members.iter().enumerate() {
                let (mut writes, mut deletes) = (0.0, 0.0);
                let (mut repairs, mut before_states, mut records, mut before_records, mut keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for row in &ch.rows {
                    let Some(w) = winner(row, copy_missing) else { continue };
                    match &row.held {
                        Held::States(states) => {
                            if states[i] == states[w] {
                                continue;
                            }
                            match &states[w] {
                                RecordState::Deleted { .. } => deletes += 1.0,
                                _ => writes += 1.0,
                            }
                            repairs.push(RecordRepair { key: row.key.clone(), expected: states[i].mark(), set: states[w].clone() });
                            before_states.push(states[i].clone());
                        }
                        Held::Records(held) => {
                            let Some(best) = &held[w] else { continue };
                            if held[i].as_ref().is_some_and(|mine| super::scan::content(mine) == super::scan::content(best)) {
                                continue;
                            }
                            writes += 1.0;
                            records.push(unstamped(best));
                            before_records.push(held[i].as_ref().map(unstamped));
                        }
                    }
                    keys.push(row.key.clone());
                }
                if keys.is_empty() {
                    continue;
                }
                let w = if records.is_empty() {
                    Writes::Repair { repairs, before: before_states }
                } else {
                    Writes::Upsert { keys: keys.clone(), records, before: before_records }
                };
                let step = RepairStep { instance: instance.clone(), instance_name: name.clone(), channel: ch.channel.to_string(), writes, deletes, keys: keys.into_iter().take(20).collect() };
                steps.push((step, ch.channel.database.clone(), ch.channel.table.clone(), w));
            }
        }
        let total: f64 = steps.iter().map(|(s, ..)| s.writes + s.deletes).sum();
        let summary = if steps.is_empty() {
            "nothing to repair".to_string()
        } else {
            format!("{} {} on {} {}", total, if total == 1.0 { "key set" } else { "keys set" }, steps.len(), if steps.len() == 1 { "node" } else { "nodes" })
        };
        let plan = RepairPlan { id, summary, steps: steps.iter().map(|(s, ..)| s.clone()).collect(), skipped };
        (plan, Repairs { steps })
    }

    /// Sends each node's repair; on a failure, the nodes already repaired are set back.
    /// `client_of` gives the client of a member by instance id.
    pub async fn apply(self, client_of: impl Fn(&str) -> Result<OpsClient>) -> ApplyReport {
        let mut report = ApplyReport { ok: true, steps: Vec::new(), undone: Vec::new(), left_behind: Vec::new() };
        let mut done: Vec<(usize, Vec<Value>)> = Vec::new();
        for (i, (step, db, table, writes)) in self.steps.iter().enumerate() {
            let answer = match client_of(&step.instance) {
                Ok(c) => send(&c, db, table, writes).await,
                Err(e) => Err(e),
            };
            match answer {
                Ok((set, changed)) => {
                    let message = if changed.is_empty() {
                        format!("{set} set on {}", step.channel)
                    } else {
                        format!("{set} set on {}; {} changed since Verify and left alone (verify again)", step.channel, changed.len())
                    };
                    report.steps.push(StepResult { instance_name: step.instance_name.clone(), operation: writes.operation().into(), ok: true, message });
                    done.push((i, changed));
                }
                Err(e) => {
                    report.ok = false;
                    report.steps.push(StepResult { instance_name: step.instance_name.clone(), operation: writes.operation().into(), ok: false, message: e.to_string() });
                    break;
                }
            }
        }
        if report.ok {
            return report;
        }
        for (i, changed) in done.into_iter().rev() {
            let (step, db, table, writes) = &self.steps[i];
            let back = writes.undo(&changed);
            let answer = match client_of(&step.instance) {
                Ok(c) => send(&c, db, table, &back).await,
                Err(e) => Err(e),
            };
            let (ok, message) = match answer {
                Ok((set, again)) => {
                    if !again.is_empty() {
                        report.left_behind.push(format!("{} keys of {} on {} changed again and were not set back", again.len(), step.channel, step.instance_name));
                    }
                    (true, format!("set {set} back on {}", step.channel))
                }
                Err(e) => {
                    report.left_behind.push(format!("the repair of {} on {} was not taken back: {e}", step.channel, step.instance_name));
                    (false, e.to_string())
                }
            };
            report.undone.push(StepResult { instance_name: step.instance_name.clone(), operation: writes.operation().into(), ok, message });
        }
        report
    }
}

impl Writes {
    fn operation(&self) -> &'static str {
        match self {
            Writes::Repair { .. } => "repair_records",
            Writes::Upsert { .. } => "upsert",
            Writes::Restore { .. } => "upsert and delete",
        }
    }

    /// What sets back these writes, but for the keys that were `changed` (left alone).
    fn undo(&self, changed: &[Value]) -> Writes {
        match self {
            Writes::Repair { repairs, before } => {
                let (repairs, before) = repairs
                    .iter()
                    .zip(before)
                    .filter(|(r, _)| !changed.contains(&r.key))
                    .map(|(r, was)| (RecordRepair { key: r.key.clone(), expected: r.set.mark(), set: was.clone() }, r.set.clone()))
                    .unzip();
                Writes::Repair { repairs, before }
            }
            // A replaced record comes back; a copied one goes again.
            Writes::Upsert { keys, before, .. } => {
                let upserts = before.iter().flatten().cloned().collect();
                let deletes = keys.iter().zip(before).filter(|(_, b)| b.is_none()).map(|(k, _)| k.clone()).collect();
                Writes::Restore { upserts, deletes }
            }
            Writes::Restore { .. } => Writes::Restore { upserts: Vec::new(), deletes: Vec::new() },
        }
    }
}

/// Sends one node's writes; answers how many keys were set and the keys left alone.
async fn send(c: &OpsClient, db: &str, table: &str, writes: &Writes) -> Result<(u64, Vec<Value>)> {
    match writes {
        Writes::Repair { repairs, .. } => {
            let r = c.repair_records(db, table, repairs.clone()).await?;
            Ok((r.repaired, r.changed))
        }
        Writes::Upsert { records, .. } => {
            let r = c.upsert(db, table, records).await?;
            Ok((r.upserted_hashes.len() as u64, Vec::new()))
        }
        Writes::Restore { upserts, deletes } => {
            let mut set = 0;
            if !upserts.is_empty() {
                set += c.upsert(db, table, upserts).await?.upserted_hashes.len() as u64;
            }
            if !deletes.is_empty() {
                let r: switchyard_protocol::ops::DeleteReply =
                    c.run_as(&switchyard_protocol::Operation::Delete(switchyard_protocol::ops::DeleteRecords { database: db.into(), table: table.into(), ids: deletes.clone() })).await?;
                set += r.deleted_hashes.len() as u64;
            }
            Ok((set, Vec::new()))
        }
    }
}

/// The member whose state a repair writes: the verification's winner, or with `copy_missing` (a
/// scan, where a member lacks the key) the latest record of those who hold it, when they hold
/// it alike.
fn winner(row: &super::run::VerifiedRow, copy_missing: bool) -> Option<usize> {
    if row.winner.is_some() || !copy_missing {
        return row.winner;
    }
    let Held::Records(held) = &row.held else { return None };
    let present: Vec<(usize, &Map<String, Value>)> = held.iter().enumerate().filter_map(|(i, r)| r.as_ref().map(|r| (i, r))).collect();
    let first = present.first()?;
    let alike = present.iter().all(|(_, r)| super::scan::content(r) == super::scan::content(first.1));
    (alike && present.len() < held.len()).then_some(first.0)
}
