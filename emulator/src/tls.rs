//! Optional https: a throw-away certificate authority generated at start-up, and a server
//! certificate it signs for `localhost`, `127.0.0.1`, `::1` and the bound host.
//!
//! Real clients assume https (some refuse plain http outside loopback), so the emulator can
//! serve it without anyone running openssl. A CA plus a leaf, rather than one self-signed
//! leaf, because some TLS stacks refuse a certificate that is its own trust anchor; clients
//! trust the CA PEM (`--tls-cert-out`, [`crate::Emulator::ca_pem`]). Keys live only in
//! memory and die with the process.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("TLS setup failed: {0}")]
pub struct TlsError(String);

fn tls_error(error: impl std::fmt::Display) -> TlsError {
    TlsError(error.to_string())
}

/// A generated CA and the rustls server config presenting its leaf certificate.
pub struct TlsIdentity {
    /// PEM of the CA certificate clients should trust.
    pub ca_pem: String,
    /// Server config with ALPN `h2` and `http/1.1`.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Generates a CA and a leaf certificate valid for loopback names and `host`.
pub fn generate(host: &str) -> Result<TlsIdentity, TlsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sfscale-emulator local CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(tls_error)?)
        .map_err(tls_error)?;

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" && host != "::" {
        names.push(host.to_string());
    }
    let mut leaf_params = CertificateParams::new(names).map_err(tls_error)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "sfscale-emulator");
    let leaf_key = KeyPair::generate().map_err(tls_error)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(tls_error)?;

    let chain = vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error)?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        ca_pem: ca.pem(),
        server_config: Arc::new(server_config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_ca_and_a_server_config() {
        let identity = generate("127.0.0.1").unwrap();
        assert!(identity.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(identity.server_config.alpn_protocols.len(), 2);
    }
}
