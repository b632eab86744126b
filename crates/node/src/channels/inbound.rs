//! An inbound frame's packets, read without building their data first: event and cid read as
//! before (a non-string event or a non-number cid is absent), a peer's batch kept as the sender's
//! text and parsed once into its own types (a 1 MB frame of records never becomes a `Value` tree,
//! copied, and written back to text); every other packet's data read as a value.
//!
//! Invariant: a frame is taken or ignored exactly as reading it whole into values would: JSON that
//! does not read so is ignored; an envelope serde's reading refuses (a field given twice) is read
//! as a value. That leniency is why this is not `switchyard_protocol::sc::decode`, which the
//! client side uses: it refuses a packet whose cid is not an integer, or that has no event.

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

    /// The data read into `T`: a batch from its text, once; anything else from its value.
    pub fn read<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        match self {
            Data::Batch(raw) => serde_json::from_str(raw.map_or("null", |r| r.get())),
            Data::Value(v) => serde_json::from_value(v),
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

#[cfg(test)]
mod tests {
    use super::{packets, Data};

    fn event_and_cid(text: &str) -> Vec<(Option<String>, Option<i64>)> {
        packets(text).expect("packets").into_iter().map(|p| (p.event, p.cid)).collect()
    }

    #[test]
    fn events_and_cids_read_as_before_and_odd_ones_are_absent() {
        assert_eq!(event_and_cid(r#"{"event":"login","cid":3,"data":{"u":1}}"#), vec![(Some("login".into()), Some(3))]);
        // A non-string event, a non-integer cid, a packet that is not an object.
        assert_eq!(event_and_cid(r#"[{"event":5,"cid":"x"},{"event":"a","cid":1.5},7]"#), vec![(None, None), (Some("a".into()), None), (None, None)]);
        // A field given twice: read as a value, the last one counting.
        assert_eq!(event_and_cid(r#"{"event":"a","event":"b","cid":1,"cid":2}"#), vec![(Some("b".into()), Some(2))]);
        // Not JSON, or JSON that does not read as values: no packets.
        assert!(packets("#1").is_none());
        assert!(packets(r#"{"event":"a","data":{"#).is_none());
    }

    #[test]
    fn a_batch_keeps_its_text_and_other_data_is_read() {
        let batch = r#"{"event":"sy:txns","cid":9,"data":{"channel":"dev:t","from":0,"upto":1,"entries":[]}}"#;
        match &packets(batch).expect("packets")[0].data {
            Data::Batch(Some(raw)) => assert_eq!(raw.get(), r#"{"channel":"dev:t","from":0,"upto":1,"entries":[]}"#),
            _ => panic!("a batch is kept as text"),
        }
        let other = packets(r#"{"event":"sy:ack","data":{"channel":"dev:t","upto":4}}"#).expect("packets");
        assert_eq!(other[0].data.value()["upto"], 4);
        let none = packets(r##"{"event":"#removeAuthToken"}"##).expect("packets");
        assert!(none[0].data.value().is_null());
    }
}
