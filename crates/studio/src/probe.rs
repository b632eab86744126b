//! Live status of an instance (reachability, latency, version, kind) and the certificate an
//! untrusted https:// instance presents, so that the user can accept it once by fingerprint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use switchyard_protocol::operation::NoFields;
use switchyard_protocol::Operation;

use crate::types::InstanceStatus;
use switchyard_protocol::ErrorBody;
use crate::error::{Error, Result};
use switchyard_client::{OpsClient, ServerKind};
use switchyard_protocol::ErrorCode;

/// Asks `registration_info` (switchyard-node, HarperDB) and times the round trip; tells the
/// server's kind from the answer (refusing an answer of neither). On HarperDB, also asks
/// `user_info`: in its dev mode a loopback request is let in whatever it carries, so only an
/// answer naming the registered user shows the credentials are right.
pub async fn status(id: &str, client: &OpsClient) -> InstanceStatus {
    let started = Instant::now();
    let answer = client.run(&Operation::RegistrationInfo(NoFields {})).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let answer = answer.and_then(|v| {
        ServerKind::from_registration(&v).map(|kind| (kind, v)).map_err(|reason| switchyard_client::Error::Protocol { url: client.url().to_string(), reason })
    });
    match answer {
        Ok((kind, v)) => {
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            let error = match kind {
                ServerKind::HarperDb => verify_user(client).await.err(),
                ServerKind::SwitchyardNode => None,
            };
            InstanceStatus {
                id: id.to_string(),
                online: true,
                latency_ms: Some(latency_ms),
                version: s("version"),
                server_kind: Some(kind),
                node_name: s("node_name").or_else(|| s("hostname")),
                error,
                certificate_fingerprint: None,
            }
        }
        Err(e) => {
            let certificate_fingerprint = match &e {
                switchyard_client::Error::Untrusted { .. } => peek_certificate(client.url()).await.ok(),
                _ => None,
            };
            // A wrong password still proves the instance is up.
            let online = matches!(e, switchyard_client::Error::Api { .. });
            InstanceStatus {
                id: id.to_string(),
                online,
                latency_ms: online.then_some(latency_ms),
                version: None,
                server_kind: None,
                node_name: None,
                error: Some(e.to_body()),
                certificate_fingerprint,
            }
        }
    }
}

/// Whether HarperDB's `user_info` names the user the client logs in as (difference
/// `authorize-local`).
async fn verify_user(client: &OpsClient) -> std::result::Result<(), ErrorBody> {
    let expected = client.username().unwrap_or_default().to_string();
    let answer = client.run(&Operation::UserInfo(NoFields {})).await.map_err(|e| e.to_body())?;
    match answer.get("username").and_then(Value::as_str) {
        Some(name) if name == expected => Ok(()),
        named => Err(ErrorBody {
            code: ErrorCode::Unauthorized,
            message: format!(
                "the credentials could not be verified: HarperDB answered as {} instead of '{expected}' (in its dev mode, authorizeLocal lets requests from this machine in without checking them)",
                named.map(|n| format!("'{n}'")).unwrap_or_else(|| "no user".into())
            ),
        }),
    }
}

/// Records the server certificate and refuses it: the handshake only shows what is presented.
#[derive(Debug)]
struct Recorder {
    seen: Arc<Mutex<Option<String>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(&self, end_entity: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: &ServerName<'_>, _: &[u8], _: UnixTime) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(switchyard_tls::fingerprint(end_entity));
        }
        Err(rustls::Error::General("certificate recorded, not trusted".into()))
    }
    fn verify_tls12_signature(&self, _: &[u8], _: &CertificateDer<'_>, _: &DigitallySignedStruct) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("not trusted".into()))
    }
    fn verify_tls13_signature(&self, _: &[u8], _: &CertificateDer<'_>, _: &DigitallySignedStruct) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("not trusted".into()))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider().signature_verification_algorithms.supported_schemes()
    }
}

/// The SHA-256 fingerprint of the certificate an https:// URL presents, trusted or not.
pub async fn peek_certificate(url: &str) -> Result<String> {
    let seen = Arc::new(Mutex::new(None));
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Invalid(format!("TLS set-up failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recorder { seen: seen.clone() }))
        .with_no_client_auth();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Invalid(format!("cannot build HTTP client: {e}")))?;
    let _ = http.get(url).send().await;
    let fp = seen.lock().ok().and_then(|s| s.clone());
    fp.ok_or_else(|| Error::Client(switchyard_client::Error::Unreachable { url: url.to_string(), reason: "no certificate was presented".into() }))
}
