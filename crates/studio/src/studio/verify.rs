//! Verify and Repair across instances: runs (with progress and cancel), the verifications kept
//! for planning a repair, and the repairs kept until applied or dropped.

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::links::ApplyReport;
use crate::verify::{Member, RepairPlan, Repairs, VerifyReport, VerifyRequest};

use super::Studio;
use crate::instance::Instance;

/// Verifications kept for planning a repair.
const VERIFIED_KEPT: usize = 8;

/// The instances `ids` as members of a verification; refused when one is offline.
pub async fn members(registry: &crate::Registry, ids: &[String]) -> Result<Vec<Member>> {
    let mut members = Vec::with_capacity(ids.len());
    for id in ids {
        let (instance, _) = Instance::online(registry, id).await?;
        let digests = instance.keeps_digests();
        members.push(Member { id: instance.spec.id, name: instance.spec.name, client: instance.client, digests });
    }
    Ok(members)
}

impl Studio {
    /// Verifies channels across instances: equal digests, or the records that differ with
    /// the winner of each (checked again while the differences are in flight). Instances
    /// without digests (HarperDB) are verified by reading every record, with progress (the
    /// share done) and cancel (`verify_cancel` with the request's `run`).
    pub async fn verify_run(&self, req: VerifyRequest, progress: impl Fn(f64) + Sync) -> Result<VerifyReport> {
        let mut ids = req.instances.clone();
        ids.dedup();
        if ids.len() < 2 {
            return Err(Error::Invalid("Verify compares two or more instances".into()));
        }
        if req.channels.is_empty() {
            return Err(Error::Invalid("Verify needs at least one channel (database:table)".into()));
        }
        let members = members(&self.registry, &ids).await?;
        let cancel = CancellationToken::new();
        if let Some(run) = &req.run {
            self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(run.clone(), cancel.clone());
        }
        let view = self.topology_view().await;
        let outcome = match view {
            Ok(view) => Ok(crate::verify::verify(&members, &req.channels, &view, &cancel, &progress).await),
            Err(e) => Err(e),
        };
        if let Some(run) = &req.run {
            self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(run);
        }
        let (report, verified) = outcome?;
        if cancel.is_cancelled() {
            return Err(Error::Gone("Verify was cancelled".into()));
        }
        let mut kept = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        kept.push((report.id.clone(), verified));
        let excess = kept.len().saturating_sub(VERIFIED_KEPT);
        kept.drain(..excess);
        Ok(report)
    }

    /// Stops a running verification (by its request's `run`); answers whether one was running.
    pub fn verify_cancel(&self, run: &str) -> bool {
        match self.running.lock().unwrap_or_else(|p| p.into_inner()).get(run) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// The repair of what a verification found, to show first.
    /// With `copy_missing`, records a scanned member lacks are copied to it (see `Repairs::plan`).
    pub fn verify_repair_plan(&self, verify_id: &str, copy_missing: bool) -> Result<RepairPlan> {
        let kept = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let verified = kept.iter().find(|(id, _)| id == verify_id).map(|(_, v)| v).ok_or_else(|| Error::Gone("this verification is no longer kept; verify again".into()))?;
        let (plan, repairs) = Repairs::plan(verified, uuid::Uuid::new_v4().simple().to_string(), copy_missing);
        drop(kept);
        self.repairs.lock().unwrap_or_else(|p| p.into_inner()).insert(plan.id.clone(), repairs);
        Ok(plan)
    }

    /// Sends a repair shown before (at most once); verify again to see its effect.
    pub async fn verify_repair_apply(&self, plan_id: &str) -> Result<ApplyReport> {
        let repairs = self.repairs.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id);
        let repairs = repairs.ok_or_else(|| Error::Invalid("this repair was already applied or dropped; verify again".into()))?;
        Ok(repairs.apply(|id| self.registry.client(id)).await)
    }

    /// Forgets a repair plan: nothing was sent.
    pub fn verify_repair_drop(&self, plan_id: &str) -> bool {
        self.repairs.lock().unwrap_or_else(|p| p.into_inner()).remove(plan_id).is_some()
    }
}
