//! CompareSession's tests: one row per transaction with its delay on each node, missing after
//! the grace period, bounded rows, each node's connection.

use super::*;
use crate::tail::{TailRecord, TailSource};

fn rec(origin: &str, origin_id: i64, ts: f64, arrived: f64) -> TailEvent {
    TailEvent::Record(TailRecord {
        id: origin_id + 100,
        channel: "dev:sensor".into(),
        origin: origin.into(),
        origin_id,
        operation: "insert".into(),
        user: None,
        ts,
        arrived,
        source: TailSource::Live,
        data: serde_json::value::to_raw_value(&serde_json::json!([{ "id": origin_id }])).expect("json"),
    })
}

fn session() -> CompareSession {
    let mut s = CompareSession::new(vec!["edge".into(), "hq".into()], Some("id".into()));
    s.set_port(0, 10);
    s
}

#[test]
fn a_transaction_is_one_row_with_its_delay_on_each_node() {
    let mut s = session();
    s.receive(0, [rec("edge", 1, 1_000.0, 1_010.0), rec("edge", 2, 1_100.0, 1_105.0)]);
    s.receive(1, [rec("edge", 1, 1_000.0, 1_040.0)]);
    let u = s.update(1_200.0);
    assert_eq!(u.rows, 2);
    let first = &u.lines[1];
    assert_eq!((first.origin_id, first.keys.as_str()), (1, "1"));
    assert_eq!(first.presence, vec![Presence::Arrived { delay_ms: 10.0 }, Presence::Arrived { delay_ms: 40.0 }]);
    assert_eq!(u.lines[0].presence, vec![Presence::Arrived { delay_ms: 5.0 }, Presence::Pending]);
    assert!(!s.due(1_300.0), "still within the grace period");
    assert!(s.due(1_105.0 + GRACE_MS + 1.0), "2 turned missing on hq");
    s.update(1_105.0 + GRACE_MS + 1.0);
    assert!(!s.due(1_105.0 + GRACE_MS + 500.0), "shown missing already");
}

#[test]
fn missing_after_the_grace_period_and_unflagged_when_it_arrives() {
    let mut s = session();
    s.receive(0, [rec("edge", 7, 1_000.0, 1_000.0)]);
    let late = 1_000.0 + GRACE_MS + 1.0;
    let u = s.update(late);
    assert_eq!(u.lines[0].presence[1], Presence::Missing { for_ms: GRACE_MS + 1.0 });
    assert_eq!(u.nodes.iter().map(|n| n.missing).collect::<Vec<_>>(), vec![0, 1]);
    s.receive(1, [rec("edge", 7, 1_000.0, late)]);
    let u = s.update(late);
    assert_eq!(u.lines[0].presence[1], Presence::Arrived { delay_ms: GRACE_MS + 1.0 });
    assert_eq!(u.nodes[1].missing, 0);
}

#[test]
fn the_rows_stay_bounded_and_a_late_arrival_of_an_evicted_one_is_a_new_row() {
    let mut s = session();
    s.receive(0, (1..=COMPARE_CAP as i64 + 5).map(|k| rec("edge", k, 0.0, 0.0)));
    let u = s.update(0.0);
    assert_eq!(u.rows, COMPARE_CAP as u64);
    assert_eq!(u.lines[0].origin_id, COMPARE_CAP as i64 + 5);
    s.receive(1, [rec("edge", 6, 0.0, 1.0), rec("edge", 3, 0.0, 1.0)]);
    let u = s.update(1.0);
    assert_eq!(u.rows, COMPARE_CAP as u64, "3 was evicted: a new row, and the oldest leaves");
    assert_eq!(u.lines[0].origin_id, 3);
    s.set_port(COMPARE_CAP as u32 - 1, 5);
    let u = s.update(1.0);
    assert_eq!(u.lines.iter().map(|l| l.origin_id).collect::<Vec<_>>(), vec![7]);
    assert_eq!(u.lines[0].presence[0], Presence::Arrived { delay_ms: 0.0 });
}

#[test]
fn each_node_says_its_connection_and_last_notice() {
    let mut s = session();
    s.receive(0, [TailEvent::Live]);
    s.receive(1, [TailEvent::Refused { channel: "dev:sensor".into(), reason: "no such table".into() }]);
    s.stopped(1);
    let u = s.update(0.0);
    assert_eq!(u.nodes[0].connection, Connection::Live);
    assert_eq!((u.nodes[1].connection, u.nodes[1].notice.as_deref()), (Connection::Idle, Some("no such table")));
    s.receive(7, [TailEvent::Live]);
    assert_eq!(s.update(0.0).nodes.len(), 2);
}
