//! Each link's lag, backlog and rate over the last 24 hours, bounded: a sample every 5 s for
//! the last 15 minutes, then one per minute (its worst lag, its last backlog, its mean rate,
//! down if it was down at any sample of that minute).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::topology::{LinkState, TopologyView};

/// Samples closer than this to the last one are not kept.
const EVERY_MS: f64 = 5_000.0;
/// How long the 5 s samples are kept.
const FINE_MS: f64 = 15.0 * 60_000.0;
const MINUTE_MS: f64 = 60_000.0;
/// How long anything is kept.
const DAY_MS: f64 = 24.0 * 3_600_000.0;

/// One point of a link's history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// When (ms since the epoch); a minute's start for per-minute samples.
    pub at: f64,
    /// How far behind (ms), when the source reports it.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<f64>,
    /// Entries the source owes the target.
    pub backlog: f64,
    /// Entries carried per second.
    pub rate: f64,
    /// The link was not open.
    pub down: bool,
}

/// A link's history, oldest first, as its panel charts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EdgeHistory {
    pub edge: String,
    pub samples: Vec<Sample>,
    /// The spacing of the recent samples and of the older ones (ms).
    pub fine_ms: f64,
    pub coarse_ms: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Track {
    fine: VecDeque<Sample>,
    coarse: VecDeque<Sample>,
    /// The entries carried so far and when, for the next sample's rate.
    carried: Option<(f64, f64)>,
    /// How many 5 s samples the current minute's per-minute sample folds (for its mean rate).
    folded: u32,
}

/// Every link's history, by edge id.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct History {
    tracks: HashMap<String, Track>,
}

impl History {
    /// Keeps a sample of every edge of `view` (at most one per edge every 5 s), and lets go of
    /// what is older than a day.
    pub fn record(&mut self, view: &TopologyView, now: f64) {
        for e in &view.edges {
            let track = self.tracks.entry(e.id.clone()).or_default();
            if track.fine.back().is_some_and(|s| now - s.at < EVERY_MS) {
                continue;
            }
            let carried: f64 = e.channels.iter().map(|c| c.carried).sum();
            let rate = match track.carried {
                // A count that went back (the dialler restarted) is no traffic.
                Some((at, was)) if now > at => (carried - was).max(0.0) / ((now - at) / 1000.0),
                _ => 0.0,
            };
            track.carried = Some((now, carried));
            let sample = Sample { at: now, lag_ms: e.lag_ms, backlog: e.channels.iter().filter_map(|c| c.backlog).sum(), rate, down: e.state != LinkState::Open };
            track.fine.push_back(sample);
            while track.fine.front().is_some_and(|s| now - s.at > FINE_MS) {
                track.fine.pop_front();
            }
            let minute = (now / MINUTE_MS).floor() * MINUTE_MS;
            match track.coarse.back_mut() {
                Some(m) if m.at == minute => {
                    m.lag_ms = match (m.lag_ms, sample.lag_ms) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    m.backlog = sample.backlog;
                    m.rate = (m.rate * track.folded as f64 + rate) / (track.folded + 1) as f64;
                    m.down |= sample.down;
                    track.folded += 1;
                }
                _ => {
                    track.coarse.push_back(Sample { at: minute, ..sample });
                    track.folded = 1;
                }
            }
            while track.coarse.front().is_some_and(|s| now - s.at > DAY_MS) {
                track.coarse.pop_front();
            }
        }
        self.tracks.retain(|_, t| t.coarse.back().is_some_and(|s| now - s.at <= DAY_MS));
    }

    /// An edge's last 24 hours: per minute until its 5 s samples begin, then those.
    pub fn of(&self, edge: &str) -> EdgeHistory {
        let samples = match self.tracks.get(edge) {
            Some(t) => {
                let fine_from = t.fine.front().map_or(f64::INFINITY, |s| s.at);
                t.coarse.iter().filter(|s| s.at + MINUTE_MS <= fine_from).chain(t.fine.iter()).copied().collect()
            }
            None => Vec::new(),
        };
        EdgeHistory { edge: edge.to_string(), samples, fine_ms: EVERY_MS, coarse_ms: MINUTE_MS }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{EdgeChannel, TopoEdge};

    fn view(carried: f64, backlog: f64, lag_ms: Option<f64>, state: LinkState) -> TopologyView {
        TopologyView {
            nodes: vec![],
            edges: vec![TopoEdge {
                id: "a->b".into(),
                source: "a".into(),
                target: "b".into(),
                state,
                since: 0.0,
                latency_ms: None,
                last_error: None,
                channels: vec![EdgeChannel { channel: "d:t".into(), dialer: "a".into(), link_name: "b".into(), position: None, backlog: Some(backlog), lag_ms, carried, gaps: 0.0, error: None }],
                lag_ms,
                cycle: false,
                failing: false,
                mesh: false,
            }],
            flows: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn samples_every_five_seconds_with_rates_then_per_minute_and_nothing_past_a_day() {
        let mut h = History::default();
        let t0 = 1_000_000_000_000.0;
        h.record(&view(0.0, 0.0, Some(0.0), LinkState::Open), t0);
        h.record(&view(10.0, 0.0, Some(0.0), LinkState::Open), t0 + 1_000.0); // too soon: not kept
        h.record(&view(50.0, 3.0, Some(900.0), LinkState::Open), t0 + 5_000.0);
        let s = h.of("a->b").samples;
        assert_eq!(s.len(), 2);
        assert_eq!((s[1].rate, s[1].backlog, s[1].lag_ms), (10.0, 3.0, Some(900.0)), "50 entries in 5 s");
        // A day of samples, an outage in it: bounded, oldest per minute, the last 15 min per 5 s.
        let mut t = t0 + 10_000.0;
        let mut carried = 50.0;
        while t < t0 + DAY_MS + 3_600_000.0 {
            carried += 5.0;
            let down = (t - t0) > 2.0 * 3_600_000.0 && (t - t0) < 2.0 * 3_600_000.0 + 120_000.0;
            h.record(&view(carried, 0.0, Some(100.0), if down { LinkState::Closed } else { LinkState::Open }), t);
            t += 5_000.0;
        }
        let s = h.of("a->b").samples;
        assert!(s.len() <= 1440 + 180 + 1, "bounded: {} samples", s.len());
        assert!(s.first().unwrap().at >= t - 5_000.0 - DAY_MS - MINUTE_MS, "nothing older than a day");
        assert!(s.windows(2).all(|w| w[0].at < w[1].at), "oldest first, no overlap");
        let last = s.last().unwrap().at;
        let recent = s.iter().filter(|x| last - x.at <= FINE_MS).count();
        assert!((180..=181).contains(&recent), "the last 15 minutes every 5 s: {recent}");
        assert!((s.last().unwrap().rate - 1.0).abs() < 1e-9, "5 entries per 5 s");
    }

    #[test]
    fn a_minute_keeps_its_worst_lag_and_whether_it_was_down() {
        let mut h = History::default();
        let m = 60_000.0 * 30_000_000.0;
        h.record(&view(0.0, 1.0, Some(100.0), LinkState::Open), m);
        h.record(&view(0.0, 5.0, Some(7_000.0), LinkState::Closed), m + 5_000.0);
        h.record(&view(0.0, 2.0, Some(50.0), LinkState::Open), m + 10_000.0);
        let t = h.tracks.get("a->b").unwrap();
        assert_eq!(t.coarse.len(), 1);
        assert_eq!((t.coarse[0].lag_ms, t.coarse[0].backlog, t.coarse[0].down), (Some(7_000.0), 2.0, true));
    }
}
