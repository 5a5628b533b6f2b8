//! Shared helpers for the integration tests: an in-process emulator on port 0, clients
//! for it with each grant, and the emulator's control API (`/__emulator/...`) over HTTP.
#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use serde_json::{json, Value};
use sfscale::{Client, ClientBuilder};
use sfscale_emulator::config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME,
};
use sfscale_emulator::{Config, Emulator};

/// A running emulator and a plain HTTP client for its control API.
pub struct Emu {
    pub emulator: Emulator,
    http: reqwest::Client,
}

impl Emu {
    /// Starts an emulator with the default org.
    pub async fn start() -> Emu {
        Emu::start_with(Config::default()).await
    }

    /// Starts an emulator with `config` (port forced to 0).
    pub async fn start_with(mut config: Config) -> Emu {
        config.port = 0;
        let emulator = Emulator::start(config).await.expect("emulator starts");
        Emu {
            emulator,
            http: control_client(),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        self.emulator.url()
    }

    /// A builder for this emulator with the client-credentials grant and test-friendly
    /// retry timings (short backoff so retried tests finish quickly).
    pub fn builder(&self) -> ClientBuilder {
        Client::builder()
            .instance_url(self.url())
            .auth_client_credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .retry_backoff(Duration::from_millis(2), Duration::from_millis(50))
    }

    /// A client with every other default.
    pub fn client(&self) -> Client {
        self.builder().build().expect("client builds")
    }

    /// The password grant's builder.
    pub fn password_builder(&self) -> ClientBuilder {
        self.builder().auth_password(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_USERNAME,
            DEFAULT_PASSWORD,
        )
    }

    /// The plain HTTP client used for control calls (also for raw OAuth calls in tests).
    pub fn control_http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET /__emulator/stats`.
    pub async fn stats(&self) -> Value {
        self.control(reqwest::Method::GET, "stats", None).await
    }

    /// `PUT /__emulator/limits`.
    pub async fn set_limits(&self, limits: Value) {
        self.control(reqwest::Method::PUT, "limits", Some(limits))
            .await;
    }

    /// `PUT /__emulator/faults`.
    pub async fn set_faults(&self, faults: Value) {
        self.control(reqwest::Method::PUT, "faults", Some(faults))
            .await;
    }

    /// `POST /__emulator/expire-sessions`.
    pub async fn expire_sessions(&self) {
        self.control(reqwest::Method::POST, "expire-sessions", Some(json!({})))
            .await;
    }

    /// `POST /__emulator/reset`.
    pub async fn reset(&self) {
        self.control(reqwest::Method::POST, "reset", Some(json!({})))
            .await;
    }

    /// `POST /__emulator/load`.
    pub async fn load(&self, object: &str, records: Vec<Value>) {
        self.control(
            reqwest::Method::POST,
            "load",
            Some(json!({"object": object, "records": records})),
        )
        .await;
    }

    /// Any control call; panics on a non-2xx answer so a broken setup fails loudly.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/__emulator/{path}", self.url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("control call sends");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "control {path} answered {status}: {body}"
        );
        body
    }
}

/// A plain-HTTP client for the control API (reqwest is built without a default TLS
/// provider; the control API is plain HTTP on loopback).
fn control_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("control client builds")
}

/// `stats[a][b]...` as u64, 0 when absent.
pub fn count(stats: &Value, path: &[&str]) -> u64 {
    path.iter().fold(stats, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

/// `n` Account records named `prefix-i` with `External_Id__c` = `prefix-i`.
pub fn accounts(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(
            |i| json!({"Name": format!("{prefix}-{i}"), "External_Id__c": format!("{prefix}-{i}")}),
        )
        .collect()
}
