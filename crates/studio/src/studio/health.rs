//! Health in time for the shell: every view of the cluster the studio builds is fed to
//! `Health`; a watch builds one every 5 s while nothing else does (alerts hold with the canvas
//! closed); alerts as they start and end reach the shell (its notifications); rules, alerts and
//! history are kept in `health.json` beside the canvas layout.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::health::{AlertChange, EdgeHistory, Health, HealthRules, HealthState};
use crate::topology::TopologyView;
use crate::words::now_ms;

use super::Studio;

/// How often the watch looks when nothing else asked for a view.
const EVERY: Duration = Duration::from_secs(5);
/// How often the history is written, at most (rules and alerts are written as they change).
const SAVE_EVERY_MS: f64 = 60_000.0;

/// Health with where it is kept and who hears of its alerts.
pub(super) struct Watch {
    file: PathBuf,
    health: Mutex<Health>,
    /// When a view was last observed, and when the file was last written (ms).
    times: Mutex<(f64, f64)>,
    /// The last view observed, and when (what a link plan reads its upstream from).
    last: Mutex<Option<(f64, TopologyView)>>,
    /// One write at a time.
    writing: Mutex<()>,
    changes: broadcast::Sender<AlertChange>,
}

impl Watch {
    /// Health as kept in `file` (none yet: the default rules). A file that cannot be read as
    /// health is set aside (`.damaged`), said in the log, and health starts anew.
    pub(super) fn open(file: PathBuf) -> Watch {
        let health = match std::fs::read_to_string(&file) {
            Ok(text) => match serde_json::from_str::<Health>(&text) {
                Ok(h) => h,
                Err(e) => {
                    let aside = file.with_extension("json.damaged");
                    tracing::warn!("{} is not health as the studio keeps it ({e}); set aside as {}", file.display(), aside.display());
                    let _ = std::fs::rename(&file, &aside);
                    Health::default()
                }
            },
            Err(_) => Health::default(),
        };
        Watch { file, health: Mutex::new(health), times: Mutex::new((0.0, 0.0)), last: Mutex::new(None), writing: Mutex::new(()), changes: broadcast::channel(256).0 }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One view: sampled, judged; alerts that started or ended are announced, and the file
    /// written when they did (or a minute after it last was).
    pub(super) fn observe(&self, view: &TopologyView) {
        let now = now_ms();
        let changes = self.lock().observe(view, now);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((now, view.clone()));
        let due = {
            let mut t = self.times.lock().unwrap_or_else(|p| p.into_inner());
            t.0 = now;
            let due = !changes.is_empty() || now - t.1 >= SAVE_EVERY_MS;
            if due {
                t.1 = now;
            }
            due
        };
        for c in changes {
            let _ = self.changes.send(c);
        }
        if due {
            if let Err(e) = self.save() {
                tracing::warn!("health could not be kept in {}: {e}", self.file.display());
            }
        }
    }

    fn save(&self) -> Result<()> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let text = serde_json::to_string(&*self.lock()).map_err(|e| Error::Store(e.to_string()))?;
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.file.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.file)?;
        Ok(())
    }

    fn last_view_at(&self) -> f64 {
        self.times.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The last view observed, when it is at most `age_ms` old.
    fn recent(&self, age_ms: f64) -> Option<TopologyView> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|(at, _)| now_ms() - at <= age_ms).map(|(_, v)| v.clone())
    }
}

impl Studio {
    /// The cluster's view: the one the canvas (or the watch) built in the last 2 s, else a new one.
    pub(super) async fn recent_view(&self) -> crate::error::Result<TopologyView> {
        match self.health.recent(2_000.0) {
            Some(v) => Ok(v),
            None => self.topology_view().await,
        }
    }

    /// The rules and the alerts, newest first.
    pub fn health_state(&self) -> HealthState {
        self.health.lock().state()
    }

    /// Replaces the rules (a threshold is a positive number of seconds); kept at once.
    pub fn health_set_rules(&self, rules: HealthRules) -> Result<HealthState> {
        for t in std::iter::once(&rules.default).chain(rules.per_edge.values()) {
            for v in [t.lag_seconds, t.down_seconds].into_iter().flatten() {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::Invalid(format!("a threshold is a positive number of seconds, not {v}")));
                }
            }
        }
        self.health.lock().rules = rules;
        self.health.save()?;
        Ok(self.health_state())
    }

    /// An edge's last 24 hours of lag, backlog and rate.
    pub fn health_history(&self, edge: &str) -> EdgeHistory {
        self.health.lock().history.of(edge)
    }

    /// Alerts as they start and end, for the shell's notifications.
    pub fn health_alerts(&self) -> broadcast::Receiver<AlertChange> {
        self.health.changes.subscribe()
    }

    /// Looks at the cluster every 5 s while no view was built meanwhile, until `stop`.
    pub async fn health_watch(&self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(EVERY) => {}
            }
            if now_ms() - self.health.last_view_at() >= EVERY.as_millis() as f64 - 500.0 {
                if let Err(e) = self.topology_view().await {
                    tracing::debug!("health: no view of the cluster: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Watch;
    use crate::health::{AlertKind, Thresholds};
    use crate::topology::{LinkState, TopoEdge, TopoNode, TopologyView};

    fn view(lag_ms: f64) -> TopologyView {
        let node = |id: &str| TopoNode::plain(id, id);
        let edge = TopoEdge { id: "a->b".into(), source: "a".into(), target: "b".into(), state: LinkState::Open, since: 0.0, latency_ms: None, last_error: None, channels: vec![], lag_ms: Some(lag_ms), cycle: false, failing: false, mesh: false };
        TopologyView { nodes: vec![node("a"), node("b")], edges: vec![edge], flows: vec![], warnings: vec![] }
    }

    #[test]
    fn rules_alerts_and_history_are_kept_across_restarts_and_a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("health.json");
        let watch = Watch::open(file.clone());
        watch.lock().rules.per_edge.insert("a->b".into(), Thresholds { lag_seconds: Some(1.0), down_seconds: None });
        let mut alerts = watch.changes.subscribe();
        watch.observe(&view(5_000.0));
        assert!(alerts.try_recv().is_ok(), "the alert that started is announced");
        // The app starts again over the same folder.
        let again = Watch::open(file.clone());
        let state = again.lock().state();
        assert_eq!(state.rules.per_edge.get("a->b").and_then(|t| t.lag_seconds), Some(1.0));
        assert_eq!((state.alerts.len(), state.alerts[0].kind, state.alerts[0].ended), (1, AlertKind::Lag, None));
        assert_eq!(again.lock().history.of("a->b").samples.len(), 1);
        // A damaged file: health starts anew, the file kept aside for whoever wants to look.
        std::fs::write(&file, "{\"rules\": 3}").unwrap();
        let fresh = Watch::open(file.clone());
        assert!(fresh.lock().state().alerts.is_empty());
        assert!(dir.path().join("health.json.damaged").exists());
    }
}
