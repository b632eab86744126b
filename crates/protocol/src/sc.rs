//! SocketCluster v2 frames and the replication frames Switchyard carries on them, with their one
//! codec: `decode` reads a text frame, `event`/`invoke`/`response` write one. Field names are the
//! wire's (`authToken`, `pingTimeout`, `cid`, `rid`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Event and procedure names.
pub mod name {
    pub const HANDSHAKE: &str = "#handshake";
    pub const AUTHENTICATE: &str = "#authenticate";
    pub const SET_AUTH_TOKEN: &str = "#setAuthToken";
    pub const REMOVE_AUTH_TOKEN: &str = "#removeAuthToken";
    pub const SUBSCRIBE: &str = "#subscribe";
    pub const UNSUBSCRIBE: &str = "#unsubscribe";
    pub const PUBLISH: &str = "#publish";
    pub const KICK_OUT: &str = "#kickOut";
    pub const LOGIN: &str = "login";
    /// Replication: a peer introduces itself.
    pub const HELLO: &str = "sy:hello";
    /// Replication: stream me your log on a channel after a position.
    pub const PULL: &str = "sy:pull";
    /// Replication: I will stream you my log on a channel; where do you stand?
    pub const OFFER: &str = "sy:offer";
    /// Replication: a batch of log entries.
    pub const TXNS: &str = "sy:txns";
    /// Replication: applied up to a position.
    pub const ACK: &str = "sy:ack";
    /// Replication: a batch did not continue from where the receiver stands; resend from there.
    pub const GAP: &str = "sy:gap";
    /// Replication: a latency probe, answered empty.
    pub const PING: &str = "sy:ping";
}

/// Close codes (reference §11), and Switchyard's own in the 4100s.
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PONG_TIMEOUT: u16 = 4001;
    pub const HANDSHAKE_TIMEOUT: u16 = 4005;
    pub const HANDSHAKE_REJECTED: u16 = 4008;
    pub const BEFORE_HANDSHAKE: u16 = 4009;
    /// The subscriber fell behind the commit feed; it may reconnect (and resume with `from`).
    pub const FELL_BEHIND: u16 = 4100;
    /// A socket that handshook but did not log in (or lost its login) within the node's time.
    pub const LOGIN_TIMEOUT: u16 = 4101;
    /// The node refused a batch the peer pushed (the reason says why); the peer may reconnect
    /// and send again from the node's position once it is allowed.
    pub const REFUSED: u16 = 4102;
}

/// What one text frame holds.
#[derive(Debug)]
pub enum Frame {
    /// `""`: the server's ping, or the client's pong.
    Ping,
    /// One packet or a batch of packets.
    Packets(Vec<Packet>),
}

/// One packet: an event (with `cid` when it is an invoke) or the response to an invoke.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged, try_from = "AnyPacket")]
pub enum Packet {
    Event(Event),
    Response(Response),
}

/// Every field a packet may have; read in one pass (raw data cannot go through serde's
/// buffered untagged enums), then sorted into `Packet`.
#[derive(Deserialize)]
struct AnyPacket {
    event: Option<String>,
    data: Option<Box<RawValue>>,
    cid: Option<i64>,
    rid: Option<i64>,
    error: Option<ScError>,
}

impl TryFrom<AnyPacket> for Packet {
    type Error = DecodeError;
    fn try_from(p: AnyPacket) -> Result<Self, DecodeError> {
        match (p.event, p.rid) {
            (Some(event), _) => Ok(Packet::Event(Event { event, data: p.data, cid: p.cid })),
            (None, Some(rid)) => Ok(Packet::Response(Response { rid, data: p.data, error: p.error })),
            (None, None) => Err(DecodeError("a packet has neither 'event' nor 'rid'".into())),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<i64>,
}

impl Event {
    /// The event's data as `T`; a missing `data` reads as JSON `null`.
    pub fn data<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DecodeError> {
        let text = self.data.as_deref().map(RawValue::get).unwrap_or("null");
        serde_json::from_str(text).map_err(|e| DecodeError(format!("{} data: {e}", self.event)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub rid: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ScError>,
}

impl Response {
    pub fn data<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DecodeError> {
        let text = self.data.as_deref().map(RawValue::get).unwrap_or("null");
        serde_json::from_str(text).map_err(|e| DecodeError(format!("response {}: {e}", self.rid)))
    }
}

/// An error as SocketCluster sends it: a name to branch on and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScError {
    pub name: String,
    pub message: String,
    /// Set on auth-token errors: the client should forget its token.
    #[serde(rename = "isBadToken", default, skip_serializing_if = "std::ops::Not::not")]
    pub is_bad_token: bool,
}

impl ScError {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        ScError { name: name.to_string(), message: message.into(), is_bad_token: false }
    }

    /// An auth token that the client should forget.
    pub fn bad_token(name: &str, message: impl Into<String>) -> Self {
        ScError { is_bad_token: true, ..ScError::new(name, message) }
    }
}

impl std::fmt::Display for ScError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// A frame that is neither a ping nor packets, or data that is not the expected shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed SocketCluster frame: {0}")]
pub struct DecodeError(pub String);

/// Reads one text frame.
pub fn decode(text: &str) -> Result<Frame, DecodeError> {
    if text.is_empty() {
        return Ok(Frame::Ping);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).map(Frame::Packets).map_err(|e| DecodeError(e.to_string()));
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map(|p| Frame::Packets(vec![p])).map_err(|e| DecodeError(e.to_string()));
    }
    Err(DecodeError(format!("neither a ping nor JSON packets: {:.40}", text)))
}

#[derive(Serialize)]
struct EventOut<'a, T: Serialize> {
    event: &'a str,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    cid: Option<i64>,
}

#[derive(Serialize)]
struct ResponseOut<'a, T: Serialize> {
    rid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ScError>,
}

fn text(v: &impl Serialize) -> String {
    // Serializing these structs (strings, numbers, maps with string keys) cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// An event frame with no answer expected.
pub fn event<T: Serialize>(event: &str, data: &T) -> String {
    text(&EventOut { event, data, cid: None })
}

/// An event without data (`#removeAuthToken`), as SocketCluster sends it.
pub fn signal(event: &str) -> String {
    #[derive(Serialize)]
    struct Signal<'a> {
        event: &'a str,
    }
    text(&Signal { event })
}

/// An invoke: an event with the `cid` its response will carry as `rid`.
pub fn invoke<T: Serialize>(event: &str, data: &T, cid: i64) -> String {
    text(&EventOut { event, data, cid: Some(cid) })
}

/// A successful response; `None` data is left out, as SocketCluster does.
pub fn response<T: Serialize>(rid: i64, data: Option<&T>) -> String {
    text(&ResponseOut { rid, data, error: None })
}

/// A refused invoke.
pub fn failure(rid: i64, error: &ScError) -> String {
    text(&ResponseOut::<()> { rid, data: None, error: Some(error) })
}

// ---- SocketCluster payloads ------------------------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    pub auth_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeReply {
    pub id: String,
    /// Milliseconds without a pong after which the server closes the socket.
    pub ping_timeout: u64,
    pub is_authenticated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_error: Option<ScError>,
}

/// `#authenticate`'s answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticateReply {
    pub is_authenticated: bool,
    pub auth_error: Option<ScError>,
}

/// `login`'s answer (the token follows in `#setAuthToken`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginReply {
    pub username: String,
}

/// `#publish`'s answer: the keys written (under the name of the write's kind, as the
/// Operations API answers) and those skipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inserted_hashes: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_hashes: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upserted_hashes: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_hashes: Option<Vec<Value>>,
    pub skipped_hashes: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthToken {
    pub token: String,
}

/// `#subscribe`; `from` (a transaction id) is Switchyard's compatible extension: the entries
/// after it come from the log first, then live ones, with no gap and no duplicate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscribe {
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
}

/// `#publish` as sent and as delivered: `{channel, data}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publication<T> {
    pub channel: String,
    pub data: T,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KickOut {
    pub channel: String,
    #[serde(default)]
    pub message: Option<String>,
}



/// One committed transaction as a node delivers it to subscribers and peers, and as
/// read_transaction_log returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transaction {
    /// Position in the delivering node's log.
    pub id: i64,
    /// The node where the write happened, and its id there.
    pub origin: String,
    pub origin_id: i64,
    pub channel: String,
    pub operation: String,
    #[serde(default)]
    pub user: Option<String>,
    /// Commit time at the origin, ms since the epoch.
    pub ts: f64,
    /// The write's version from its origin's hybrid logical clock: what last-writer-wins orders
    /// by, with the origin (milliseconds << 20 | a counter).
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<Value>>,
}

// ---- Replication payloads --------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub node_name: String,
}

/// `sy:pull`: stream the log on `channel` after `from`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pull {
    pub channel: String,
    pub from: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullReply {
    pub primary_key: String,
}

/// `sy:offer`: the sender will stream its log on `channel`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    pub channel: String,
    pub primary_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferReply {
    /// The receiver has applied the sender's log up to here.
    pub from: i64,
}

/// `sy:txns`: the sender's log entries on `channel` after `from` up to `upto` (entries from
/// the receiver itself left out). A receiver standing anywhere but at or after `from` has
/// missed a batch: it refuses this one and asks again (`sy:gap` or `sy:pull`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Txns<E> {
    pub channel: String,
    pub from: i64,
    pub upto: i64,
    pub entries: Vec<E>,
}

/// `sy:ack`: applied up to `upto`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    pub channel: String,
    pub upto: i64,
}

/// `sy:gap`: the receiver stands at `at`; the sender restarts its stream from there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gap {
    pub channel: String,
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let text = invoke(name::SUBSCRIBE, &Subscribe { channel: "dev:dog".into(), from: Some(7) }, 3);
        assert_eq!(text, r##"{"event":"#subscribe","data":{"channel":"dev:dog","from":7},"cid":3}"##);
        let Frame::Packets(p) = decode(&text).unwrap() else { panic!("not packets") };
        let Packet::Event(e) = &p[0] else { panic!("not an event") };
        assert_eq!((e.event.as_str(), e.cid), ("#subscribe", Some(3)));
        assert_eq!(e.data::<Subscribe>().unwrap().from, Some(7));

        let text = failure(3, &ScError::new("BrokerError", "no"));
        let Frame::Packets(p) = decode(&text).unwrap() else { panic!("not packets") };
        let Packet::Response(r) = &p[0] else { panic!("not a response") };
        assert_eq!(r.error.as_ref().map(|e| e.name.as_str()), Some("BrokerError"));
        assert_eq!(response::<()>(4, None), r#"{"rid":4}"#);
    }

    #[test]
    fn malformed_frames_are_refused() {
        assert!(matches!(decode(""), Ok(Frame::Ping)));
        assert!(decode("#1").is_err());
        assert!(decode("{\"cid\":1}").is_err());
        let Frame::Packets(p) = decode(r#"{"event":"sy:txns","data":{"channel":"a:b","upto":3,"entries":[]}}"#).unwrap() else { panic!() };
        let Packet::Event(e) = &p[0] else { panic!() };
        // A batch that does not say where it continues from is refused, not defaulted.
        assert!(e.data::<Txns<Transaction>>().is_err());
    }
}
