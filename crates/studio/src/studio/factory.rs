//! The factory scenario: its setup, load generator and arrival check.

use crate::error::{Error, Result};
use crate::factory::{Arrival, FactorySetup, Generator, LoadStats};
use crate::local::CLUSTER;
use crate::links::ApplyReport;
use crate::types::InstanceKind;

use super::Studio;

impl Studio {
    /// The factory scenario's instances: edge-1, edge-2 and hq, local, made where missing (those
    /// that exist are reused; the UI asks first), started, each with the scenario's tables.
    pub async fn factory_setup(&self, raw_expiration_s: f64) -> Result<FactorySetup> {
        if !(1.0..=86_400.0 * 30.0).contains(&raw_expiration_s) {
            return Err(Error::Invalid("raw readings expire after 1 s to 30 days".into()));
        }
        let before: Vec<String> = self.registry.list()?.into_iter().map(|i| i.name).collect();
        self.local.create_cluster(&self.registry).await?;
        let specs = self.registry.list()?;
        let mut ids = Vec::new();
        for name in CLUSTER {
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{name} could not be made")))?;
            if spec.kind != InstanceKind::Local {
                return Err(Error::Invalid(format!("an instance named {name} is registered and is not local: rename or remove it first")));
            }
            let state = self.local.start(&self.registry, &spec.id).await?;
            if let Some(e) = state.error {
                return Err(Error::Invalid(format!("{name} did not start: {e}")));
            }
            crate::factory::make_tables(&self.registry.client(&spec.id)?, raw_expiration_s).await?;
            ids.push(spec.id.clone());
        }
        let reused = CLUSTER.iter().filter(|n| before.iter().any(|b| b == *n)).map(|n| n.to_string()).collect();
        // Plans made again replace the ones shown before (dropped, never applied).
        self.factory_drop();
        let mut plans = Vec::new();
        for edge in &ids[..2] {
            plans.push(self.link_plan(crate::factory::link_request(edge, &ids[2])).await?);
        }
        *self.factory_plans.lock().unwrap_or_else(|p| p.into_inner()) = plans.iter().map(|p| p.id.clone()).collect();
        Ok(FactorySetup { edges: ids[..2].to_vec(), hq: ids[2].clone(), reused, plans })
    }

    /// Applies the scenario's links, in order, as `factory_setup` showed them; stops at the
    /// first that fails (its own undo ran) and drops the rest. Answers each one's report.
    pub async fn factory_apply(&self) -> Result<Vec<ApplyReport>> {
        let ids = std::mem::take(&mut *self.factory_plans.lock().unwrap_or_else(|p| p.into_inner()));
        if ids.is_empty() {
            return Err(Error::Invalid("no factory links to apply: set the scenario up first".into()));
        }
        let mut reports = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let report = self.link_apply(id).await?;
            let ok = report.ok;
            reports.push(report);
            if !ok {
                for rest in &ids[i + 1..] {
                    self.link_drop(rest);
                }
                break;
            }
        }
        Ok(reports)
    }

    /// Drops the scenario's link plans (nothing was wired); false when none were shown.
    pub fn factory_drop(&self) -> bool {
        let ids = std::mem::take(&mut *self.factory_plans.lock().unwrap_or_else(|p| p.into_inner()));
        // Every plan is dropped (no short-circuit): `|=`, not `any`.
        let mut dropped = false;
        for id in &ids {
            dropped |= self.link_drop(id);
        }
        dropped
    }

    /// Starts (or restarts at another rate) writing readings on edge-1 and edge-2.
    pub async fn factory_load_start(&self, rate: f64) -> Result<LoadStats> {
        let specs = self.registry.list()?;
        let mut edges = Vec::new();
        for name in CLUSTER[..2].iter().copied() {
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{name} is not registered: run the factory scenario first")))?;
            edges.push((name.to_string(), self.registry.client(&spec.id)?));
        }
        let mut slot = self.factory.lock().await;
        if let Some(g) = slot.as_mut() {
            g.stop().await;
        }
        let g = Generator::start(edges, rate.round().clamp(0.0, u32::MAX as f64) as u32, 50)?;
        let stats = g.stats();
        *slot = Some(g);
        Ok(stats)
    }

    pub async fn factory_load_stats(&self) -> LoadStats {
        self.factory.lock().await.as_ref().map(Generator::stats).unwrap_or_default()
    }

    pub async fn factory_load_stop(&self) -> LoadStats {
        match self.factory.lock().await.as_mut() {
            Some(g) => g.stop().await,
            None => LoadStats::default(),
        }
    }

    /// Whether hq holds every out-of-range reading the generator wrote.
    pub async fn factory_check(&self) -> Result<Arrival> {
        let ids = self.factory.lock().await.as_ref().map(Generator::out_of_range_ids).ok_or_else(|| Error::Invalid("the generator has not run yet".into()))?;
        let hq = self.registry.list()?.into_iter().find(|s| s.name == CLUSTER[2]).ok_or_else(|| Error::Invalid("hq is not registered".into()))?;
        crate::factory::check_arrival(&self.registry.client(&hq.id)?, &ids).await
    }

    /// A network outage on purpose: `edge`'s link to hq is paused (`cut`) or resumed. The edge
    /// keeps running and its generator keeps writing; what it writes meanwhile waits, ageing,
    /// and is sent when the link is restored.
    pub async fn factory_cut_link(&self, edge: &str, cut: bool) -> Result<()> {
        if !CLUSTER[..2].contains(&edge) {
            return Err(Error::Invalid(format!("'{edge}' is not one of the scenario's edges ({})", CLUSTER[..2].join(", "))));
        }
        let named = |name: &str| -> Result<String> {
            self.registry.list()?.into_iter().find(|s| s.name == name).map(|s| s.id).ok_or_else(|| Error::Invalid(format!("{name} is not registered")))
        };
        let hq = self.registry.status(&named(CLUSTER[2])?).await?;
        let link = hq.node_name.ok_or_else(|| Error::Invalid("hq did not say its node name".into()))?;
        self.link_pause(&named(edge)?, &link, cut).await
    }

    /// Stops the generator and removes the scenario's local instances (their tables and links
    /// go with them).
    pub async fn factory_remove(&self) -> Result<Vec<String>> {
        if let Some(mut g) = self.factory.lock().await.take() {
            g.stop().await;
        }
        let mut removed = Vec::new();
        for spec in self.registry.list()?.into_iter().filter(|s| s.kind == InstanceKind::Local && CLUSTER.contains(&s.name.as_str())) {
            self.remove(&spec.id).await?;
            removed.push(spec.name);
        }
        Ok(removed)
    }
}
