//! Replication health in time against real nodes: a link paused on purpose shows its lag in
//! seconds growing on the canvas's model, an alert starts past its threshold and is kept in the
//! list with when it started and ended, and the lag drains to zero once the link resumes.

use std::time::Duration;

use serde_json::json;
use switchyard_e2e::loopback::LoopbackNode;
use switchyard_studio::health::{AlertChange, AlertKind, Health, HealthRules, Thresholds};
use switchyard_studio::instance::Instance;
use switchyard_studio::topology::{self, LinkState, TopologyView};
use switchyard_testkit::eventually_some;

const PW: &str = "health-pw";

async fn view(nodes: &[&LoopbackNode]) -> TopologyView {
    let mut observed = Vec::new();
    for n in nodes {
        observed.push(topology::observe(n.spec(), &n.client()).await);
    }
    topology::build(&observed)
}

/// Observation times 5 s apart (the history keeps one sample per 5 s): the first one now.
fn at(step: u32) -> f64 {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *START.get_or_init(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0) + step as f64 * 5_000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_link_lags_in_seconds_raises_an_alert_and_drains_when_resumed() {
    let edge = LoopbackNode::start("edge", PW).await.unwrap();
    let hq = LoopbackNode::start("hq", PW).await.unwrap();
    for n in [&edge, &hq] {
        n.client().create_table("dev", "sensor", "id").await.unwrap();
    }
    // edge dials hq and pushes sensor (as the factory's edges do).
    edge.client()
        .call(&json!({"operation": "add_node", "name": "hq", "host": "127.0.0.1", "port": hq.port,
            "authorization": {"username": "admin", "password": PW}, "subscriptions": [{"channel": "dev:sensor", "subscribe": false, "publish": true}]}))
        .await
        .unwrap();
    edge.client().insert("dev", "sensor", &[json!({"id": 0})]).await.unwrap();
    let id = "id-edge->id-hq";
    let mut health = Health { rules: HealthRules { default: Thresholds { lag_seconds: Some(1.0), down_seconds: None }, ..Default::default() }, ..Default::default() };
    let caught_up = eventually_some("edge → hq caught up, lag zero", async || {
        let v = view(&[&edge, &hq]).await;
        let ready = v.edges.iter().any(|e| e.id == id && e.lag_ms == Some(0.0) && e.state == LinkState::Open);
        ready.then_some(v)
    })
    .await;
    assert!(health.observe(&caught_up, at(0)).is_empty());

    // Cut: the studio pauses edge's link; edge keeps writing.
    let status = switchyard_studio::probe::status(&edge.spec().id, &edge.client()).await;
    let dialer = Instance::probed(edge.spec(), &edge.client(), &status);
    dialer.pause_link("hq", true).await.expect("pause");
    for k in 1..=10 {
        edge.client().insert("dev", "sensor", &[json!({"id": k})]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let cut = eventually_some("the paused edge lags more than a second", async || {
        let v = view(&[&edge, &hq]).await;
        let lags = v.edges.iter().any(|e| e.id == id && e.lag_ms.is_some_and(|l| l > 1_000.0));
        lags.then_some(v)
    })
    .await;
    let e = cut.edges.iter().find(|e| e.id == id).unwrap();
    assert_eq!(e.state, LinkState::Paused, "{e:?}");
    assert_eq!(e.channels[0].backlog, Some(10.0), "{e:?}");
    let hq_node = cut.nodes.iter().find(|n| n.id == "id-hq").unwrap();
    assert_eq!(hq_node.inbound_lag_ms, e.lag_ms, "hq's card shows its worst inbound lag");
    let started = health.observe(&cut, at(1));
    assert!(matches!(started.as_slice(), [AlertChange::Started(a)] if a.kind == AlertKind::Lag && a.source_name == "edge" && a.target_name == "hq"), "{started:?}");
    assert_eq!(hq.client().describe_table("dev", "sensor").await.unwrap().record_count, 1, "nothing crossed the cut link");

    // Restored: the backlog drains, the lag is zero again, and the alert ends.
    dialer.pause_link("hq", false).await.expect("resume");
    let restored = eventually_some("the backlog drains after the restore", async || {
        let v = view(&[&edge, &hq]).await;
        let drained = v.edges.iter().any(|e| e.id == id && e.lag_ms == Some(0.0) && e.channels[0].backlog == Some(0.0));
        drained.then_some(v)
    })
    .await;
    let ended = health.observe(&restored, at(2));
    assert!(matches!(ended.as_slice(), [AlertChange::Ended(a)] if a.ended.is_some()), "{ended:?}");
    assert_eq!(hq.client().describe_table("dev", "sensor").await.unwrap().record_count, 11);
    let listed = health.state().alerts;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].worst_seconds > 1.0 && listed[0].ended.unwrap() > listed[0].started, "{listed:?}");
    // The history has the outage: samples of it down, and lag.
    let samples = health.history.of(id).samples;
    assert!(samples.iter().any(|s| s.down) && samples.iter().any(|s| s.lag_ms.is_some_and(|l| l > 1_000.0)), "{samples:?}");
}
