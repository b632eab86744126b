//! Alert rules over the cluster's edges: lag in seconds and time down, per link or one default
//! for all; an alert starts when a rule is crossed and ends when the link is back within it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::topology::{LinkState, TopoEdge, TopologyView};

/// The thresholds of one rule; `None` watches nothing of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    /// Alert while the link is more than this many seconds behind.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    /// Alert once the link has not been open for this many seconds.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_seconds: Option<f64>,
}

/// The rules: a default for every link, and per edge (`<source id>-><target id>`) its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthRules {
    pub default: Thresholds,
    pub per_edge: BTreeMap<String, Thresholds>,
}

impl Default for HealthRules {
    /// Thirty seconds behind, or a minute down, on any link.
    fn default() -> Self {
        HealthRules { default: Thresholds { lag_seconds: Some(30.0), down_seconds: Some(60.0) }, per_edge: BTreeMap::new() }
    }
}

impl HealthRules {
    /// The thresholds that hold for an edge: its own, else the default.
    pub fn of(&self, edge: &str) -> Thresholds {
        self.per_edge.get(edge).copied().unwrap_or(self.default)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// The link is further behind than its threshold.
    Lag,
    /// The link has not been open for longer than its threshold.
    Down,
}

/// One alert: from when a rule was crossed to when the link came back within it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub edge: String,
    pub source_name: String,
    pub target_name: String,
    pub kind: AlertKind,
    /// The threshold crossed (seconds).
    pub threshold_seconds: f64,
    /// When it started and, once over, ended (ms since the epoch).
    pub started: f64,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<f64>,
    /// The worst it got: seconds behind, or seconds down.
    pub worst_seconds: f64,
}

impl Alert {
    /// As a notification says it.
    pub fn words(&self) -> String {
        let what = match self.kind {
            AlertKind::Lag => format!("{:.0} s behind", self.worst_seconds),
            AlertKind::Down => format!("down for {:.0} s", self.worst_seconds),
        };
        match self.ended {
            None => format!("{} → {} is {what} (threshold {} s)", self.source_name, self.target_name, self.threshold_seconds),
            Some(_) => format!("{} → {} recovered (was {what})", self.source_name, self.target_name),
        }
    }
}

/// An alert that started or ended with a view.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertChange {
    Started(Alert),
    Ended(Alert),
}

/// How many ended alerts are kept (the oldest go first).
const ENDED_KEPT: usize = 500;

/// The alerts: those going on, and those that ended, oldest first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Alerts {
    active: Vec<Alert>,
    ended: Vec<Alert>,
}

impl Alerts {
    /// Judges every edge of `view` at `now` against `rules`: starts what is crossed, ends what is
    /// back within its threshold (or whose edge or rule is gone), and answers both.
    pub fn evaluate(&mut self, rules: &HealthRules, view: &TopologyView, now: f64) -> Vec<AlertChange> {
        let name = |id: &str| view.nodes.iter().find(|n| n.id == id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_string());
        let mut crossed: Vec<(String, AlertKind, f64, f64, &TopoEdge)> = Vec::new();
        for e in &view.edges {
            let t = rules.of(&e.id);
            if let (Some(limit), Some(lag)) = (t.lag_seconds, e.lag_ms) {
                if lag / 1000.0 > limit {
                    crossed.push((e.id.clone(), AlertKind::Lag, limit, lag / 1000.0, e));
                }
            }
            if let Some(limit) = t.down_seconds {
                let down = (now - e.since) / 1000.0;
                if e.state != LinkState::Open && down > limit {
                    crossed.push((e.id.clone(), AlertKind::Down, limit, down, e));
                }
            }
        }
        let mut changes = Vec::new();
        // Ended: no longer crossed.
        let (still, over): (Vec<Alert>, Vec<Alert>) =
            std::mem::take(&mut self.active).into_iter().partition(|a| crossed.iter().any(|(edge, kind, ..)| *edge == a.edge && *kind == a.kind));
        self.active = still;
        for mut a in over {
            a.ended = Some(now);
            changes.push(AlertChange::Ended(a.clone()));
            self.ended.push(a);
        }
        if self.ended.len() > ENDED_KEPT {
            self.ended.drain(..self.ended.len() - ENDED_KEPT);
        }
        // Going on (the worst kept), or started.
        for (edge, kind, limit, seconds, e) in crossed {
            match self.active.iter_mut().find(|a| a.edge == edge && a.kind == kind) {
                Some(a) => {
                    a.worst_seconds = a.worst_seconds.max(seconds);
                    a.threshold_seconds = limit;
                }
                None => {
                    let a = Alert {
                        edge,
                        source_name: name(&e.source),
                        target_name: name(&e.target),
                        kind,
                        threshold_seconds: limit,
                        started: now,
                        ended: None,
                        worst_seconds: seconds,
                    };
                    changes.push(AlertChange::Started(a.clone()));
                    self.active.push(a);
                }
            }
        }
        changes
    }

    /// Active ones first (newest first), then ended ones (newest first).
    pub fn newest_first(&self) -> Vec<Alert> {
        let mut active = self.active.clone();
        active.sort_by(|a, b| b.started.total_cmp(&a.started));
        active.into_iter().chain(self.ended.iter().rev().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::TopoNode;

    fn node(id: &str) -> TopoNode {
        TopoNode::plain(id, &format!("name-{id}"))
    }

    /// A view of one edge a → b in `state` since `since`, `lag_ms` behind.
    fn view(state: LinkState, since: f64, lag_ms: Option<f64>) -> TopologyView {
        TopologyView {
            nodes: vec![node("a"), node("b")],
            edges: vec![TopoEdge {
                id: "a->b".into(),
                source: "a".into(),
                target: "b".into(),
                state,
                since,
                latency_ms: None,
                last_error: None,
                channels: vec![],
                lag_ms,
                cycle: false,
                failing: false,
                mesh: false,
            }],
            flows: vec![],
            warnings: vec![],
        }
    }

    fn started(c: &[AlertChange]) -> Vec<(AlertKind, f64)> {
        c.iter().filter_map(|c| if let AlertChange::Started(a) = c { Some((a.kind, a.started)) } else { None }).collect()
    }

    fn ended(c: &[AlertChange]) -> Vec<(AlertKind, Option<f64>)> {
        c.iter().filter_map(|c| if let AlertChange::Ended(a) = c { Some((a.kind, a.ended)) } else { None }).collect()
    }

    #[test]
    fn a_lag_alert_starts_past_its_threshold_keeps_its_worst_and_ends_once_back_within() {
        let rules = HealthRules::default();
        let mut alerts = Alerts::default();
        assert!(alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(30_000.0)), 1_000.0).is_empty(), "at the threshold is not past it");
        assert_eq!(started(&alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(31_000.0)), 2_000.0)), vec![(AlertKind::Lag, 2_000.0)]);
        // Going on: not started again; its worst is kept.
        assert!(alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(95_000.0)), 3_000.0).is_empty());
        assert!(alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(40_000.0)), 4_000.0).is_empty());
        let state = alerts.newest_first();
        assert_eq!((state.len(), state[0].worst_seconds, state[0].source_name.as_str()), (1, 95.0, "name-a"));
        assert!(state[0].words().contains("95 s behind"), "{}", state[0].words());
        assert_eq!(ended(&alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(0.0)), 5_000.0)), vec![(AlertKind::Lag, Some(5_000.0))]);
        let state = alerts.newest_first();
        assert_eq!((state.len(), state[0].started, state[0].ended), (1, 2_000.0, Some(5_000.0)), "kept in the list with when it started and ended");
        assert!(state[0].words().contains("recovered"));
    }

    #[test]
    fn a_down_alert_waits_for_its_threshold_and_a_link_not_reporting_lag_raises_no_lag_alert() {
        let rules = HealthRules::default();
        let mut alerts = Alerts::default();
        // Closed since t=0: nothing until a minute has passed.
        assert!(alerts.evaluate(&rules, &view(LinkState::Closed, 0.0, None), 59_000.0).is_empty());
        assert_eq!(started(&alerts.evaluate(&rules, &view(LinkState::Paused, 0.0, None), 61_000.0)), vec![(AlertKind::Down, 61_000.0)]);
        assert_eq!(ended(&alerts.evaluate(&rules, &view(LinkState::Open, 62_000.0, None), 63_000.0)), vec![(AlertKind::Down, Some(63_000.0))]);
    }

    #[test]
    fn an_edges_own_rule_overrides_the_default_and_a_rule_removed_ends_its_alert() {
        let mut rules = HealthRules::default();
        rules.per_edge.insert("a->b".into(), Thresholds { lag_seconds: Some(2.0), down_seconds: None });
        let mut alerts = Alerts::default();
        assert_eq!(started(&alerts.evaluate(&rules, &view(LinkState::Open, 0.0, Some(3_000.0)), 1_000.0)), vec![(AlertKind::Lag, 1_000.0)]);
        // Down for long, but this edge watches no downtime.
        assert!(alerts.evaluate(&rules, &view(LinkState::Closed, 0.0, Some(2_500.0)), 600_000.0).is_empty());
        rules.per_edge.insert("a->b".into(), Thresholds::default());
        assert_eq!(ended(&alerts.evaluate(&rules, &view(LinkState::Closed, 0.0, Some(9_000.0)), 601_000.0)), vec![(AlertKind::Lag, Some(601_000.0))]);
    }
}
