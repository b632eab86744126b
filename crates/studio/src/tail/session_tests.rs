//! The tail session's tests: ring, pause buffer, filters, ports and notices.

use serde_json::Value;

use super::*;
use crate::tail::TailSource;

fn rec(id: i64, channel: &str, operation: &str, data: Value) -> TailEvent {
    TailEvent::Record(TailRecord {
        id,
        channel: channel.into(),
        origin: "edge-1".into(),
        origin_id: id,
        operation: operation.into(),
        user: None,
        ts: 1000.0 + id as f64,
        arrived: 2000.0 + id as f64,
        source: TailSource::Live,
        data: serde_json::value::to_raw_value(&data).expect("json"),
    })
}

fn dog(id: i64) -> TailEvent {
    rec(id, "dev:dog", "insert", serde_json::json!([{ "id": id, "name": format!("dog {id}") }]))
}

fn session() -> TailSession {
    let mut s = TailSession::new(vec![("dev:dog".into(), "id".into())], crate::tail::OPERATIONS);
    s.set_port(TailPort { order: Order::Newest, first: 0, count: 10 });
    s
}

fn ids(u: &TailUpdate) -> Vec<i64> {
    u.lines.iter().map(|l| l.id).collect()
}

#[test]
fn the_port_answers_its_rows_in_either_order() {
    let mut s = session();
    s.receive((1..=30).map(dog), 0.0);
    let u = s.update();
    assert_eq!((u.received, u.rows, u.shown, u.held), (30, 30, 30, 30));
    assert_eq!(ids(&u), (21..=30).rev().collect::<Vec<_>>());
    s.set_port(TailPort { order: Order::Oldest, first: 25, count: 10 });
    assert_eq!(ids(&s.update()), vec![26, 27, 28, 29, 30]);
    s.set_port(TailPort { order: Order::Newest, first: 40, count: 10 });
    assert!(s.update().lines.is_empty());
}

#[test]
fn a_line_shows_its_keys_preview_and_origin() {
    let mut s = session();
    let batch: Vec<Value> = (1..=12).map(|k| serde_json::json!({ "id": k, "name": "x".repeat(20) })).collect();
    s.receive([rec(7, "dev:dog", "upsert", Value::Array(batch)), rec(8, "dev:dog", "delete", serde_json::json!(["a", 2]))], 0.0);
    let u = s.update();
    assert_eq!(u.held, 14);
    let (delete, batch) = (&u.lines[0], &u.lines[1]);
    assert_eq!((delete.keys.as_str(), delete.count, delete.all_keys.as_deref()), ("a, 2", 2, None));
    assert_eq!(batch.keys, "1, 2, 3, 4, 5, 6, 7, 8 …");
    assert_eq!(batch.all_keys.as_deref(), Some("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"));
    assert_eq!(batch.preview.chars().count(), PREVIEW_CHARS + 1);
    assert!(batch.preview.ends_with('…') && batch.preview.starts_with(r#"[{"id":1,"#), "{}", batch.preview);
    assert_eq!((batch.origin.as_str(), batch.origin_id), ("edge-1", 7));
}

#[test]
fn the_ring_keeps_at_most_its_cap_of_records() {
    let mut s = session();
    let hundred = |id: i64| rec(id, "dev:dog", "insert", Value::Array((0..100).map(|k| serde_json::json!({ "id": id * 1000 + k })).collect()));
    s.receive((1..=600).map(hundred), 0.0);
    let u = s.update();
    assert_eq!((u.rows, u.held, u.received), (500, SHOWN_CAP, 600));
    assert_eq!(u.lines.last().map(|l| l.id), Some(591));
    s.set_port(TailPort { order: Order::Oldest, first: 0, count: 1 });
    assert_eq!(ids(&s.update()), vec![101]);
}

#[test]
fn pausing_buffers_below_the_cap_and_counts_exactly_what_it_dropped() {
    let mut s = session();
    s.receive((1..=5).map(dog), 0.0);
    s.pause();
    s.receive((6..=10).map(dog), 0.0);
    let u = s.update();
    assert_eq!((u.shown, u.buffered, u.paused, u.dropped), (5, 5, true, None));
    s.resume();
    let u = s.update();
    assert_eq!((u.shown, u.buffered, u.paused), (10, 0, false));
    assert!(u.notices.is_empty());

    s.pause();
    let big = |id: i64| rec(id, "dev:dog", "insert", Value::Array((0..1000).map(|k| serde_json::json!({ "id": k })).collect()));
    s.receive((11..=112).map(big), 0.0);
    let u = s.update();
    assert_eq!(u.buffered, PAUSE_CAP);
    let dropped = u.dropped.expect("dropped");
    assert_eq!((dropped.count, dropped.first_id, dropped.last_id, dropped.first_ts, dropped.last_ts), (2, 111, 112, 2111.0, 2112.0));
    s.resume();
    let u = s.update();
    assert_eq!(u.notices, vec![TailNotice::Dropped { dropped, cap: PAUSE_CAP }]);
    assert_eq!(u.received, 112);
}

#[test]
fn a_filter_applies_to_what_is_held_and_to_arrivals_and_hides_nothing_of_the_counts() {
    let mut s = session();
    s.receive((1..=10).map(dog), 0.0);
    s.receive([rec(11, "dev:cat", "delete", serde_json::json!([5]))], 0.0);
    s.set_filter(TailFilter { key: "1".into(), ..Default::default() });
    let u = s.update();
    assert_eq!((u.shown, u.rows), (2, 11));
    assert_eq!(ids(&u), vec![10, 1]);
    s.receive((12..=13).map(dog), 0.0);
    assert_eq!(ids(&s.update()), vec![13, 12, 10, 1]);
    s.set_filter(TailFilter { text: "DOG 1".into(), operation: "insert".into(), ..Default::default() });
    assert_eq!(ids(&s.update()), vec![13, 12, 10, 1]);
    s.set_filter(TailFilter { channel: "dev:cat".into(), ..Default::default() });
    let u = s.update();
    assert_eq!((ids(&u), u.shown, u.rows), (vec![11], 1, 13));
    s.set_filter(TailFilter::default());
    assert_eq!(s.update().shown, 13);
}

#[test]
fn a_filtered_list_follows_the_ring_as_it_turns() {
    let mut s = session();
    s.set_filter(TailFilter { operation: "delete".into(), ..Default::default() });
    let big = |id: i64, op: &str| rec(id, "dev:dog", op, Value::Array((0..10_000).map(|k| serde_json::json!(k)).collect()));
    s.receive([big(1, "delete"), big(2, "insert"), big(3, "delete"), big(4, "insert"), big(5, "insert"), big(6, "delete")], 0.0);
    let u = s.update();
    assert_eq!((u.rows, u.shown), (5, 2));
    assert_eq!(ids(&u), vec![6, 3]);
}

#[test]
fn events_become_notices_and_the_connection_state() {
    let mut s = session();
    assert_eq!(s.update().connection, Connection::Opening);
    s.receive([TailEvent::Live], 0.0);
    assert_eq!(s.update().connection, Connection::Live);
    s.receive([TailEvent::Reconnecting { error: "closed".into(), retry_in_ms: 500 }, TailEvent::Healed { channel: "dev:dog".into(), count: 1200 }], 0.0);
    s.receive([TailEvent::Gap { channel: "dev:dog".into(), after: 4, before: Some(9), reason: "pruned".into() }, TailEvent::NotExported { channel: "dev:cat".into() }], 0.0);
    let u = s.update();
    assert_eq!(u.connection, Connection::Reconnecting);
    let said: Vec<String> = u.notices.iter().map(|n| match n { TailNotice::Said { text } => text.clone(), other => format!("{other:?}") }).collect();
    assert_eq!(said, vec![
        "dev:dog: 1,200 transactions missed while disconnected were read from the log".to_string(),
        "dev:dog: transactions after #4 and before #9 are missing — pruned".to_string(),
        "dev:cat: HarperDB publishes nothing of this table until a component exports it".to_string(),
    ]);
    assert_eq!(u.not_exported, vec!["dev:cat".to_string()]);
    s.receive([TailEvent::Failed { reason: "bad password".into() }], 0.0);
    s.stopped();
    assert_eq!(s.update().connection, Connection::Failed);
    s.dismiss_notices();
    assert!(s.update().notices.is_empty());
}

#[test]
fn a_reconnect_retires_its_attempts_and_says_where_it_resumed_and_what_it_missed() {
    let mut s = session();
    s.receive([TailEvent::Live], 0.0);
    s.receive((1..=3).map(dog), 1_000.0);
    s.receive([TailEvent::Reconnecting { error: "cannot reach".into(), retry_in_ms: 500 }], 2_000.0);
    s.receive([TailEvent::Reconnecting { error: "cannot reach".into(), retry_in_ms: 1000 }], 2_500.0);
    assert_eq!(s.update().notices.len(), 2, "each attempt is said while it lasts");
    s.receive([TailEvent::Live], 5_000.0);
    let u = s.update();
    assert_eq!(u.connection, Connection::Live);
    assert_eq!(u.notices, vec![TailNotice::Reconnected { away_ms: 3_000.0, resumed_after: Some(3), healed: 0, gap: false }], "the stale attempts are gone");
    // Away again; this time what it missed is read from the log, and some of it is lost.
    s.receive([TailEvent::Reconnecting { error: "closed".into(), retry_in_ms: 500 }], 6_000.0);
    s.receive([TailEvent::Live, TailEvent::Healed { channel: "dev:dog".into(), count: 40 }], 6_500.0);
    s.receive([TailEvent::Gap { channel: "dev:dog".into(), after: 43, before: None, reason: "too many".into() }], 6_600.0);
    let u = s.update();
    assert!(matches!(&u.notices[1], TailNotice::Reconnected { healed: 40, gap: true, resumed_after: Some(3), .. }), "{:?}", u.notices);
    assert!(matches!(&u.notices[2], TailNotice::Said { text } if text.contains("after #43")), "the gap is said: {:?}", u.notices);
    assert!(!u.notices.iter().any(|n| matches!(n, TailNotice::Reconnecting { .. })));
}

#[test]
fn the_rate_counts_records_per_second_and_falls_to_zero() {
    let mut s = session();
    s.receive((1..=3).map(dog), 10_000.0);
    s.receive((4..=5).map(dog), 10_500.0);
    s.receive((6..=6).map(dog), 11_200.0);
    let u = s.update();
    assert_eq!(u.rate[RATE_SECONDS - 2..], [5, 1]);
    assert!(!s.changed());
    assert!(s.tick(12_000.0));
    assert_eq!(s.update().rate[RATE_SECONDS - 3..], [5, 1, 0]);
    assert!(!s.tick(12_500.0));
    assert!(s.tick(200_000.0));
    assert!(s.update().rate.iter().all(|&r| r == 0));
}

#[test]
fn a_record_is_read_back_by_its_seq_while_held_and_clear_forgets_all() {
    let mut s = session();
    s.receive((1..=3).map(dog), 0.0);
    let seq = s.update().lines[0].seq;
    assert_eq!(s.record(seq).map(|r| r.id), Some(3));
    assert_eq!(s.exported().iter().map(|r| r.record().id).collect::<Vec<_>>(), vec![1, 2, 3]);
    s.clear();
    let u = s.update();
    assert_eq!((u.rows, u.shown, u.received, u.lines.len()), (0, 0, 0, 0));
    assert!(s.record(seq).is_none());
    assert!(u.version > 1);
}
