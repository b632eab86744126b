//! Repair: from a verification, the writes that set every node behind to the winning state
//! (the winner's record at its version, or its tombstone), shown first, then sent per node with
//! the nodes already repaired taken back if one fails.
//!
//! Invariants: a repair only moves a key a node still holds as verified (the node checks it);
//! keys without a winner are never touched; the undo of a node's repair is the repair back to
//! what it held, for exactly the keys it set.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_protocol::ops::{RecordRepair, RecordState};
use ts_rs::TS;

use super::run::Verified;
use crate::error::Result;
use switchyard_client::OpsClient;
use crate::topology::link::{ApplyReport, StepResult};

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
    /// Per node and channel: what is shown, the table, the repairs and each key's state before.
    steps: Vec<(RepairStep, String, String, Vec<RecordRepair>, Vec<RecordState>)>,
}

impl Repairs {
    /// The repair of everything a verification found behind its winner.
    pub fn plan(verified: &Verified, id: String) -> (RepairPlan, Repairs) {
        let mut steps = Vec::new();
        let mut skipped = Vec::new();
        for ch in &verified.channels {
            for (i, (instance, name)) in ch.members.iter().enumerate() {
                let (mut repairs, mut before) = (Vec::new(), Vec::new());
                let (mut writes, mut deletes) = (0.0, 0.0);
                for row in &ch.rows {
                    let Some(w) = row.winner else {
                        if i == 0 {
                            skipped.push(format!("{} key {}: no winner", ch.channel, row.key));
                        }
                        continue;
                    };
                    if row.states[i] == row.states[w] {
                        continue;
                    }
                    match &row.states[w] {
                        RecordState::Deleted { .. } => deletes += 1.0,
                        _ => writes += 1.0,
                    }
                    repairs.push(RecordRepair { key: row.key.clone(), expected: row.states[i].mark(), set: row.states[w].clone() });
                    before.push(row.states[i].clone());
                }
                if repairs.is_empty() {
                    continue;
                }
                let step = RepairStep {
                    instance: instance.clone(),
                    instance_name: name.clone(),
                    channel: ch.channel.to_string(),
                    writes,
                    deletes,
                    keys: repairs.iter().take(20).map(|r| r.key.clone()).collect(),
                };
                steps.push((step, ch.channel.database.clone(), ch.channel.table.clone(), repairs, before));
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
        for (i, (step, db, table, repairs, _)) in self.steps.iter().enumerate() {
            let answer = match client_of(&step.instance) {
                Ok(c) => c.repair_records(db, table, repairs.clone()).await.map_err(crate::Error::from),
                Err(e) => Err(e),
            };
            match answer {
                Ok(r) => {
                    let message = if r.changed.is_empty() {
                        format!("{} set on {}", r.repaired, step.channel)
                    } else {
                        format!("{} set on {}; {} changed since Verify and left alone (verify again)", r.repaired, step.channel, r.changed.len())
                    };
                    report.steps.push(StepResult { instance_name: step.instance_name.clone(), operation: "repair_records".into(), ok: true, message });
                    done.push((i, r.changed));
                }
                Err(e) => {
                    report.ok = false;
                    report.steps.push(StepResult { instance_name: step.instance_name.clone(), operation: "repair_records".into(), ok: false, message: e.to_string() });
                    break;
                }
            }
        }
        if report.ok {
            return report;
        }
        for (i, changed) in done.into_iter().rev() {
            let (step, db, table, repairs, before) = &self.steps[i];
            let back: Vec<RecordRepair> = repairs
                .iter()
                .zip(before)
                .filter(|(r, _)| !changed.contains(&r.key))
                .map(|(r, was)| RecordRepair { key: r.key.clone(), expected: r.set.mark(), set: was.clone() })
                .collect();
            let answer = match client_of(&step.instance) {
                Ok(c) => c.repair_records(db, table, back).await.map_err(crate::Error::from),
                Err(e) => Err(e),
            };
            let (ok, message) = match answer {
                Ok(r) if r.changed.is_empty() => (true, format!("set {} back on {}", r.repaired, step.channel)),
                Ok(r) => {
                    report.left_behind.push(format!("{} keys of {} on {} changed again and were not set back", r.changed.len(), step.channel, step.instance_name));
                    (true, format!("set {} back on {}", r.repaired, step.channel))
                }
                Err(e) => {
                    report.left_behind.push(format!("the repair of {} on {} was not taken back: {e}", step.channel, step.instance_name));
                    (false, e.to_string())
                }
            };
            report.undone.push(StepResult { instance_name: step.instance_name.clone(), operation: "repair_records".into(), ok, message });
        }
        report
    }
}
