//! The HTTP surface: `POST /` for the Operations API, `GET /health`. Authentication happens here,
//! before any operation runs; nothing is trusted for coming from loopback.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::connection::{client_ip, Connection};
use tokio_util::task::TaskTracker;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::{Error, Result};
use crate::ops::{self, Reply};
use switchyard_protocol::ops::{About, ErrorReply};
use switchyard_protocol::Operation;
use crate::Node;

pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/", post(operations).get(about))
        .route("/health", get(|| async { "ok" }))
        .route("/socketcluster/", get(crate::channels::upgrade))
        .route("/socketcluster", get(crate::channels::upgrade))
        // A body that stops arriving for this long fails the request (the connection closes).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(node.config.body_read_timeout))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            let error = "internal error: the server hit a bug; nothing was committed by this request".to_string();
            json_response(500, &ErrorReply { error, code: Some(switchyard_protocol::ErrorCode::Internal), unauthorized_access: None, invalid_schema_items: None })
        }))
        .with_state(node)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests (for at most
/// GRACEFUL_TIMEOUT). With TLS configured on the node, the listener serves https:// and wss://.
pub async fn run(listener: TcpListener, node: Arc<Node>, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router(node.clone());
    let limits = Limits::of(&node.config);
    match &node.tls {
        Some(tls) => serve(crate::tls::TlsListener::new(listener, tls.config.clone(), node.tasks.clone())?, app, limits, node.tasks.clone(), shutdown).await,
        None => {
            // Small frames (pings, publications, replies) go out at once, not after a delayed ACK.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            serve(listener, app, limits, node.tasks.clone(), shutdown).await
        }
    }
}

/// Connections over the limit answered 503 at the same time (each for at most 2 s).
const REFUSALS_AT_ONCE: usize = 64;

/// How long in-flight requests may take to finish once the node stops.
const GRACEFUL_TIMEOUT: Duration = Duration::from_secs(10);

/// What keeps slow, stalled or too many clients from taking the node away from the others.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Connections served at once; past it a new connection is answered 503 and closed, so
    /// the node never runs out of file descriptors and always answers.
    connections: usize,
    /// A request's headers must arrive within this (also the idle time of a kept-alive connection).
    headers: Duration,
}

impl Limits {
    fn of(config: &crate::NodeConfig) -> Limits {
        // Leave descriptors for the database, peer links and the refusals themselves.
        let fd_room = open_files_limit().map(|n| n.saturating_sub(128).max(16)).unwrap_or(usize::MAX);
        Limits { connections: config.max_connections.min(fd_room).max(1), headers: config.header_read_timeout }
    }
}

/// The soft limit of open files of this process (Linux), if it can be read.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}


/// The accept loop: each connection is served by hyper (HTTP/1.1 with upgrades for the
/// WebSocket) under the header timeout, holding one of `limits.connections` slots until it
/// closes, or, once upgraded, until its WebSocket closes (sockets count like any connection).
async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: Limits,
    tasks: TaskTracker,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    L::Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Answered 503 while few are being answered; under a flood the rest just close.
            if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                tasks.spawn(async move {
                    refuse_connection(io).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let connection = Connection::new(peer, slot);
        let app = hyper_util::service::TowerToHyperService::new(app.clone());
        let held = connection.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(connection.clone());
            hyper::service::Service::call(&app, request)
        });
        let mut stopping = stopping.clone();
        tasks.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.headers)
                .serve_connection(hyper_util::rt::TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped(&mut stopping) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
            drop(held);
        });
    }
    drop(listener);
    stop.send_replace(true);
    // Every slot back means every connection finished; past the timeout they are dropped.
    let all = u32::try_from(limits.connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(GRACEFUL_TIMEOUT, slots.acquire_many(all)).await;
    Ok(())
}

/// Resolves once the server stops.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await.map(|_| ());
}

/// Answers a connection over the limit with 503 and closes it.
async fn refuse_connection<I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut io: I) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = r#"{"error":"the node is serving as many connections as it may; try again shortly","code":"busy"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        // Answer after the request's headers (or what came of them within a second), as a
        // client expects; a stalled client gets the answer all the same.
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match io.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        let _ = io.write_all(answer.as_bytes()).await;
        let _ = io.shutdown().await;
        // Read what the client sent before closing: closing with unread bytes resets the
        // connection, and the client would see a reset instead of the answer.
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if matches!(io.read(&mut sink).await, Ok(0) | Err(_)) {
                break;
            }
        }
    })
    .await;
}

async fn about(State(node): State<Arc<Node>>) -> Response {
    json_response(200, &About {
        name: crate::KIND.into(),
        version: crate::VERSION.into(),
        node_name: node.config.node_name.clone(),
        usage: "POST an Operations API request as JSON to this URL with Basic or Bearer authorization".into(),
    })
}

/// Bodies of requests without credentials (login and token operations) are at most this big.
const ANONYMOUS_BODY_BYTES: usize = 64 * 1024;

/// JSON values (objects, arrays and the items in them) one request may hold: parsing keeps
/// every one in memory, and `[{},{},…]` costs far more there than on the wire.
pub const MAX_JSON_VALUES: usize = 2_000_000;

async fn operations(State(node): State<Arc<Node>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    match handle(&node, &parts.headers, body, client_ip(&parts.extensions)).await {
        Ok(Reply::Json(v)) => json_response(200, &v),
        Ok(Reply::Raw(text)) => raw_json(200, text),
        Err(e) => {
            let status = e.status();
            if status >= 500 && e.retry_after().is_none() {
                node.log.error(&["operation"], e.to_string());
            }
            let mut r = json_response(status, &e.body());
            if let Some(secs) = e.retry_after() {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            r
        }
    }
}

/// Authenticates from the headers before a byte of the body is read: a request without valid
/// credentials never costs more than ANONYMOUS_BODY_BYTES of memory.
async fn handle(node: &Arc<Node>, headers: &HeaderMap, body: Body, from: Option<IpAddr>) -> Result<Reply> {
    let who = match credentials(headers)? {
        Credentials::Basic(user, pass) => node.auth.login(&user, &pass, from).await.inspect_err(|e| {
            if matches!(e, Error::Unauthorized(_)) {
                node.log.info(&["auth"], format!("login failed for user '{user}'"));
            }
        })?,
        Credentials::Bearer(token) => match node.auth.bearer(&token).await {
            Ok(p) => p,
            // A refresh token is only good for refresh_operation_token.
            Err(e) => {
                let value = read_json(body, ANONYMOUS_BODY_BYTES, headers).await.map_err(|_| e.clone())?;
                if !matches!(ops::operation(value), Ok(Operation::RefreshOperationToken(_))) {
                    return Err(e);
                }
                return Reply::of(&node.auth.refresh(&token).await?);
            }
        },
        Credentials::None => {
            // Token and login operations may carry the credentials in the body instead.
            let must_login = || Error::Unauthorized("Must login: send Basic credentials or a Bearer operation token".into());
            let value = read_json(body, ANONYMOUS_BODY_BYTES, headers).await.map_err(|_| must_login())?;
            let op = ops::operation(value)?;
            let who = match &op {
                Operation::CreateAuthenticationTokens(c) | Operation::Login(c) => match (&c.username, &c.password) {
                    (Some(u), Some(p)) => node.auth.login(u, p, from).await.map_err(|e| match e {
                        Error::Unauthorized(_) => Error::Unauthorized("invalid credentials".into()),
                        other => other,
                    })?,
                    _ => return Err(must_login()),
                },
                Operation::RefreshOperationToken(_) => return Err(refresh_needs_bearer()),
                _ => return Err(must_login()),
            };
            return ops::dispatch(node, &who, op).await;
        }
    };
    let value = read_json(body, node.config.max_body_bytes, headers).await?;
    let op = ops::operation(value)?;
    if matches!(op, Operation::RefreshOperationToken(_)) {
        return Err(refresh_needs_bearer());
    }
    ops::dispatch(node, &who, op).await
}

fn refresh_needs_bearer() -> Error {
    Error::Unauthorized("refresh_operation_token needs 'Authorization: Bearer <refresh_token>'".into())
}

enum Credentials {
    Basic(String, String),
    Bearer(String),
    None,
}

fn credentials(headers: &HeaderMap) -> Result<Credentials> {
    let Some(v) = headers.get(header::AUTHORIZATION) else { return Ok(Credentials::None) };
    let v = v.to_str().map_err(|_| Error::Unauthorized("Login failed".into()))?;
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::Unauthorized("Login failed".into()))?;
        let (user, pass) = decoded.split_once(':').ok_or_else(|| Error::Unauthorized("Login failed".into()))?;
        Ok(Credentials::Basic(user.to_string(), pass.to_string()))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Credentials::Bearer(rest.trim().to_string()))
    } else {
        Err(Error::Unauthorized(format!("unsupported authorization scheme '{scheme}'; use Basic or Bearer")))
    }
}

/// Reads at most `limit` bytes of body and parses them, refusing more than MAX_JSON_VALUES
/// values before parsing allocates them.
async fn read_json(body: Body, limit: usize, headers: &HeaderMap) -> Result<Value> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            Error::bad(format!("request body is larger than {limit} bytes; send smaller batches"))
        } else if std::error::Error::source(&e).is_some_and(|s| s.is::<tower_http::timeout::TimeoutError>()) {
            Error::bad("the request body stopped arriving before it was complete (timed out)")
        } else {
            Error::bad(format!("request body could not be read: {e}"))
        }
    })?;
    // Every value takes at least a byte: only a body this large can hold too many.
    let values = if bytes.len() > MAX_JSON_VALUES { count_json_values(&bytes) } else { 0 };
    if values > MAX_JSON_VALUES {
        return Err(Error::bad(format!("request holds more than {MAX_JSON_VALUES} JSON values ({values}); send smaller batches")));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.contains("json"));
        if json_type {
            Error::bad(format!("request body is not valid JSON: {e}"))
        } else {
            Error::bad("Request body must include an 'operation' property.")
        }
    })
}

/// An upper bound of the values a JSON text holds: containers opened plus separators, outside
/// strings. One pass, no allocation.
fn count_json_values(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' | b',' => n += 1,
            _ => {}
        }
    }
    n
}

fn json_response<T: serde::Serialize>(status: u16, v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(text) => raw_json(status, text),
        Err(_) => raw_json(500, r#"{"error":"internal error: an answer could not be written","code":"internal"}"#.to_string()),
    }
}

fn raw_json(status: u16, text: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::SERVER, HeaderValue::from_static("switchyard-node"));
    r
}

#[cfg(test)]
mod tests {
    use super::count_json_values;

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert_eq!(count_json_values(br#"[{},{},{}]"#), 6);
        assert_eq!(count_json_values(br#"{"a":"[,{,\",["}"#), 1);
        assert_eq!(count_json_values(br#"{"records":[{"id":1,"b":2}]}"#), 4);
    }
}
