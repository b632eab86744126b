//! A raw SocketCluster client for tests: frames in and out, every wait bounded.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

use super::TestNode;

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(n: &TestNode) -> Ws {
    let url = format!("{}/socketcluster/", n.url().replace("http://", "ws://"));
    connect_async(url).await.expect("websocket connects").0
}

pub async fn send(ws: &mut Ws, v: Value) {
    send_text(ws, &v.to_string()).await;
}

/// A frame as written, for what a `Value` cannot hold (a name given twice).
pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// The next SocketCluster frame that is not a ping (bounded: 5 s).
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s").expect("open").expect("frame");
        match msg {
            Message::Text(t) if t.is_empty() => continue,
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON frame"),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The next frame, or None when nothing but pings arrives within `wait`.
pub async fn recv_within(ws: &mut Ws, wait: Duration) -> Option<Value> {
    tokio::time::timeout(wait, recv(ws)).await.ok()
}

/// Waits for the server to close, returning the code (bounded: 30 s).
pub async fn closed_with(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await.expect("closed within 30 s") {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) | None => return 0,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("error instead of a close: {e}"),
        }
    }
}

pub async fn handshaken(n: &TestNode, token: Option<&str>) -> (Ws, Value) {
    let mut ws = connect(n).await;
    send(&mut ws, json!({"event": "#handshake", "data": {"authToken": token}, "cid": 1})).await;
    let r = recv(&mut ws).await;
    (ws, r)
}

/// A handshaken socket logged in as `user` (its `#setAuthToken` consumed).
pub async fn logged_in_as(n: &TestNode, user: &str, password: &str) -> Ws {
    let (mut ws, _) = handshaken(n, None).await;
    send(&mut ws, json!({"event": "login", "data": {"username": user, "password": password}, "cid": 2})).await;
    assert_eq!(recv(&mut ws).await, json!({"rid": 2, "data": {"username": user}}));
    let set = recv(&mut ws).await;
    assert_eq!(set["event"], "#setAuthToken");
    ws
}

/// A socket that speaks for the peer node `name`: logged in as the admin, its `sy:hello`
/// answered by the node (`test-node`).
pub async fn peer_as(n: &TestNode, name: &str) -> Ws {
    let mut ws = logged_in_as(n, crate::common::ADMIN, crate::common::PASSWORD).await;
    send(&mut ws, json!({"event": "sy:hello", "data": {"node_name": name}, "cid": 3})).await;
    assert_eq!(recv(&mut ws).await["data"]["node_name"], "test-node");
    ws
}
