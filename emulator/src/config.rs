//! The emulator's configuration: the org (connected app, user, JWT certificate, schema
//! additions) and the knobs that model scale (limits, latency, bulk speed, faults).
//!
//! Loaded from TOML (`--config emulator.toml`); every field has a default so an empty file,
//! or no file, gives a working org whose credentials are documented in the emulator README.
//! The `limits` section can also be changed at run time through `PUT /__emulator/limits`.

use crate::schema::{default_custom_fields, CustomField, CustomObject};
use serde::{Deserialize, Serialize};

/// Default connected app consumer key.
pub const DEFAULT_CLIENT_ID: &str = "sfscale-emulator-client";
/// Default connected app consumer secret.
pub const DEFAULT_CLIENT_SECRET: &str = "sfscale-emulator-secret";
/// Default integration user.
pub const DEFAULT_USERNAME: &str = "integration@sfscale.test";
/// Default password of the integration user.
pub const DEFAULT_PASSWORD: &str = "sfscale-password";
/// Default security token (optional suffix of the password, as in a real org).
pub const DEFAULT_SECURITY_TOKEN: &str = "EMULATORTOKEN";
/// Public certificate matching the test private key in `emulator/fixtures/jwt/`.
pub const DEFAULT_JWT_CERT_PEM: &str = include_str!("../fixtures/jwt/cert.pem");

/// `DailyApiRequests` of a Developer Edition org.
pub const DEVELOPER_DAILY_API_REQUESTS: u64 = 15_000;
/// Concurrent long-running call cap of a Developer Edition org.
pub const DEVELOPER_LONG_RUNNING_CAP: u64 = 5;

/// Everything the emulator needs to start.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind; loopback by default.
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Serve https with a generated self-signed certificate.
    pub tls: bool,
    pub org: OrgConfig,
    pub limits: Limits,
    pub latency: Latency,
    pub bulk: BulkConfig,
    pub faults: FaultConfig,
    /// Custom objects (`__c`) added to the standard ones.
    pub objects: Vec<CustomObject>,
    /// Custom fields added to standard or custom objects.
    pub fields: Vec<CustomField>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            tls: false,
            org: OrgConfig::default(),
            limits: Limits::default(),
            latency: Latency::default(),
            bulk: BulkConfig::default(),
            faults: FaultConfig::default(),
            objects: Vec::new(),
            fields: default_custom_fields(),
        }
    }
}

/// The org, its connected app and its integration user. `Debug` redacts the secrets.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrgConfig {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub security_token: String,
    /// PEM certificate or public key that verifies JWT bearer assertions.
    pub jwt_cert_pem: String,
    /// Session lifetime in seconds; a token older than this answers 401 INVALID_SESSION_ID.
    pub session_lifetime_secs: u64,
    /// `edition`: "production" (long-running cap 25) or "developer" (cap 5, 15 000 calls/day).
    pub edition: String,
    /// Name of the connected app (shown in per-app usage).
    pub app_name: String,
    /// Issue refresh tokens from the password grant (real orgs never do; lets refresh_token
    /// flows be exercised without a browser).
    pub issue_refresh_tokens: bool,
}

impl Default for OrgConfig {
    fn default() -> Self {
        OrgConfig {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            username: DEFAULT_USERNAME.into(),
            password: DEFAULT_PASSWORD.into(),
            security_token: DEFAULT_SECURITY_TOKEN.into(),
            jwt_cert_pem: DEFAULT_JWT_CERT_PEM.into(),
            session_lifetime_secs: 7200,
            edition: "production".into(),
            app_name: "sfscale".into(),
            issue_refresh_tokens: true,
        }
    }
}

impl std::fmt::Debug for OrgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("security_token", &"<redacted>")
            .field("session_lifetime_secs", &self.session_lifetime_secs)
            .field("edition", &self.edition)
            .field("app_name", &self.app_name)
            .field("issue_refresh_tokens", &self.issue_refresh_tokens)
            .finish_non_exhaustive()
    }
}

/// Platform limits (changeable at run time with `PUT /__emulator/limits`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// `DailyApiRequests` Max.
    pub daily_api_requests: u64,
    /// Length of the rolling window the allocation applies to (24 h in a real org).
    pub daily_window_secs: u64,
    /// `DailyBulkApiBatches` Max.
    pub daily_bulk_batches: u64,
    /// `DailyBulkV2QueryJobs` Max.
    pub daily_bulk_query_jobs: u64,
    /// Requests in flight longer than `long_running_after_ms` beyond which new calls get 403.
    pub long_running_cap: u64,
    /// When an in-flight request counts as long-running (20 s in a real org).
    pub long_running_after_ms: u64,
    /// How long a writer waits for a parent row lock before UNABLE_TO_LOCK_ROW (10 s real).
    pub lock_wait_ms: u64,
    /// Maximum raw bytes per bulk upload (100 MB real).
    pub max_upload_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            daily_api_requests: 100_000,
            daily_window_secs: 86_400,
            daily_bulk_batches: 15_000,
            daily_bulk_query_jobs: 10_000,
            long_running_cap: 25,
            long_running_after_ms: 20_000,
            lock_wait_ms: 10_000,
            max_upload_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Added response latency: `base_ms` plus uniform jitter up to `jitter_ms`, per route family
/// (`token`, `query`, `sobjects`, `composite`, `bulk`, `limits`); `default` for the rest.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    pub default: RouteLatency,
    pub routes: std::collections::BTreeMap<String, RouteLatency>,
}

/// Latency of one route family.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteLatency {
    pub base_ms: u64,
    pub jitter_ms: u64,
}

/// How fast and how wide Bulk API 2.0 jobs are processed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkConfig {
    /// Rows per internal batch (10 000 real).
    pub batch_size: usize,
    /// Rows per transaction inside a batch (200 real: triggers run per 200).
    pub chunk_size: usize,
    /// Internal batches processed at once across all jobs.
    pub parallel_batches: usize,
    /// Processing time per row in microseconds (0 = as fast as possible). Locks are held
    /// for a chunk's processing time, which is what makes parent-lock contention appear.
    pub row_micros: u64,
    /// Times a batch that met lock timeouts is retried before its rows fail (10 real).
    pub batch_retries: u32,
    /// Default `maxRecords` for query results when the client gives none.
    pub query_page_size: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            batch_size: 10_000,
            chunk_size: 200,
            parallel_batches: 4,
            row_micros: 0,
            batch_retries: 10,
            query_page_size: 50_000,
        }
    }
}

/// Fault injection: seeded so a run can be repeated; also settable with `PUT /__emulator/faults`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub seed: u64,
    pub rules: Vec<FaultRule>,
}

/// One fault rule: on `route` (`*`, `token`, `query`, `sobjects`, `composite`, `bulk`,
/// `limits`), answer a `share` of calls with `effect` (`503`, `500`, `reset`, `timeout`,
/// `delay:MS`, `expire-session`, `concurrent-limit`, `long-txn`, `lock`, `query-timeout`,
/// `bulk-fail`; see `faults.rs`), from `after_s` seconds after the rule was set
/// for `for_s` seconds (absent: forever).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default = "any_route")]
    pub route: String,
    pub share: f64,
    pub effect: String,
    #[serde(default)]
    pub after_s: f64,
    #[serde(default)]
    pub for_s: Option<f64>,
}

fn any_route() -> String {
    "*".into()
}

impl Config {
    /// Parses a TOML config; unknown keys are errors naming the key. With
    /// `org.edition = "developer"`, limits the file does not set take Developer Edition
    /// values (15 000 calls a day, 5 long-running calls).
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let mut config: Config = toml::from_str(text)?;
        if config.org.edition == "developer" {
            let table: toml::Table = toml::from_str(text)?;
            let set = |key: &str| table.get("limits").and_then(|l| l.get(key)).is_some();
            if !set("daily_api_requests") {
                config.limits.daily_api_requests = DEVELOPER_DAILY_API_REQUESTS;
            }
            if !set("long_running_cap") {
                config.limits.long_running_cap = DEVELOPER_LONG_RUNNING_CAP;
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developer_edition_sets_limits_the_file_leaves_out() {
        let config =
            Config::from_toml("[org]\nedition = \"developer\"\n[limits]\nlong_running_cap = 7\n")
                .unwrap();
        assert_eq!(
            config.limits.daily_api_requests,
            DEVELOPER_DAILY_API_REQUESTS
        );
        assert_eq!(config.limits.long_running_cap, 7);
        assert_eq!(
            Config::from_toml("").unwrap().limits.daily_api_requests,
            100_000
        );
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let shown = format!("{:?}", Config::default());
        for secret in [
            DEFAULT_CLIENT_SECRET,
            DEFAULT_PASSWORD,
            DEFAULT_SECURITY_TOKEN,
        ] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
        assert!(shown.contains(DEFAULT_CLIENT_ID));
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = Config::from_toml("[limits]\ndaily_api_requestz = 1\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("daily_api_requestz"), "{error}");
    }
}
