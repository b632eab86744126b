//! Wiring as code in the studio: the live cluster's wiring exported, a wiring file planned
//! against the live cluster (what is added, changed, removed, and every request, as the canvas
//! shows a link's), and applied only to the cluster the plan saw.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::links::{ApplyReport, Party};
use crate::wiring::{Drift, Wiring, WiringExport, WiringPlan, WiringPreview};

use super::Studio;

impl Studio {
    /// The live wiring of the registered instances that answer, with each as a party.
    async fn wiring_live(&self) -> Result<(Wiring, BTreeMap<String, Party>, Vec<String>)> {
        let mut instances = Vec::new();
        let mut left_out = Vec::new();
        for spec in self.registry.list()? {
            match self.registry.client(&spec.id) {
                Ok(client) => instances.push((spec, client)),
                Err(e) => left_out.push(format!("{}: {e}", spec.name)),
            }
        }
        let (wiring, parties, more) = crate::wiring::live_of(instances).await?;
        left_out.extend(more);
        Ok((wiring, parties, left_out))
    }

    /// The live cluster's wiring as a file (no password in it).
    pub async fn wiring_export(&self) -> Result<WiringExport> {
        let (wiring, _, left_out) = self.wiring_live().await?;
        Ok(WiringExport { text: wiring.to_toml()?, left_out })
    }

    /// What making `text` true would send, to show first; nothing is sent.
    pub async fn wiring_plan(&self, text: String) -> Result<WiringPreview> {
        let wanted = Wiring::parse(&text)?;
        let (live, parties, left_out) = self.wiring_live().await?;
        let plan = WiringPlan::make(&wanted, &live, &parties).await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let preview = WiringPreview {
            id: id.clone(),
            changes: plan.changes.iter().map(|c| c.words()).collect(),
            plans: plan.plans.iter().enumerate().map(|(i, p)| p.preview(&format!("{id}-{i}"))).collect(),
            left_out,
        };
        self.wiring_plans.lock().unwrap_or_else(|p| p.into_inner()).insert(id, plan);
        Ok(preview)
    }

    /// Sends a wiring plan shown before (at most once), if the cluster is still as it saw it.
    pub async fn wiring_apply(&self, id: &str) -> Result<Vec<ApplyReport>> {
        let plan = self.wiring_plans.lock().unwrap_or_else(|p| p.into_inner()).remove(id).ok_or_else(|| Error::Invalid("this wiring plan was applied or dropped already; plan again".into()))?;
        let (live, _, _) = self.wiring_live().await?;
        plan.apply(&live).await
    }

    /// Keeps a wiring file attached to the canvas (None: detaches it); checked when attached.
    pub fn wiring_attach(&self, text: Option<String>) -> Result<()> {
        let wiring = text.map(|t| Wiring::parse(&t)).transpose()?;
        *self.wiring_attached.lock().unwrap_or_else(|p| p.into_inner()) = wiring;
        Ok(())
    }

    /// How the live cluster differs from the attached file (None: none is attached).
    pub async fn wiring_drift(&self) -> Result<Option<Vec<Drift>>> {
        let Some(wanted) = self.wiring_attached.lock().unwrap_or_else(|p| p.into_inner()).clone() else { return Ok(None) };
        let (live, _, _) = self.wiring_live().await?;
        Ok(Some(crate::wiring::drift(&wanted, &live)))
    }

    /// Forgets a wiring plan shown and not applied (nothing was sent).
    pub fn wiring_drop(&self, id: &str) -> bool {
        self.wiring_plans.lock().unwrap_or_else(|p| p.into_inner()).remove(id).is_some()
    }
}
