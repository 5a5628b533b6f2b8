//! The one HTTP client every call goes through, and the rule for which URLs it may reach.
//!
//! One `reqwest::Client` per [`Client`](crate::Client) keeps connections alive across
//! calls (the pool is the point: TLS handshakes per call would dominate small REST
//! calls), decompresses gzip, and bounds both connecting and whole requests with
//! timeouts so a stalled server becomes a `TIMEOUT` error instead of a hung task.
//!
//! TLS is rustls with the `ring` provider (no aws-lc, no OpenSSL). Trust anchors are the
//! Mozilla roots compiled in via `webpki-root-certs` plus, when `tls_ca_file` is set,
//! every certificate in that PEM file (an emulator's self-signed CA, a corporate proxy).
//! We do not read the OS trust store: results must not depend on the host.
//!
//! Bearer tokens must never cross the network in clear text, so instance and login URLs
//! must be `https`, except on loopback (127.0.0.0/8, `::1`, `localhost`) where the
//! emulator runs.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::error::{redact, Error};
use crate::retry::{Outcome, TransportFailure};

/// A complete HTTP response: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, fully read.
    pub body: Bytes,
}

impl Response {
    /// Deserialises the JSON body; a body that does not match is an `INVALID_RESPONSE` error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(
                crate::ErrorKind::Salesforce,
                crate::error::codes::INVALID_RESPONSE,
                format!("unexpected response body (HTTP {}): {e}", self.status),
            )
            .with_status(self.status)
        })
    }

    /// The outcome for the retry classifier.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome::Response {
            status: self.status,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Why a send produced no response, with the (redacted) transport message.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The classifier's category.
    pub failure: TransportFailure,
    /// A description safe to log.
    pub message: String,
}

impl Failure {
    /// The outcome for the retry classifier.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome::Transport {
            failure: self.failure,
            message: &self.message,
        }
    }
}

/// Sends a request and reads the whole body, mapping transport errors for the classifier.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Response, Failure> {
    let response = request.send().await.map_err(|e| failure(&e, false))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| failure(&e, true))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn failure(error: &reqwest::Error, reading_body: bool) -> Failure {
    let kind = if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_connect() {
        TransportFailure::Connect
    } else if reading_body || error.is_body() || error.is_decode() {
        TransportFailure::BodyRead
    } else {
        TransportFailure::Reset
    };
    // reqwest's Display omits the cause chain; keep it, minus anything credential-like.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure {
        failure: kind,
        message: redact(&message),
    }
}

/// Transport settings, filled from the builder's `tls_` and `http_` knobs.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// PEM file of extra trusted CA certificates.
    pub ca_file: Option<std::path::PathBuf>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (send to last body byte).
    pub request_timeout: Duration,
    /// Idle keep-alive connections per host.
    pub pool_max_idle_per_host: usize,
}

/// Builds the shared `reqwest` client.
pub fn build_client(settings: &HttpSettings) -> Result<reqwest::Client, Error> {
    let tls = tls_config(settings.ca_file.as_deref())?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_max_idle_per_host(settings.pool_max_idle_per_host)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60))
        .tcp_nodelay(true)
        .gzip(true)
        .user_agent(concat!("sfscale/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::config("tls", format!("cannot build the HTTP client: {e}")))
}

fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| {
                Error::config(
                    "tls_ca_file",
                    format!("{}: unusable certificate: {e}", path.display()),
                )
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config("tls", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bad = |msg: String| Error::config("tls_ca_file", format!("{}: {msg}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(bad("contains no CERTIFICATE block".to_owned()));
    }
    Ok(certs)
}

/// Parses a base URL (instance or login) and enforces https-except-on-loopback.
/// `setting` names the configuration knob in the error.
pub fn validate_base_url(setting: &str, raw: &str) -> Result<Url, Error> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::config(setting, format!("'{raw}' is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(
                setting,
                format!("'{raw}' must use https (plain http is allowed only on loopback)"),
            ))
        }
        other => {
            return Err(Error::config(
                setting,
                format!("'{raw}' has unsupported scheme '{other}'"),
            ))
        }
    }
    if url.host().is_none() || url.query().is_some() || !url.username().is_empty() {
        return Err(Error::config(
            setting,
            format!("'{raw}' must be a plain base URL like https://host[:port]"),
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_except_on_loopback() {
        for ok in [
            "https://acme.my.salesforce.com",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://[::1]:99",
        ] {
            assert!(validate_base_url("instance_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://acme.my.salesforce.com",
            "http://10.0.0.1",
            "ftp://x",
            "nonsense",
            "http://localhost.evil.com",
        ] {
            let err = validate_base_url("instance_url", bad).unwrap_err();
            assert!(err.to_string().contains("instance_url"), "{err}");
        }
    }

    #[test]
    fn base_urls_are_normalised_to_a_trailing_slash() {
        let url = validate_base_url("login_url", "https://login.salesforce.com").unwrap();
        assert_eq!(
            url.join("services/oauth2/token").unwrap().as_str(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        let url = validate_base_url("login_url", "https://x.com/prefix").unwrap();
        assert_eq!(url.as_str(), "https://x.com/prefix/");
    }

    #[test]
    fn ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certs here").unwrap();
        let err = tls_config(Some(&empty)).unwrap_err();
        assert!(err.to_string().contains("tls_ca_file"), "{err}");
        assert!(tls_config(Some(&dir.path().join("missing.pem"))).is_err());
        assert!(tls_config(None).is_ok());
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-ca.pem");
        assert!(tls_config(Some(Path::new(ca))).is_ok());
    }
}
