//! cluster_read: one read on this node and on every peer in parallel, answered per node. A
//! peer is asked with a plain HTTP/1.1 request on a connection of our own, dialled (and
//! TLS-trusted) exactly as its link is.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::Value;
use switchyard_protocol::ops::{ClusterReadAnswer, ClusterReadReply};
use switchyard_protocol::Operation;

use crate::replication::PeerConfig;
use crate::error::{Error, Result};
use crate::Node;

const CLUSTER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one read on this node and on every peer in parallel; answers per node, an unreachable
/// peer being an error entry rather than a failure of the whole read.
pub async fn cluster_read(node: &Arc<Node>, who: &crate::auth::Principal, search: Operation) -> Result<ClusterReadReply> {
    if !search.is_read() {
        return Err(Error::bad(format!(
            "cluster_read runs reads only (search_by_id, search_by_value, search_by_conditions, describe_table, describe_all, sql), not '{}'",
            search.name()
        )));
    }
    if let Operation::Sql(q) = &search {
        if !q.sql.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select")) {
            return Err(Error::bad("cluster_read runs SELECT statements only"));
        }
    }
    let peers: Vec<PeerConfig> = node.peers.configs();
    let local = async {
        let answer = Box::pin(super::dispatch(node, who, search.clone())).await.and_then(|r| r.into_value());
        (node.config.node_name.clone(), answer.map_err(|e| e.to_string()))
    };
    let remote = peers.into_iter().map(|p| {
        let search = &search;
        async move {
            let url = p.http_url();
            let answer = match tokio::time::timeout(CLUSTER_READ_TIMEOUT, ask(node, &p, search)).await {
                Ok(answer) => answer,
                Err(_) => Err(format!("{url} did not answer within {} s", CLUSTER_READ_TIMEOUT.as_secs())),
            };
            (p.name, answer)
        }
    });
    let (local, remote) = tokio::join!(local, futures_util::future::join_all(remote));
    let nodes = std::iter::once(local)
        .chain(remote)
        .map(|(node, answer)| match answer {
            Ok(result) => ClusterReadAnswer { node, ok: true, result: Some(result), error: None },
            Err(error) => ClusterReadAnswer { node, ok: false, result: None, error: Some(error) },
        })
        .collect();
    Ok(ClusterReadReply { nodes })
}

/// POSTs `search` to a peer's Operations API with its link's credentials; answers the result,
/// or the peer's error text.
async fn ask(node: &Node, p: &PeerConfig, search: &Operation) -> std::result::Result<Value, String> {
    let url = p.http_url();
    let io = p.endpoint().dial().await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP with {url} failed: {e}"))?;
    // The connection is driven until the request is answered and the sender dropped.
    node.tasks.spawn(async move {
        let _ = conn.await;
    });
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", p.username, p.password));
    let body = serde_json::to_vec(search).map_err(|e| e.to_string())?;
    let request = hyper::Request::post("/")
        .header(HOST, format!("{}:{}", p.host, p.port))
        .header(AUTHORIZATION, format!("Basic {credentials}"))
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("{url} failed to answer: {e}"))?;
    let status = response.status();
    let bytes = response.into_body().collect().await.map_err(|e| format!("reading {url}'s answer failed: {e}"))?.to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{url} answered {status} with something that is not JSON: {e}"))?;
    if status.is_success() {
        Ok(answer)
    } else {
        let error = answer.get("error").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| answer.to_string());
        if status == hyper::StatusCode::FORBIDDEN {
            // Said plainly: the read ran there as the link's user, not as the caller.
            return Err(format!(
                "{url} answered {status}: {error} (a cluster-wide read runs on each peer as the user its link logs in \
                 with, here '{}'; give that user read permission there, or link with a user that has it)",
                p.username
            ));
        }
        Err(format!("{url} answered {status}: {error}"))
    }
}
