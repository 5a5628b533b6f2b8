//! The HTTP server: assembles every route behind the gate and runs it on a socket, and the
//! [`Emulator`] handle that tests and the binary start and stop.
//!
//! - `family`: route families that counters, latency and faults are keyed by;
//! - `gate`: the middleware that authenticates, counts, limits, faults and delays calls;
//! - `directory`: version list, resource directory, `/limits`, 404;
//! - `listener`: the accept loop (plain or TLS), graceful shutdown, connection drops.

mod directory;
mod family;
mod gate;
mod listener;

pub use family::Family;
pub use gate::{MAX_VERSION, MIN_VERSION};

use crate::config::Config;
use crate::faults::Faults;
use crate::state::{AppState, Org};
use crate::{auth, control, faults, tls};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid (names the setting).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The `host:port` asked for.
        addr: String,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// TLS was asked for and could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// Checks what `Org::new` does not: fault rules, the JWT key, the edition, latency families.
fn validate(config: &Config) -> Result<(), StartError> {
    if let Some(name) = config
        .latency
        .routes
        .keys()
        .find(|name| Family::parse(name).is_none())
    {
        return Err(StartError::Config(format!(
            "latency.routes.{name}: not a route family (token, query, sobjects, composite, bulk, limits, other)"
        )));
    }
    let invalid = |e: &dyn std::fmt::Display| StartError::Config(e.to_string());
    faults::validate(&config.faults).map_err(|e| invalid(&e))?;
    auth::load_key(&config.org.jwt_cert_pem).map_err(|e| invalid(&e))?;
    if !["production", "developer"].contains(&config.org.edition.as_str()) {
        return Err(StartError::Config(format!(
            "org.edition: '{}' is not \"production\" or \"developer\"",
            config.org.edition
        )));
    }
    Ok(())
}

/// The full application: every route, behind the gate, with gzip both ways.
pub fn app(state: AppState, shutdown: CancellationToken) -> Router {
    let gate = gate::Gate::new(state.clone(), shutdown);
    let routes = Router::new()
        .merge(auth::router())
        .merge(directory::router())
        .merge(control::router())
        .merge(crate::rest::router())
        .merge(crate::bulk::router())
        .fallback(directory::not_found)
        .layer(from_fn_with_state(gate, gate::gate))
        .layer(CompressionLayer::new())
        .layer(RequestDecompressionLayer::new())
        .with_state(state);
    Router::new()
        .fallback_service(routes)
        .layer(from_fn(gate::shape_method_not_allowed))
        .layer(from_fn(trim_trailing_slash))
}

/// Salesforce accepts a trailing slash on any resource path and clients send both forms
/// (simple-salesforce calls `.../query/?q=` and `.../sobjects/Account/`). Rewriting the path
/// once, before routing, lets every route be declared once, without the slash.
async fn trim_trailing_slash(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let target = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_string(),
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(path_and_query) = target.parse() {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

/// A running emulator. Dropping it stops the server; [`Emulator::shutdown`] also waits for
/// open requests to finish.
pub struct Emulator {
    org: Arc<Org>,
    url: String,
    ca_pem: Option<String>,
    shutdown: CancellationToken,
    serving: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Validates `config`, binds `host:port` (port 0 picks a free one) and starts serving.
    pub async fn start(config: Config) -> Result<Emulator, StartError> {
        validate(&config)?;
        let addr = format!("{}:{}", config.host, config.port);
        let host = config.host.clone();
        let org = Arc::new(Org::new(config).map_err(|e| StartError::Config(e.to_string()))?);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let identity = org.config.tls.then(|| tls::generate(&host)).transpose()?;
        let scheme = if identity.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", reachable(local));
        org.base_url
            .set(url.clone())
            .expect("a new org has no URL yet");
        let shutdown = CancellationToken::new();
        let app = app(AppState { org: org.clone() }, shutdown.clone());
        let acceptor = identity
            .as_ref()
            .map(|id| tokio_rustls::TlsAcceptor::from(id.server_config.clone()));
        let serving = tokio::spawn(listener::serve(listener, acceptor, app, shutdown.clone()));
        tracing::info!(%url, "emulator listening");
        Ok(Emulator {
            org,
            url,
            ca_pem: identity.map(|id| id.ca_pem),
            shutdown,
            serving: Some(serving),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same JSON as `GET /__emulator/stats`.
    pub fn stats(&self) -> Value {
        control::stats_snapshot(&self.org)
    }

    /// The emulated org (store, limits, faults, sessions, counters).
    pub fn org(&self) -> &Arc<Org> {
        &self.org
    }

    /// The fault rules in force (`set`, `clear`, `config`), as `PUT /__emulator/faults` does.
    pub fn faults(&self) -> &Faults {
        &self.org.faults
    }

    /// PEM of the CA that signed the server certificate, when serving https.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Stops accepting, lets open requests finish (up to a few seconds) and returns when the
    /// server has stopped. Calls held by a `timeout` fault are dropped.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(serving) = self.serving.take() {
            if let Err(error) = serving.await {
                tracing::error!(%error, "server task failed");
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The address clients should use: a wildcard bind is reached over loopback.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port())
        }
        _ => local,
    }
}
