//! An inbound frame's packets, read without building their data first: event and cid read as
//! before (a non-string event or a non-number cid is absent), a peer's batch kept as the sender's
//! text and parsed once into its own types (a 1 MB frame of records never becomes a `Value` tree,
//! copied, and written back to text); every other packet's data read as a value.
//!
//! Invariant: a frame is taken or ignored exactly as reading it whole into values would: JSON that
//! does not read so is ignored; an envelope serde's reading refuses (a field given twice) is read
//! as a value.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use switchyard_protocol::sc::name;

/// One packet of a frame.
pub(super) struct Inbound<'a> {
    pub event: Option<String>,
    pub cid: Option<i64>,
    pub data: Data<'a>,
}

/// A packet's data.
pub(super) enum Data<'a> {
    /// A peer's batch as sent (None: no data).
    Batch(Option<&'a RawValue>),
    /// Anything else, read (JSON `null` when absent).
    Value(Value),
}

static NULL: Value = Value::Null;

impl Data<'_> {
    /// The data as a value (a batch kept as text reads as `null`: its handler takes the text).
    pub fn value(&self) -> &Value {
        match self {
            Data::Value(v) => v,
            Data::Batch(_) => &NULL,
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cid: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// The packets of a frame (an object, or an array of them); None when it is not JSON.
pub(super) fn packets(text: &str) -> Option<Vec<Inbound<'_>>> {
    if text.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
        items.into_iter().map(|raw| packet(raw.get())).collect()
    } else if text.starts_with('{') {
        Some(vec![packet(text)?])
    } else {
        None
    }
}

/// One packet; None when some part of it does not read as a value.
fn packet(text: &str) -> Option<Inbound<'_>> {
    if !text.starts_with('{') {
        // Valid JSON, not an object: a packet without an event.
        let _: Value = serde_json::from_str(text).ok()?;
        return Some(Inbound { event: None, cid: None, data: Data::Value(Value::Null) });
    }
    let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
        let v: Value = serde_json::from_str(text).ok()?;
        let event = v.get("event").and_then(Value::as_str).map(str::to_string);
        let cid = v.get("cid").filter(|c| c.is_number()).and_then(Value::as_i64);
        return Some(Inbound { event, cid, data: Data::Value(v.get("data").cloned().unwrap_or(Value::Null)) });
    };
    let read = |raw: Option<&RawValue>| -> Option<Value> { raw.map_or(Some(Value::Null), |r| serde_json::from_str(r.get()).ok()) };
    let event = read(envelope.event)?.as_str().map(str::to_string);
    let cid = read(envelope.cid)?;
    let cid = cid.as_i64().filter(|_| cid.is_number());
    let data = match event.as_deref() {
        Some(name::TXNS) => Data::Batch(envelope.data),
        _ => Data::Value(read(envelope.data)?),
    };
    Some(Inbound { event, cid, data })
}
