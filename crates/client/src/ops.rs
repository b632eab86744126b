//! `OpsClient`: one instance's Operations API over HTTP(S).

use std::time::Duration;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::ops::{
    CreateTable, DatabaseRef, DigestRecords, DigestRecordsRequest, InsertReply, Message, RecordRepair, RecordStates, RecordStatesRequest, RegistrationInfo, RepairRecordsRequest, RepairReport,
    Sql, TableDescription, TableDigest, TableDigestRequest, TableRef, UpsertReply, WriteRecords,
};
use switchyard_protocol::Operation;
use switchyard_protocol::ErrorCode;

use crate::error::{Error, Result};
use crate::kind::{reinterpret, ServerKind};

/// How requests authenticate.
#[derive(Clone)]
pub enum Credentials {
    Basic { username: String, password: String },
    Bearer(String),
    None,
}

impl Credentials {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic { username: username.into(), password: password.into() }
    }

    fn header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::Bearer(t) => Some(format!("Bearer {t}")),
            Credentials::None => None,
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::Bearer(_) => write!(f, "Bearer(***)"),
            Credentials::None => write!(f, "None"),
        }
    }
}

/// A status and body exactly as the server sent them.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct OpsClient {
    http: reqwest::Client,
    url: String,
    credentials: Credentials,
    timeout: Duration,
    /// The server's kind, when known: its answers are then read with its quirks in mind.
    kind: Option<ServerKind>,
    /// The largest answer read for a page of records (search, SQL, a transaction log); other
    /// operations answer small things and take at most METADATA_ANSWER_BYTES.
    page_limit: usize,
}

/// The largest answer taken for a page of records, unless set with `with_answer_limit`.
pub const PAGE_ANSWER_BYTES: usize = 256 * 1024 * 1024;
/// The largest answer taken for anything that is not a page of records (descriptions, status,
/// messages): a server that answers more is not answering what was asked.
pub const METADATA_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// How many bytes of answer `op` may bring back.
fn answer_limit(op: &Operation, page_limit: usize) -> usize {
    use Operation as O;
    match op {
        O::SearchById(_)
        | O::SearchByValue(_)
        | O::SearchByConditions(_)
        | O::Sql(_)
        | O::ReadTransactionLog(_)
        | O::ReadLog(_)
        | O::ClusterRead(_)
        | O::TableDigestRecords(_)
        | O::RecordStates(_) => page_limit,
        _ => METADATA_ANSWER_BYTES.min(page_limit),
    }
}

impl OpsClient {
    pub fn new(url: impl Into<String>, credentials: Credentials) -> Result<Self> {
        Self::with_timeout(url, credentials, Duration::from_secs(60))
    }

    pub fn with_timeout(url: impl Into<String>, credentials: Credentials, timeout: Duration) -> Result<Self> {
        Self::with_trust(url, credentials, timeout, &crate::Trust::System)
    }

    /// An https:// instance whose certificate is accepted by `trust` (a CA, or a pinned one).
    pub fn with_trust(url: impl Into<String>, credentials: Credentials, timeout: Duration, trust: &crate::Trust) -> Result<Self> {
        let url = url.into();
        let parsed = reqwest::Url::parse(&url).map_err(|e| Error::Config(format!("'{url}' is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!("'{url}' must start with http:// or https://")));
        }
        let tls = crate::tls::client_config(trust)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(OpsClient { http, url, credentials, timeout, kind: None, page_limit: PAGE_ANSWER_BYTES })
    }

    /// The error for an answer that is not what its operation answers.
    pub fn malformed(&self, reason: impl Into<String>) -> Error {
        Error::Protocol { url: self.url.clone(), reason: reason.into() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same client, taking answers of at most `bytes` (pages of records; other answers at
    /// most the smaller of this and METADATA_ANSWER_BYTES).
    pub fn with_answer_limit(self, bytes: usize) -> Self {
        OpsClient { page_limit: bytes, ..self }
    }

    /// The same client, reading answers as `kind`'s.
    pub fn with_kind(self, kind: ServerKind) -> Self {
        OpsClient { kind: Some(kind), ..self }
    }

    /// The user this client logs in as (Basic credentials).
    pub fn username(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Basic { username, .. } => Some(username),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<ServerKind> {
        self.kind
    }

    /// The credentials this client logs in with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Asks `registration_info` which server this is.
    pub async fn detect_kind(&self) -> Result<ServerKind> {
        let answer = self.run(&Operation::RegistrationInfo(NoFields {})).await?;
        ServerKind::from_registration(&answer).map_err(|reason| Error::Protocol { url: self.url.clone(), reason })
    }

    /// The same instance with other credentials.
    pub fn with_credentials(&self, credentials: Credentials) -> Self {
        OpsClient { credentials, ..self.clone() }
    }

    fn transport_error(&self, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout { url: self.url.clone(), secs: self.timeout.as_secs() }
        } else if e.is_connect() {
            let mut reason = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                reason = s.to_string();
                src = s.source();
            }
            // By type, not by text: rustls refused the certificate.
            if switchyard_tls::is_untrusted_certificate(&e) {
                return Error::Untrusted { url: self.url.clone(), reason };
            }
            Error::Unreachable { url: self.url.clone(), reason }
        } else {
            Error::Protocol { url: self.url.clone(), reason: e.to_string() }
        }
    }

    /// Sends raw bytes and returns whatever came back, error statuses included (at most the
    /// page limit).
    pub async fn send_bytes(&self, body: Vec<u8>, content_type: &str) -> Result<RawResponse> {
        let (status, bytes) = self.fetch(body, content_type, self.page_limit).await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(RawResponse { status, body, text: String::from_utf8_lossy(&bytes).into_owned() })
    }

    /// Sends a request and reads at most `limit` bytes of its answer: a larger answer is
    /// refused as soon as it is known to be larger (its length, or the byte past the limit).
    async fn fetch(&self, body: Vec<u8>, content_type: &str, limit: usize) -> Result<(u16, Vec<u8>)> {
        let mut req = self.http.post(&self.url).header("content-type", content_type).body(body);
        if let Some(h) = self.credentials.header() {
            req = req.header("authorization", h);
        }
        let mut resp = req.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let too_large = || Error::TooLarge { url: self.url.clone(), limit_mb: (limit as u64).div_ceil(1024 * 1024) };
        let announced = resp.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if announced.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(announced.unwrap_or(0));
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }

    /// Sends one operation and returns status and body, error statuses included.
    pub async fn send(&self, op: &Value) -> Result<RawResponse> {
        self.send_bytes(op.to_string().into_bytes(), "application/json").await
    }

    /// Sends a JSON body as it is (tests of malformed requests, requests of other servers'
    /// shapes); an error status becomes `Error::Api`.
    pub async fn call(&self, op: &Value) -> Result<Value> {
        let r = self.send(op).await?;
        self.answer(r)
    }

    pub async fn call_as<T: DeserializeOwned>(&self, op: &Value) -> Result<T> {
        let v = self.call(op).await?;
        self.parse(v)
    }

    /// Sends one typed operation; an error status becomes `Error::Api`.
    pub async fn run(&self, op: &Operation) -> Result<Value> {
        let (status, bytes) = self.fetch_op(op).await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        self.answer(RawResponse { status, body, text: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned() })
    }

    /// Sends one typed operation and reads its typed reply. A success is parsed straight into
    /// the reply (no intermediate JSON value); an error, or any answer of a HarperDB, is read
    /// as a value first for what it says.
    pub async fn run_as<T: DeserializeOwned>(&self, op: &Operation) -> Result<T> {
        let (status, bytes) = self.fetch_op(op).await?;
        if (200..300).contains(&status) && self.kind != Some(ServerKind::HarperDb) {
            return serde_json::from_slice(&bytes).map_err(|e| Error::Protocol { url: self.url.clone(), reason: e.to_string() });
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let v = self.answer(RawResponse { status, body, text: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned() })?;
        self.parse(v)
    }

    async fn fetch_op(&self, op: &Operation) -> Result<(u16, Vec<u8>)> {
        let body = serde_json::to_vec(op).map_err(|e| Error::Config(format!("the request could not be written: {e}")))?;
        self.fetch(body, "application/json", answer_limit(op, self.page_limit)).await
    }

    pub(crate) fn parse<T: DeserializeOwned>(&self, v: Value) -> Result<T> {
        serde_json::from_value(v).map_err(|e| Error::Protocol { url: self.url.clone(), reason: e.to_string() })
    }

    pub(crate) fn answer(&self, r: RawResponse) -> Result<Value> {
        if let Some((code, message)) = reinterpret(self.kind, r.status, &r.body) {
            return Err(Error::Api { code, status: r.status, message, body: r.body });
        }
        if (200..300).contains(&r.status) {
            if r.body.is_null() && r.text.trim() != "null" {
                return Err(Error::Protocol { url: self.url.clone(), reason: format!("answer is not JSON: {}", truncate(&r.text)) });
            }
            return Ok(r.body);
        }
        let message = r
            .body
            .get("error")
            .or_else(|| r.body.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}: {}", r.status, truncate(&r.text)));
        // switchyard-node says its code beside the error; HarperDB says none (read from the status).
        let code = r.body.get("code").and_then(|c| serde_json::from_value::<ErrorCode>(c.clone()).ok()).unwrap_or_else(|| ErrorCode::from_http_status(r.status));
        Err(Error::Api { code, status: r.status, message, body: r.body })
    }

    pub async fn create_database(&self, database: &str) -> Result<Message> {
        self.run_as(&Operation::CreateDatabase(DatabaseRef { database: database.into() })).await
    }

    pub async fn create_table(&self, database: &str, table: &str, primary_key: &str) -> Result<Message> {
        self.run_as(&Operation::CreateTable(CreateTable {
            database: database.into(),
            table: table.into(),
            primary_key: primary_key.into(),
            expiration: None,
            attributes: None,
        }))
        .await
    }

    pub async fn describe_table(&self, database: &str, table: &str) -> Result<TableDescription> {
        self.run_as(&Operation::DescribeTable(TableRef { database: database.into(), table: table.into() })).await
    }

    pub async fn insert(&self, database: &str, table: &str, records: &[Value]) -> Result<InsertReply> {
        self.run_as(&Operation::Insert(WriteRecords { database: database.into(), table: table.into(), records: records.to_vec() })).await
    }

    pub async fn upsert(&self, database: &str, table: &str, records: &[Value]) -> Result<UpsertReply> {
        self.run_as(&Operation::Upsert(WriteRecords { database: database.into(), table: table.into(), records: records.to_vec() })).await
    }

    pub async fn sql(&self, sql: &str) -> Result<Value> {
        self.run(&Operation::Sql(Sql { sql: sql.into() })).await
    }

    pub async fn registration_info(&self) -> Result<RegistrationInfo> {
        self.run_as(&Operation::RegistrationInfo(NoFields {})).await
    }

    /// A table's bucket digests and the watermark they reflect (switchyard-node only).
    pub async fn table_digest(&self, database: &str, table: &str) -> Result<TableDigest> {
        self.run_as(&Operation::TableDigest(TableDigestRequest { database: database.into(), table: table.into() })).await
    }

    /// The records of some digest buckets, a page from after `after`.
    pub async fn digest_records(&self, database: &str, table: &str, buckets: Vec<u16>, after: Option<Value>, limit: u32) -> Result<DigestRecords> {
        self.run_as(&Operation::TableDigestRecords(DigestRecordsRequest { database: database.into(), table: table.into(), buckets, after, limit: Some(limit) })).await
    }

    /// How the node holds these keys, deleted ones included.
    pub async fn record_states(&self, database: &str, table: &str, keys: Vec<Value>) -> Result<RecordStates> {
        self.run_as(&Operation::RecordStates(RecordStatesRequest { database: database.into(), table: table.into(), keys })).await
    }

    /// Sets keys to the states that won elsewhere, each where the node still holds what it expects.
    pub async fn repair_records(&self, database: &str, table: &str, repairs: Vec<RecordRepair>) -> Result<RepairReport> {
        self.run_as(&Operation::RepairRecords(RepairRecordsRequest { database: database.into(), table: table.into(), repairs })).await
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on loopback that answers every request with `head` and then `body_mib` MiB of
    /// JSON array (or as much as the client reads before it hangs up).
    async fn answering(head: &'static str, body_mib: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            for _ in 0..4 {
                let Ok((mut s, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(b"[").await;
                    let chunk = format!("\"{}\",", "x".repeat(1021)).into_bytes();
                    for _ in 0..body_mib * 1024 {
                        if s.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                    let _ = s.write_all(b"\"x\"]").await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn an_answer_past_the_limit_is_refused_not_read_whole() {
        let search = Operation::Sql(Sql { sql: "SELECT * FROM dev.t".into() });
        // Streamed without a length: refused at the byte past the limit.
        let url = answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n", 8).await;
        let c = OpsClient::new(url, Credentials::None).unwrap().with_answer_limit(2 * 1024 * 1024);
        let e = c.run(&search).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit_mb: 2, .. }), "{e}");
        assert!(e.to_string().contains("exceeds 2 MB"), "{e}");
        // An announced length over the limit is refused before any of it is read.
        let url = answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n", 1).await;
        let c = OpsClient::new(url, Credentials::None).unwrap();
        let e = c.run_as::<Value>(&search).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        // Not a page: a description takes far less than a page does.
        let url = answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n", 20).await;
        let c = OpsClient::new(url, Credentials::None).unwrap();
        let e = c.describe_table("dev", "t").await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit_mb: 16, .. }), "{e}");
        // Within the limit an answer is read and parsed as usual.
        let url = answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n", 1).await;
        let c = OpsClient::new(url, Credentials::None).unwrap().with_answer_limit(2 * 1024 * 1024);
        let rows: Vec<Value> = c.run_as(&search).await.unwrap();
        assert_eq!(rows.len(), 1025);
    }
}
