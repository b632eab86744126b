//! TLS for every client of a node (the SocketCluster client, the Operations API client, a
//! node's outbound links): a rustls configuration for a `Trust`, the pinned-certificate
//! verifier, certificate fingerprints, and telling an untrusted certificate from other failures.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
pub use switchyard_protocol::tls::Trust;

/// Refuses a setting that cannot make a TLS configuration (a malformed pin, a CA without a
/// certificate) before it is stored.
pub fn check(trust: &Trust) -> Result<(), TrustError> {
    client_config(trust).map(|_| ())
}

/// Why a trust setting cannot make a TLS configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TrustError(pub String);

/// `AB:CD:…`: the SHA-256 of a certificate's DER, as shown to users.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn normalize(fp: &str) -> String {
    fp.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_uppercase()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client configuration for `trust`.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TrustError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError(format!("TLS set-up failed: {e}")))?;
    let config = match trust {
        Trust::System => {
            let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Ca { pem } => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| TrustError(format!("the CA is not valid PEM: {e}")))?;
                roots.add(cert).map_err(|e| TrustError(format!("the CA certificate is not usable: {e}")))?;
            }
            if roots.is_empty() {
                return Err(TrustError("the CA PEM holds no certificate".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pinned { fingerprint: fp } => {
            let want = normalize(fp);
            if want.len() != 64 {
                return Err(TrustError(format!("'{fp}' is not a SHA-256 fingerprint (64 hex digits)")));
            }
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { want, provider: provider() }))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// Accepts exactly one certificate, whatever its names or issuer; signatures are still checked.
#[derive(Debug)]
struct Pinned {
    want: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let got = normalize(&fingerprint(end_entity));
        if got == self.want {
            Ok(ServerCertVerified::assertion())
        } else {
            let mismatch = TrustError(format!("certificate fingerprint {} is not the trusted {}", fingerprint(end_entity), self.want));
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(Arc::new(mismatch)))))
        }
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Whether `e` (or anything in its source chain, I/O errors' inner errors included) is a TLS
/// refusal of the peer's certificate: the typed test behind an "untrusted" answer.
pub fn is_untrusted_certificate(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented);
        }
        // An I/O error's `source` skips the error it wraps: step into that one itself.
        let wrapped = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|i| i as &(dyn std::error::Error + 'static));
        next = wrapped.or_else(|| err.source());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_refusals_are_found_through_wrapped_io_errors() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, refused));
        assert!(is_untrusted_certificate(&nested));
        let other = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError));
        assert!(!is_untrusted_certificate(&other), "a TLS failure that is not about the certificate");
        assert!(!is_untrusted_certificate(&std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
    }
}
