//! The SocketCluster endpoint frame by frame: handshake rules and close codes, ping/pong,
//! batches, tokens, permissions, unknown procedures, and publications of committed writes.


use std::time::Duration;

use crate::common::ws::{closed_with, connect, handshaken, logged_in_as, recv, send, Ws};
use crate::common::{TestNode, ADMIN, PASSWORD};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn logged_in(n: &TestNode) -> Ws {
    logged_in_as(n, ADMIN, PASSWORD).await
}

#[tokio::test]
async fn handshake_rules_and_close_codes() {
    let n = TestNode::start().await;
    let (_ws, r) = handshaken(&n, None).await;
    assert_eq!(r["rid"], 1);
    assert_eq!(r["data"]["pingTimeout"], 20000);
    assert_eq!(r["data"]["isAuthenticated"], false);
    assert!(r["data"].get("authError").is_none(), "no authError without a token: {r}");
    assert!(r["data"]["id"].as_str().is_some_and(|id| !id.is_empty()));

    let mut ws = connect(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:dog"}, "cid": 1})).await;
    assert_eq!(closed_with(&mut ws).await, 4009, "a message before the handshake");

    let mut ws = connect(&n).await;
    ws.send(Message::Text("".into())).await.unwrap();
    assert_eq!(closed_with(&mut ws).await, 4009, "a pong before the handshake");

    let mut ws = connect(&n).await;
    send(&mut ws, json!({"event": "#handshake", "data": {"authToken": null}, "cid": "1"})).await;
    assert_eq!(closed_with(&mut ws).await, 4008, "a handshake without a numeric cid");

    // A JS client keeps counting cids across reconnects: any number is fine.
    let mut ws = connect(&n).await;
    send(&mut ws, json!({"event": "#handshake", "data": {"authToken": null}, "cid": 4})).await;
    assert_eq!(recv(&mut ws).await["rid"], 4);
}

#[tokio::test]
async fn tokens_from_login_work_in_handshake_and_authenticate() {
    let n = TestNode::start().await;
    let (mut ws, _) = handshaken(&n, None).await;
    send(&mut ws, json!({"event": "login", "data": {"username": ADMIN, "password": "wrong"}, "cid": 2})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 2, "error": {"name": "LoginError", "message": "Invalid username or password"}}));
    send(&mut ws, json!({"event": "login", "data": {"username": ADMIN, "password": PASSWORD}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await["rid"], 3, "the login answer comes before #setAuthToken");
    let token = recv(&mut ws).await["data"]["token"].as_str().unwrap().to_string();

    // The token is an operation token: the Operations API accepts it too.
    let bearer = n.client.with_credentials(switchyard_client::Credentials::Bearer(token.clone()));
    assert_eq!(bearer.call(&json!({"operation": "user_info"})).await.unwrap()["username"], ADMIN);

    let (_ws2, r) = handshaken(&n, Some(&token)).await;
    assert_eq!(r["data"]["isAuthenticated"], true);
    let (mut ws3, r) = handshaken(&n, Some("not.a.jwt")).await;
    assert_eq!(r["data"]["isAuthenticated"], false);
    assert_eq!(r["data"]["authError"]["name"], "AuthTokenInvalidError");
    assert_eq!(recv(&mut ws3).await, json!({"event": "#removeAuthToken"}));

    send(&mut ws3, json!({"event": "#authenticate", "data": token, "cid": 2})).await;
    assert_eq!(recv(&mut ws3).await, json!({"rid": 2, "data": {"isAuthenticated": true, "authError": null}}));
    send(&mut ws3, json!({"event": "#authenticate", "data": "garbage", "cid": 3})).await;
    assert_eq!(recv(&mut ws3).await["error"]["name"], "AuthTokenInvalidError");
    assert_eq!(recv(&mut ws3).await, json!({"event": "#removeAuthToken"}));
}

#[tokio::test]
async fn subscriptions_follow_permissions_and_carry_committed_transactions() {
    let n = TestNode::start().await;
    n.table("dog").await;
    n.table("secret").await;
    n.ok(json!({"operation": "add_role", "role": "watcher", "permission": {"dev": {"tables": {"dog": {"read": true}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "watcher", "username": "w", "password": "wpw"})).await;

    let (mut ws, _) = handshaken(&n, None).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:dog"}, "cid": 2})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 2, "error": {"name": "SubscribeAuthError", "message": "You must be logged in to subscribe to dev:dog"}}));
    send(&mut ws, json!({"event": "login", "data": {"username": "w", "password": "wpw"}, "cid": 3})).await;
    recv(&mut ws).await;
    recv(&mut ws).await;
    // A batch: subscribe to a readable channel, a forbidden one, a malformed one, a missing table.
    ws.send(Message::Text(json!([
        {"event": "#subscribe", "data": {"channel": "dev:dog"}, "cid": 4},
        {"event": "#subscribe", "data": {"channel": "dev:secret"}, "cid": 5},
        {"event": "#subscribe", "data": "dev:dog", "cid": 6},
        {"event": "#subscribe", "data": {"channel": "dev:nope"}, "cid": 7},
    ]).to_string().into())).await.unwrap();
    assert_eq!(recv(&mut ws).await, json!({"rid": 4}));
    assert_eq!(recv(&mut ws).await["error"]["name"], "SubscribeAuthError");
    assert_eq!(recv(&mut ws).await["error"]["message"], "Subscribe channel name was malformatted");
    // No permission on it: refused like an existing forbidden table (existence is not told).
    assert_eq!(recv(&mut ws).await["error"]["message"], "user 'w' needs read permission on dev.nope");
    // The watcher may not publish.
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:dog", "data": {"id": 9}}, "cid": 8})).await;
    assert_eq!(recv(&mut ws).await["error"]["name"], "PublishAuthError");

    n.ok(json!({"operation": "insert", "database": "dev", "table": "secret", "records": [{"id": 1}]})).await;
    n.ok(json!({"operation": "insert", "database": "dev", "table": "dog", "records": [{"id": 1, "name": "Penny"}]})).await;
    let p = recv(&mut ws).await;
    assert_eq!(p["event"], "#publish", "only the subscribed channel arrives: {p}");
    assert_eq!(p["data"]["channel"], "dev:dog");
    assert_eq!(p["data"]["data"]["records"][0]["name"], "Penny");
    assert!(p.get("cid").is_none(), "publications are transmits");

    // Unsubscribe as a transmit (the JS client's form), then with a cid for a channel not held.
    send(&mut ws, json!({"event": "#unsubscribe", "data": "dev:dog"})).await;
    send(&mut ws, json!({"event": "#unsubscribe", "data": "dev:dog", "cid": 9})).await;
    assert_eq!(recv(&mut ws).await["error"]["name"], "BrokerError");
    n.ok(json!({"operation": "insert", "database": "dev", "table": "dog", "records": [{"id": 2}]})).await;
    send(&mut ws, json!({"event": "noSuchProcedure", "data": 1, "cid": 10})).await;
    let r = recv(&mut ws).await;
    assert_eq!(r, json!({"rid": 10, "error": {"name": "InvalidActionError", "message": "Unknown procedure 'noSuchProcedure'"}}), "nothing from dev:dog after unsubscribing");
}

#[tokio::test]
async fn removing_the_token_kicks_out_of_channels_and_shutdown_closes_sockets() {
    let mut n = TestNode::start().await;
    n.table("dog").await;
    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:dog"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    send(&mut ws, json!({"event": "#removeAuthToken"})).await;
    assert_eq!(recv(&mut ws).await, json!({"event": "#kickOut", "data": {"channel": "dev:dog", "message": "authentication was removed"}}));
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:dog", "data": {"id": 1}}, "cid": 4})).await;
    assert_eq!(recv(&mut ws).await["error"]["name"], "PublishAuthError");

    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:dog", "data": [{"id": 5}, {"id": 5}]}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3, "data": {"inserted_hashes": [5], "skipped_hashes": [5]}}));
    send(&mut ws, json!({"event": "#publish", "data": {"channel": "dev:dog", "data": "not a record"}, "cid": 4})).await;
    assert_eq!(recv(&mut ws).await["error"]["name"], "InvalidActionError");
    n.running.take().unwrap().stop().await;
    assert_eq!(closed_with(&mut ws).await, 1001, "a stopping node closes its sockets with 1001");
    n.restart().await;
    assert_eq!(n.count("dog").await, 1);
}

#[tokio::test]
async fn silent_clients_are_closed_after_the_ping_timeout() {
    // SocketCluster's 20 s by default (the handshake test); 2 s here, told in the handshake.
    let n = TestNode::launch_with("test-node", |c| c.socket_ping_timeout = Duration::from_secs(2)).await;
    let started = std::time::Instant::now();
    let (mut ws, r) = handshaken(&n, None).await;
    assert_eq!(r["data"]["pingTimeout"], 2000, "{r}");
    // Never answer the '' pings: the server closes with 4001 once pingTimeout has passed.
    assert_eq!(closed_with_pings_unanswered(&mut ws).await, 4001);
    assert!(started.elapsed() >= Duration::from_secs(2), "not before the advertised timeout");
}

async fn closed_with_pings_unanswered(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(40), ws.next()).await.expect("closed within 40 s") {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Log ids of a channel's entries on `n`, in order.
async fn log_ids(n: &TestNode, channel: &str) -> Vec<i64> {
    let store = &n.running.as_ref().unwrap().node.store;
    let (mut ids, mut after) = (Vec::new(), 0);
    // Page by page (a page stops at about a megabyte); bounded by the log's size.
    for _ in 0..10_000 {
        let page = store.log_committed_after(channel, after, 100_000).await.unwrap();
        if page.upto == after {
            return ids;
        }
        after = page.upto;
        ids.extend(page.entries.iter().map(|e| serde_json::from_str::<serde_json::Value>(e).unwrap()["id"].as_i64().unwrap()));
    }
    panic!("the log of {channel} did not end within 10,000 pages");
}

/// Publications on `ws` until `want` ids arrived (bounded by `recv`'s 5 s per frame).
async fn publication_ids(ws: &mut Ws, want: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    while ids.len() < want {
        let f = recv(ws).await;
        if f["event"] == "#publish" {
            ids.push(f["data"]["data"]["id"].as_i64().expect("an entry id"));
        }
    }
    ids
}

#[tokio::test]
async fn subscribe_from_a_position_sends_the_log_after_it_then_live_with_no_gap_or_duplicate() {
    let n = TestNode::start().await;
    n.table("r").await;
    for i in 0..5 {
        n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": i}]})).await;
    }
    let ids = log_ids(&n, "dev:r").await;
    assert_eq!(ids.len(), 5);
    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": ids[1]}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    assert_eq!(publication_ids(&mut ws, 3).await, ids[2..].to_vec(), "the log after `from`");
    n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": 5}]})).await;
    let live = publication_ids(&mut ws, 1).await;
    assert_eq!(live, log_ids(&n, "dev:r").await[5..].to_vec(), "then live");

    // The seam under load: a writer keeps committing while a second socket resumes.
    let writer = {
        let c = n.client.clone();
        tokio::spawn(async move {
            for i in 100..400 {
                c.call(&json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": i}]})).await.unwrap();
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let from = *log_ids(&n, "dev:r").await.last().unwrap();
    let mut second = logged_in(&n).await;
    send(&mut second, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": from}, "cid": 3})).await;
    assert_eq!(recv(&mut second).await, json!({"rid": 3}));
    writer.await.unwrap();
    let expected: Vec<i64> = log_ids(&n, "dev:r").await.into_iter().filter(|id| *id > from).collect();
    assert!(!expected.is_empty());
    assert_eq!(publication_ids(&mut second, expected.len()).await, expected, "every entry after `from` once, in order");
    assert_eq!(crate::common::ws::recv_within(&mut second, Duration::from_millis(300)).await, None, "and nothing twice");
}

/// A long resume is still being written when live entries commit: none of them may overtake
/// the log's (a subscriber keeps its position by the last id it got, so one that came early
/// would make it drop everything it overtook as already seen). The resumed entries are large
/// (8 KiB) and the client reads only once the live writer is done, so the resume stalls on the
/// socket while live entries queue up behind it: the race is there to lose in every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_entries_never_overtake_a_resume_still_being_written() {
    let n = TestNode::start().await;
    n.table("r").await;
    let write = |from: i64, count: i64, pad: usize| {
        let c = n.client.clone();
        tokio::spawn(async move {
            for i in from..from + count {
                c.call(&json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": i, "pad": "x".repeat(pad)}]})).await.unwrap();
            }
        })
    };
    for round in 0..2 {
        let from = log_ids(&n, "dev:r").await.last().copied().unwrap_or(0);
        let earlier: Vec<_> = (0..6).map(|w| write(round * 100_000 + w * 1000, 250, 8192)).collect();
        for w in earlier {
            w.await.unwrap();
        }
        let live = write(round * 100_000 + 10_000, 300, 0);
        let mut ws = logged_in(&n).await;
        send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": from}, "cid": 3})).await;
        assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
        live.await.unwrap();
        let expected: Vec<i64> = log_ids(&n, "dev:r").await.into_iter().filter(|id| *id > from).collect();
        assert_eq!(expected.len(), 1800, "round {round}: entries after #{from}");
        let got = publication_ids(&mut ws, expected.len()).await;
        let first_out_of_order = got.windows(2).position(|w| w[1] <= w[0]);
        let around = first_out_of_order.map(|i| &got[i.saturating_sub(2)..(i + 3).min(got.len())]);
        assert_eq!(first_out_of_order, None, "round {round}, in log order: {around:?}");
        assert_eq!(got, expected, "round {round}: every entry after `from` once");
    }
}

#[tokio::test]
async fn a_subscriber_resumes_across_a_restart_of_the_node() {
    let mut n = TestNode::start().await;
    n.table("r").await;
    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r"}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": 1}]})).await;
    let seen = publication_ids(&mut ws, 1).await[0];
    drop(ws);
    n.restart().await;
    for i in 2..5 {
        n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": i}]})).await;
    }
    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": seen}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 3}));
    let ids = log_ids(&n, "dev:r").await;
    assert_eq!(publication_ids(&mut ws, 3).await, ids[1..].to_vec(), "what was written while away, once each");
}

#[tokio::test]
async fn subscribe_from_refuses_a_bad_position_and_a_backlog_too_long_to_replay() {
    let n = TestNode::start().await;
    n.table("r").await;
    let mut writers = Vec::new();
    for w in 0..8 {
        let c = n.client.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..263 {
                c.call(&json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": w * 1000 + i}]})).await.unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut ws = logged_in(&n).await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": -1}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await["error"]["name"], "InvalidActionError");
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": 0}, "cid": 4})).await;
    let r = recv(&mut ws).await;
    assert_eq!(r["error"]["name"], "ResumeTooFarError", "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("read_transaction_log"), "{r}");
    // From near the head it works.
    let ids = log_ids(&n, "dev:r").await;
    send(&mut ws, json!({"event": "#subscribe", "data": {"channel": "dev:r", "from": ids[ids.len() - 3]}, "cid": 5})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 5}));
    assert_eq!(publication_ids(&mut ws, 2).await, ids[ids.len() - 2..].to_vec());
}

#[tokio::test]
async fn read_transaction_log_reads_by_id_or_time_and_needs_read_permission() {
    let n = TestNode::start().await;
    n.table("r").await;
    for i in 0..5 {
        n.ok(json!({"operation": "insert", "database": "dev", "table": "r", "records": [{"id": i}]})).await;
    }
    n.ok(json!({"operation": "delete", "database": "dev", "table": "r", "ids": [0]})).await;
    let ids = log_ids(&n, "dev:r").await;
    let all = n.ok(json!({"operation": "read_transaction_log", "schema": "dev", "table": "r"})).await;
    let got: Vec<i64> = all.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(got, ids);
    assert_eq!(all[5]["operation"], "delete");
    assert_eq!(all[5]["ids"], json!([0]));
    assert_eq!(all[0]["records"][0]["id"], 0);
    // By id: after `from`, up to `to`, at most `limit`.
    let page = n.ok(json!({"operation": "read_transaction_log", "database": "dev", "table": "r", "from": ids[1], "to": ids[4], "limit": 2})).await;
    assert_eq!(page.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[2..4].to_vec());
    // By time.
    let t2 = all[2]["ts"].as_f64().unwrap();
    let since = n.ok(json!({"operation": "read_transaction_log", "database": "dev", "table": "r", "search_type": "timestamp", "from": t2})).await;
    assert_eq!(since.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[2..].to_vec());
    for bad in [json!({"limit": 0}), json!({"limit": 10_001}), json!({"from": -1}), json!({"from": 1.5}), json!({"search_type": "lsn"})] {
        let mut op = json!({"operation": "read_transaction_log", "database": "dev", "table": "r"});
        op.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        n.fails(op, 400).await;
    }
    n.fails(json!({"operation": "read_transaction_log", "database": "dev", "table": "missing"}), 404).await;
    // Permission-checked like a read.
    n.ok(json!({"operation": "add_role", "role": "none", "permission": {"dev": {"tables": {"r": {"read": false, "insert": true, "update": false, "delete": false}}}}})).await;
    n.ok(json!({"operation": "add_user", "role": "none", "username": "blind", "password": "pw", "active": true})).await;
    let r = n.as_user("blind", "pw").send(&json!({"operation": "read_transaction_log", "database": "dev", "table": "r"})).await.unwrap();
    assert_eq!(r.status, 403, "{}", r.text);
}
