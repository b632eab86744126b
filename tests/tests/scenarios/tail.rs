//! The studio's tail client against real nodes: it opens with the recent transactions and goes
//! live with no duplicate and no hole at the seam; across node restarts it resumes, heals from
//! the node's log what it cannot resume, and reports as a gap what it cannot heal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_client::{Credentials, OpsClient};
use switchyard_node::RunningNode;
use switchyard_sc::{Endpoint, Options, Socket};
use switchyard_studio::tail::{feed, lock, Connection, Order, TailAction, TailFilter, TailPort, TailSession, TailUpdate};
use switchyard_studio::{Tail, TailEvent, TailRecord, TailRequest, TailSource};
use tokio_util::sync::CancellationToken;

const PW: &str = switchyard_testkit::PASSWORD;

async fn node_on(dir: &std::path::Path, port: u16) -> RunningNode {
    switchyard_testkit::launch_in(dir, "edge", port, |_| {}).await.0
}

fn ops(node: &RunningNode) -> OpsClient {
    OpsClient::new(node.url(), Credentials::basic("admin", PW)).unwrap()
}

fn tail(node: &RunningNode, request: TailRequest) -> Tail {
    Tail::start(ops(node), Endpoint::plain("127.0.0.1", node.addr.port()), ("admin".into(), PW.into()), request).unwrap()
}

/// `n` single-record transactions with keys `from..from+n`, pipelined over one socket.
async fn publish(node: &RunningNode, from: i64, n: i64) {
    let (socket, _events) = Socket::connect(&Endpoint::plain("127.0.0.1", node.addr.port()), Options::default()).await.unwrap();
    socket.login("admin", PW).await.unwrap();
    for k in from..from + n - 1 {
        socket.emit("#publish", &json!({"channel": "dev:dog", "data": {"id": k}})).await.unwrap();
    }
    // Publishes commit in order: once the last is answered, every one is in.
    socket.publish("dev:dog", &json!({"id": from + n - 1})).await.unwrap();
}

/// Events until the record with key `last` arrived (60 s at most): the records, and the other
/// events. With `last` = None, until the tail is live again.
async fn until_key(t: &mut Tail, last: i64) -> (Vec<TailRecord>, Vec<TailEvent>) {
    until(t, Some(last), Vec::new(), Vec::new()).await
}

async fn until(t: &mut Tail, last: Option<i64>, mut records: Vec<TailRecord>, mut others: Vec<TailEvent>) -> (Vec<TailRecord>, Vec<TailEvent>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let e = tokio::time::timeout_at(deadline, t.next()).await.unwrap_or_else(|_| panic!("{last:?} did not arrive; got {} records, {others:?}", records.len())).expect("tail runs");
        match e {
            TailEvent::Record(r) => {
                let k = key(&r);
                records.push(r);
                if Some(k) == last {
                    return (records, others);
                }
            }
            TailEvent::Live if last.is_none() => {
                others.push(TailEvent::Live);
                return (records, others);
            }
            other => others.push(other),
        }
    }
}

fn key(r: &TailRecord) -> i64 {
    let rows: Vec<Value> = serde_json::from_str(r.data.get()).unwrap();
    rows[0]["id"].as_i64().unwrap()
}

fn keys(rs: &[TailRecord]) -> Vec<i64> {
    rs.iter().map(key).collect()
}

fn ascending_once(rs: &[TailRecord]) {
    for w in rs.windows(2) {
        assert!(w[1].id > w[0].id, "log ids ascend: {} then {}", w[0].id, w[1].id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_opens_with_recent_transactions_then_goes_live_with_no_seam() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_on(dir.path(), 0).await;
    ops(&node).create_table("dev", "dog", "id").await.unwrap();
    publish(&node, 1, 150).await;

    // Writes go on while the tail opens.
    let writing = {
        let port = node.addr.port();
        tokio::spawn(async move {
            let (socket, _events) = Socket::connect(&Endpoint::plain("127.0.0.1", port), Options::default()).await.unwrap();
            socket.login("admin", PW).await.unwrap();
            for k in 151..=300 {
                socket.publish("dev:dog", &json!({"id": k})).await.unwrap();
            }
        })
    };
    let mut request = TailRequest::new(vec!["dev:dog".into()]);
    request.window = 100;
    let mut t = tail(&node, request);
    let (records, _) = until_key(&mut t, 300).await;
    writing.await.unwrap();
    ascending_once(&records);
    let ks = keys(&records);
    let first = ks[0];
    assert!(first >= 51, "the window holds the last 100 transactions at most: starts at {first}");
    assert_eq!(ks, (first..=300).collect::<Vec<_>>(), "every transaction from the window on, once");
    assert!(records[..100].iter().all(|r| r.source == TailSource::Window));
    assert_eq!(records.last().map(|r| r.source), Some(TailSource::Live));
    node.stop().await;
}

/// Stops the node, writes `n` transactions to its data while its port is closed (the same node
/// on another port), and starts it again on its port.
async fn outage(node: RunningNode, dir: &std::path::Path, from: i64, n: i64) -> RunningNode {
    let port = node.addr.port();
    node.stop().await;
    let elsewhere = node_on(dir, 0).await;
    publish(&elsewhere, from, n).await;
    elsewhere.stop().await;
    node_on(dir, port).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_resumes_heals_and_reports_what_it_cannot_heal() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_on(dir.path(), 0).await;
    ops(&node).create_table("dev", "dog", "id").await.unwrap();
    let mut request = TailRequest::new(vec!["dev:dog".into()]);
    request.heal_max = 2500;
    let mut t = tail(&node, request);
    publish(&node, 1, 10).await;
    let (records, _) = until_key(&mut t, 10).await;
    assert_eq!(keys(&records), (1..=10).collect::<Vec<_>>());

    // A short outage: the subscription resumes from the last transaction shown.
    let node = outage(node, dir.path(), 11, 50).await;
    let (records, events) = until(&mut t, None, Vec::new(), Vec::new()).await;
    publish(&node, 61, 5).await;
    let (records, events) = until(&mut t, Some(65), records, events).await;
    assert_eq!(keys(&records), (11..=65).collect::<Vec<_>>(), "once each, in order: {events:?}");
    assert!(events.iter().any(|e| matches!(e, TailEvent::Reconnecting { .. })), "{events:?}");

    // A long outage: more than the node resumes (2,000), healed from its log.
    let node = outage(node, dir.path(), 66, 2100).await;
    let (records, events) = until(&mut t, None, Vec::new(), Vec::new()).await;
    publish(&node, 2166, 5).await;
    let (records, events) = until(&mut t, Some(2170), records, events).await;
    assert_eq!(keys(&records), (66..=2170).collect::<Vec<_>>(), "once each, in order");
    assert!(records.iter().any(|r| r.source == TailSource::Healed));
    assert!(events.iter().any(|e| matches!(e, TailEvent::Healed { count, .. } if *count >= 2000)), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, TailEvent::Gap { .. })), "{events:?}");

    // Longer than the tail heals (2,500): the rest is a gap, said exactly where.
    let node = outage(node, dir.path(), 2171, 3000).await;
    let (records, events) = until(&mut t, None, Vec::new(), Vec::new()).await;
    publish(&node, 5171, 5).await;
    let (records, events) = until(&mut t, Some(5175), records, events).await;
    let ks = keys(&records);
    assert_eq!(ks[..2500], (2171..4671).collect::<Vec<_>>()[..], "what could be healed, in order");
    assert_eq!(ks[2500..], [5171, 5172, 5173, 5174, 5175], "then live");
    let gap = events.iter().find_map(|e| match e {
        TailEvent::Gap { after, reason, .. } => Some((*after, reason.clone())),
        _ => None,
    });
    let (after, reason) = gap.expect("the gap is reported");
    assert_eq!(after, records[2499].id, "the gap starts after the last healed transaction: {reason}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_made_while_the_tail_reconnects_arrive_once() {
    for before_the_tail in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let node = node_on(dir.path(), 0).await;
        ops(&node).create_table("dev", "dog", "id").await.unwrap();
        // Written before the tail opens, the first ten reach it through the opening window
        // only; no live one came before the outage, yet it resumes after them.
        if before_the_tail {
            publish(&node, 1, 10).await;
        }
        let mut t = tail(&node, TailRequest::new(vec!["dev:dog".into()]));
        if !before_the_tail {
            publish(&node, 1, 10).await;
        }
        let (records, _) = until_key(&mut t, 10).await;
        assert_eq!(keys(&records), (1..=10).collect::<Vec<_>>());
        if before_the_tail {
            assert!(records.iter().all(|r| r.source == TailSource::Window), "written before the tail: shown from the window");
        }
        let node = outage(node, dir.path(), 11, 50).await;
        publish(&node, 61, 5).await;
        let (records, events) = until_key(&mut t, 65).await;
        assert_eq!(keys(&records), (11..=65).collect::<Vec<_>>(), "before the tail: {before_the_tail}; {events:?}");
        node.stop().await;
    }
}

/// The next update (30 s at most) that satisfies `done`.
async fn update_until(updates: &mut tokio::sync::mpsc::UnboundedReceiver<TailUpdate>, what: &str, done: impl Fn(&TailUpdate) -> bool) -> TailUpdate {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let u = tokio::time::timeout_at(deadline, updates.recv()).await.unwrap_or_else(|_| panic!("no update with {what}")).expect("the feed runs");
        if done(&u) {
            return u;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_fed_by_a_tail_shows_its_port_pauses_without_loss_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_on(dir.path(), 0).await;
    ops(&node).create_table("dev", "dog", "id").await.unwrap();
    let session = Arc::new(Mutex::new(TailSession::new(vec![("dev:dog".into(), "id".into())], switchyard_studio::NODE_TAIL_OPERATIONS)));
    let (tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let feeding = tokio::spawn(feed(tail(&node, TailRequest::new(vec!["dev:dog".into()])), session.clone(), stop.clone(), move |u| tx.send(u).is_ok()));
    let act = |a: TailAction| lock(&session).act(a);
    act(TailAction::Port { port: TailPort { order: Order::Newest, first: 0, count: 5 } });
    update_until(&mut updates, "live", |u| u.connection == Connection::Live).await;

    publish(&node, 1, 1000).await;
    let u = update_until(&mut updates, "1,000 shown", |u| u.shown == 1000).await;
    assert_eq!(u.lines.iter().map(|l| l.keys.as_str()).collect::<Vec<_>>(), ["1000", "999", "998", "997", "996"], "the port's rows, newest first");
    assert_eq!(u.received, 1000);

    // Paused: 500 more are buffered, not shown; resumed, all are shown, in order.
    act(TailAction::Pause);
    publish(&node, 1001, 500).await;
    let u = update_until(&mut updates, "500 buffered", |u| u.buffered == 500).await;
    assert_eq!((u.shown, u.paused, u.dropped), (1000, true, None));
    act(TailAction::Resume);
    let u = update_until(&mut updates, "1,500 shown", |u| u.shown == 1500 && !u.paused).await;
    assert_eq!(u.lines[0].keys, "1500");
    let exported: Vec<i64> = lock(&session).exported().iter().map(|r| key(r.record())).collect();
    assert_eq!(exported, (1..=1500).collect::<Vec<_>>(), "every transaction once, in order");

    // A filter applies to what is held and to what arrives, and says what it hides.
    act(TailAction::Filter { filter: TailFilter { key: "150".into(), ..Default::default() } });
    publish(&node, 1501, 10).await;
    let u = update_until(&mut updates, "the filtered arrivals", |u| u.received == 1510).await;
    // Keys with "150" in them: 150, 1150, 1500–1509 (not 1510).
    assert_eq!((u.shown, u.rows), (12, 1510));
    assert_eq!(u.lines.iter().map(|l| l.keys.as_str()).collect::<Vec<_>>(), ["1509", "1508", "1507", "1506", "1505"]);

    // Stopped: the tail ends, what it received stays.
    stop.cancel();
    feeding.await.unwrap();
    let last = update_until(&mut updates, "idle", |u| u.connection == Connection::Idle).await;
    assert_eq!((last.rows, last.shown), (1510, 12));
}
