//! The live tail of a HarperDB instance's tables: MQTT v5 over WebSocket at `/mqtt` on its HTTP
//! port (rumqttc), one `export/#` filter per table with retain-handling 2 so that subscribing
//! does not replay the whole table (reference §4.2). HarperDB publishes only tables a component
//! exports; a table it will not subscribe to is reported as `NotExported`, for the studio to
//! offer the export.
//!
//! What HarperDB's messages carry sets what the tail can show: the topic names the key, the
//! payload is the whole record (insert, update and upsert alike: `put`) or `null` (a delete).
//! There is no log position, origin or transaction id: records are numbered in arrival order,
//! and nothing missed while disconnected can be read back (each reconnect says so).

use std::time::Duration;

use rumqttc::v5::mqttbytes::v5::{Filter, Packet, RetainForwardRule, SubscribeReasonCode};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use rumqttc::Transport;
use serde_json::value::RawValue;
use serde_json::Value;
use switchyard_client::harperdb::{self, export_name, ComponentFile, ComponentFileRef, FileContents, Request, Service, EXPORT_PROJECT};
use switchyard_client::OpsClient;
use switchyard_protocol::{Channel, ErrorCode};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::tail::{Tail, TailEvent, TailRecord, TailRequest, TailSource};
use crate::words::now_ms;

/// The operations a HarperDB tail's records carry: HarperDB publishes a write as `put` (insert,
/// update and upsert alike) and a delete as `delete`.
pub const OPERATIONS: &[&str] = &["put", "delete"];

/// Waits between reconnects, growing to the last.
const BACKOFF_MS: [u64; 5] = [250, 500, 1000, 2000, 5000];

/// Starts tailing `request`'s channels on the HarperDB instance `ops` reaches (its MQTT
/// endpoint is read from its configuration first).
pub fn start(ops: OpsClient, credentials: (String, String), request: TailRequest) -> Result<Tail> {
    if request.channels.is_empty() {
        return Err(Error::Invalid("choose at least one channel to tail".into()));
    }
    let mut topics = Vec::new();
    for c in &request.channels {
        let ch: Channel = c.parse().map_err(Error::Invalid)?;
        topics.push((c.clone(), export_name(&ch.database, &ch.table)));
    }
    let (tx, rx) = mpsc::channel(4096);
    let stop = CancellationToken::new();
    tokio::spawn(run(ops, credentials, topics, tx, stop.clone()));
    Ok(Tail::from_parts(rx, stop))
}

/// Has the HarperDB instance `client` reaches publish `channels` (`database:table`): writes the
/// studio's component (package.json, config.yaml, and resources.js exporting these tables beside
/// those it exported before) through set_component_file, then restarts the HTTP workers to load
/// it (reference §4.1). Answers what was done, in words.
pub async fn export_tables(client: &OpsClient, channels: &[String]) -> Result<String> {
    let mut tables = Vec::new();
    for c in channels {
        let ch: Channel = c.parse().map_err(Error::Invalid)?;
        tables.push((ch.database, ch.table));
    }
    if tables.is_empty() {
        return Err(Error::Invalid("choose at least one table to export".into()));
    }
    // What the component exported before, when it exists.
    let file = ComponentFileRef { project: EXPORT_PROJECT.into(), file: "resources.js".into() };
    let existing = match client.run_harperdb(&Request::GetComponentFile(file)).await {
        Ok(v) => serde_json::from_value::<FileContents>(v).map(|f| f.message).map_err(|e| Error::Invalid(format!("get_component_file answered something else than a file: {e}")))?,
        Err(e) if matches!(e.code(), ErrorCode::BadRequest | ErrorCode::NotFound) => String::new(),
        Err(e) => return Err(e.into()),
    };
    let set = |name: &str, payload: String| Request::SetComponentFile(ComponentFile { project: EXPORT_PROJECT.into(), file: name.into(), payload });
    client.run_harperdb(&set("package.json", harperdb::EXPORT_PACKAGE_JSON.into())).await?;
    client.run_harperdb(&set("config.yaml", harperdb::EXPORT_CONFIG_YAML.into())).await?;
    client.run_harperdb(&set("resources.js", harperdb::export_resources(&existing, &tables))).await?;
    client.run_harperdb(&Request::RestartService(Service { service: "http_workers".into() })).await?;
    // The workers restart in the background: done once a subscription to every table is taken.
    let url = client.harperdb_mqtt_url().await?;
    let credentials = match client.credentials() {
        switchyard_client::Credentials::Basic { username, password } => (username.clone(), password.clone()),
        _ => return Err(Error::Invalid("HarperDB's MQTT needs a user name and password; the studio holds none for this instance".into())),
    };
    let topics: Vec<String> = tables.iter().map(|(d, t)| export_name(d, t)).collect();
    let deadline = tokio::time::Instant::now() + EXPORT_LOAD_WAIT;
    while !subscribable(&url, &credentials, &topics).await {
        if tokio::time::Instant::now() > deadline {
            return Err(Error::Invalid(format!(
                "HarperDB did not publish the exported tables within {} s of restarting its HTTP workers (get_components says how the component {EXPORT_PROJECT} loaded)",
                EXPORT_LOAD_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let names: Vec<String> = tables.iter().map(|(d, t)| format!("{d}.{t} as {}", export_name(d, t))).collect();
    Ok(format!("Exported {} in the component {EXPORT_PROJECT}; HarperDB publishes them now", names.join(", ")))
}

/// How long an export may take to load (the HTTP workers restart).
const EXPORT_LOAD_WAIT: Duration = Duration::from_secs(30);

fn mqtt_options(url: &str, credentials: &(String, String)) -> MqttOptions {
    let port = reqwest::Url::parse(url).ok().and_then(|u| u.port()).unwrap_or(80);
    let mut options = MqttOptions::new(format!("switchyard-tail-{}", uuid::Uuid::new_v4().simple()), url, port);
    options.set_transport(Transport::Ws);
    options.set_credentials(credentials.0.clone(), credentials.1.clone());
    options.set_keep_alive(Duration::from_secs(20));
    options.set_clean_start(true);
    // rumqttc takes packets of at most 10 KiB unless told (a larger record broke the
    // connection); the CONNECT tells HarperDB the same limit, so nothing larger is sent.
    options.set_max_packet_size(Some(MAX_PACKET_BYTES));
    options
}

/// The largest MQTT packet the tail takes from HarperDB: a record (with its topic) up to 64 MiB.
pub const MAX_PACKET_BYTES: u32 = 64 * 1024 * 1024;

fn filter(topic: &str) -> Filter {
    // Retain-handling 2: subscribing does not replay the table.
    Filter { path: format!("{topic}/#"), qos: QoS::AtLeastOnce, nolocal: false, preserve_retain: false, retain_forward_rule: RetainForwardRule::Never }
}

/// Whether HarperDB takes a subscription to every one of `topics` now (one connection, 5 s
/// at most).
async fn subscribable(url: &str, credentials: &(String, String), topics: &[String]) -> bool {
    let (client, mut events) = AsyncClient::new(mqtt_options(url, credentials), 8);
    let probe = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if client.subscribe_many(topics.iter().map(|t| filter(t))).await.is_err() {
                        return false;
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => return ack.return_codes.iter().all(|c| matches!(c, SubscribeReasonCode::Success(_))),
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    };
    let taken = tokio::time::timeout(Duration::from_secs(5), probe).await.unwrap_or(false);
    let _ = client.disconnect().await;
    taken
}

/// The record a message on `topic` (`export/key`) means, numbered `seq`; None for a topic of no
/// tailed table or a payload that is not JSON (malformed: not shown, never guessed at).
fn record(topics: &[(String, String)], topic: &str, payload: &[u8], seq: i64) -> Option<TailRecord> {
    let (root, key) = topic.split_once('/')?;
    let (channel, _) = topics.iter().find(|(_, t)| t == root)?;
    let arrived = now_ms();
    let value: Value = serde_json::from_slice(payload).ok()?;
    // A topic's key is text; HarperDB's keys are numbers when they read as one.
    let key = key.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(key));
    let (operation, data, ts) = match &value {
        Value::Null => (OPERATIONS[1], Value::Array(vec![key]), arrived),
        Value::Object(o) => (OPERATIONS[0], Value::Array(vec![value.clone()]), o.get("__updatedtime__").and_then(Value::as_f64).unwrap_or(arrived)),
        _ => return None,
    };
    Some(TailRecord {
        id: seq,
        channel: channel.clone(),
        origin: String::new(),
        origin_id: seq,
        operation: operation.into(),
        user: None,
        ts,
        arrived,
        source: TailSource::Live,
        data: RawValue::from_string(data.to_string()).ok()?,
    })
}

async fn run(ops: OpsClient, credentials: (String, String), topics: Vec<(String, String)>, out: mpsc::Sender<TailEvent>, stop: CancellationToken) {
    let url = tokio::select! {
        u = ops.harperdb_mqtt_url() => u,
        _ = stop.cancelled() => return,
    };
    let url = match url {
        Ok(u) => u,
        Err(e) => {
            let _ = out.send(TailEvent::Failed { reason: format!("the MQTT endpoint could not be read: {e}") }).await;
            return;
        }
    };
    let (client, mut events) = AsyncClient::new(mqtt_options(&url, &credentials), 64);
    // Which channels the last SUBACK accepted (by position), and those refused for good.
    let mut refused: Vec<String> = Vec::new();
    let mut asked: Vec<String> = Vec::new();
    let (mut seq, mut failures, mut connected_once) = (0i64, 0usize, false);
    loop {
        let event = tokio::select! {
            e = events.poll() => e,
            _ = stop.cancelled() => break,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                failures = 0;
                if connected_once {
                    let _ = out
                        .send(TailEvent::Gap { channel: topics.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "), after: seq, before: None, reason: "HarperDB keeps no log to read what was written while the tail was disconnected".into() })
                        .await;
                }
                connected_once = true;
                // A clean session: the subscriptions are made anew on every connection.
                asked = topics.iter().filter(|(c, _)| !refused.contains(c)).map(|(c, _)| c.clone()).collect();
                let filters: Vec<Filter> = topics
                    .iter()
                    .filter(|(c, _)| asked.contains(c))
                    .map(|(_, t)| filter(t))
                    .collect();
                if filters.is_empty() {
                    let _ = out.send(TailEvent::Failed { reason: "no channel of this tail can be subscribed to".into() }).await;
                    break;
                }
                if let Err(e) = client.subscribe_many(filters).await {
                    let _ = out.send(TailEvent::Failed { reason: format!("the subscription could not be sent: {e}") }).await;
                    break;
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let mut live = false;
                for (channel, code) in asked.iter().zip(ack.return_codes.iter()) {
                    match code {
                        SubscribeReasonCode::Success(_) => live = true,
                        // HarperDB's answer for a table no component exports.
                        SubscribeReasonCode::TopicFilterInvalid | SubscribeReasonCode::Unspecified | SubscribeReasonCode::Failure => {
                            refused.push(channel.clone());
                            let _ = out.send(TailEvent::NotExported { channel: channel.clone() }).await;
                        }
                        other => {
                            refused.push(channel.clone());
                            let _ = out.send(TailEvent::Refused { channel: channel.clone(), reason: format!("HarperDB refused the subscription: {other:?}") }).await;
                        }
                    }
                }
                if live && out.send(TailEvent::Live).await.is_err() {
                    break;
                }
                if refused.len() == topics.len() {
                    let _ = out.send(TailEvent::Failed { reason: "HarperDB publishes none of the tailed tables".into() }).await;
                    break;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                seq += 1;
                let topic = String::from_utf8_lossy(&p.topic).into_owned();
                match record(&topics, &topic, &p.payload, seq) {
                    Some(r) => {
                        if out.send(TailEvent::Record(r)).await.is_err() {
                            break;
                        }
                    }
                    None => tracing::warn!(%topic, "a HarperDB message that is not a record was not shown"),
                }
            }
            Ok(_) => {}
            Err(e) => {
                let wait = BACKOFF_MS[failures.min(BACKOFF_MS.len() - 1)];
                failures += 1;
                if out.send(TailEvent::Reconnecting { error: e.to_string(), retry_in_ms: wait }).await.is_err() {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    _ = stop.cancelled() => break,
                }
            }
        }
    }
    let _ = client.disconnect().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_a_put_of_the_whole_record_or_a_delete_of_its_key() {
        let topics = vec![("shop:item".to_string(), "shop_item".to_string())];
        let put = record(&topics, "shop_item/7", br#"{"id":7,"name":"nut","__updatedtime__":1700000000000}"#, 1).unwrap();
        assert_eq!((put.channel.as_str(), put.operation.as_str(), put.id, put.ts), ("shop:item", "put", 1, 1_700_000_000_000.0));
        assert_eq!(serde_json::from_str::<Value>(put.data.get()).unwrap(), serde_json::json!([{"id": 7, "name": "nut", "__updatedtime__": 1_700_000_000_000i64}]));
        let delete = record(&topics, "shop_item/abc", b"null", 2).unwrap();
        assert_eq!((delete.operation.as_str(), delete.data.get()), ("delete", r#"["abc"]"#));
        assert!(record(&topics, "other/1", b"{}", 3).is_none(), "a topic of no tailed table");
        assert!(record(&topics, "shop_item/1", b"not json", 4).is_none(), "a payload that is not JSON");
        assert!(record(&topics, "shop_item/1", b"42", 5).is_none(), "a payload that is not a record");
    }
}
