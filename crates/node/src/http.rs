//! The HTTP surface: `POST /` for the Operations API, `GET /health`. Authentication happens here,
//! before any operation runs; nothing is trusted for coming from loopback.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ops::{self, Reply};
use crate::Node;

pub fn router(node: Arc<Node>) -> Router {
    let limit = node.config.max_body_bytes;
    Router::new()
        .route("/", post(operations).get(about))
        .route("/health", get(|| async { "ok" }))
        .route("/socketcluster/", get(crate::channels::upgrade))
        .route("/socketcluster", get(crate::channels::upgrade))
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            json_response(500, &json!({"error": "internal error: the server hit a bug; nothing was committed by this request"}))
        }))
        .with_state(node)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
/// With TLS configured on the node, the listener serves https:// and wss://.
pub async fn run(listener: TcpListener, node: Arc<Node>, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router(node.clone());
    match &node.tls {
        Some(tls) => {
            let listener = crate::tls::TlsListener::new(listener, tls.config.clone())?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        None => {
            // Small frames (pings, publications, replies) go out at once, not after a delayed ACK.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
}

async fn about(State(node): State<Arc<Node>>) -> Response {
    json_response(200, &json!({
        "name": crate::KIND,
        "version": crate::VERSION,
        "node_name": node.config.node_name,
        "usage": "POST an Operations API request as JSON to this URL with Basic or Bearer authorization",
    }))
}

async fn operations(State(node): State<Arc<Node>>, headers: HeaderMap, body: std::result::Result<Bytes, BytesRejection>) -> Response {
    let result = match body {
        Ok(bytes) => handle(&node, &headers, &bytes).await,
        Err(rejection) => Err(Error::bad(format!("request body could not be read: {}", rejection.body_text()))),
    };
    match result {
        Ok(Reply::Json(v)) => json_response(200, &v),
        Ok(Reply::Raw(text)) => raw_json(200, text),
        Err(e) => {
            let status = e.status();
            if status >= 500 {
                node.log.error(&["operation"], e.to_string());
            }
            json_response(status, &e.body())
        }
    }
}

async fn handle(node: &Arc<Node>, headers: &HeaderMap, body: &[u8]) -> Result<Reply> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.contains("json"));
        if json_type {
            Error::bad(format!("request body is not valid JSON: {e}"))
        } else {
            Error::bad("Request body must include an 'operation' property.")
        }
    })?;
    let op = value
        .get("operation")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::bad("Request body must include an 'operation' property."))?
        .to_string();
    if op == "refresh_operation_token" {
        let token = bearer(headers).ok_or_else(|| Error::Unauthorized("refresh_operation_token needs 'Authorization: Bearer <refresh_token>'".into()))?;
        return Ok(Reply::Json(serde_json::to_value(node.auth.refresh(&token).await?).map_err(|e| Error::Internal(e.to_string()))?));
    }
    let who = authenticate(node, headers, &op, &value).await?;
    ops::dispatch(node, &who, &op, value).await
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
}

async fn authenticate(node: &Node, headers: &HeaderMap, op: &str, body: &Value) -> Result<Principal> {
    let header_value = headers.get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_string));
    match header_value {
        Some(Ok(v)) => {
            let (scheme, rest) = v.split_once(' ').unwrap_or((v.as_str(), ""));
            if scheme.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| Error::Unauthorized("Login failed".into()))?;
                let (user, pass) = decoded.split_once(':').ok_or_else(|| Error::Unauthorized("Login failed".into()))?;
                node.auth.login(user, pass).await.inspect_err(|_| {
                    node.log.info(&["auth"], format!("login failed for user '{user}'"));
                })
            } else if scheme.eq_ignore_ascii_case("bearer") {
                node.auth.bearer(rest.trim()).await
            } else {
                Err(Error::Unauthorized(format!("unsupported authorization scheme '{scheme}'; use Basic or Bearer")))
            }
        }
        Some(Err(_)) => Err(Error::Unauthorized("Login failed".into())),
        None => {
            // Token and login operations may carry the credentials in the body instead.
            let creds = (body.get("username").and_then(Value::as_str), body.get("password").and_then(Value::as_str));
            match (op, creds) {
                ("create_authentication_tokens" | "login", (Some(u), Some(p))) => node
                    .auth
                    .login(u, p)
                    .await
                    .map_err(|_| Error::Unauthorized("invalid credentials".into())),
                _ => Err(Error::Unauthorized("Must login: send Basic credentials or a Bearer operation token".into())),
            }
        }
    }
}

fn json_response(status: u16, v: &Value) -> Response {
    raw_json(status, v.to_string())
}

fn raw_json(status: u16, text: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::SERVER, HeaderValue::from_static("switchyard-node"));
    r
}
