//! Replication health in time: every link's lag and state watched against thresholds (alerts
//! that start, are noted and end), and a bounded history of each link's lag and backlog, kept in
//! the app data folder across restarts. Fed by every view of the cluster the studio builds.

mod alerts;
mod history;

pub use alerts::{Alert, AlertChange, AlertKind, Alerts, HealthRules, Thresholds};
pub use history::{EdgeHistory, History, Sample};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::topology::TopologyView;

/// What the Health list shows: the rules and the alerts, newest first (active ones have no end).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthState {
    pub rules: HealthRules,
    pub alerts: Vec<Alert>,
}

/// Health as kept on disk: rules, alerts and history in one file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Health {
    #[serde(default)]
    pub rules: HealthRules,
    #[serde(default)]
    pub alerts: Alerts,
    #[serde(default)]
    pub history: History,
}

impl Health {
    /// One view of the cluster at `now` (ms since the epoch): its samples kept, its alerts
    /// judged; answers the alerts that started or ended.
    pub fn observe(&mut self, view: &TopologyView, now: f64) -> Vec<AlertChange> {
        self.history.record(view, now);
        self.alerts.evaluate(&self.rules, view, now)
    }

    pub fn state(&self) -> HealthState {
        HealthState { rules: self.rules.clone(), alerts: self.alerts.newest_first() }
    }
}
