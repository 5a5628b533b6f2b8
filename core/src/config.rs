//! Client configuration: the builder, the environment variables, and their validation.
//!
//! Every knob has a default documented where it is set, knobs are grouped by prefix
//! (`auth_`, `limits_`, `retry_`, `scheduler_`, `cache_`, `http_`, `tls_`, `query_`), and
//! every mistake is reported once, by [`ClientBuilder::build`], as an error with code
//! `CONFIG` naming the setting. Nothing is checked earlier so that chains stay simple, and
//! nothing is checked later so that a bad key or URL never surfaces as a failed request.
//!
//! # Environment variables ([`ClientBuilder::from_env`] / [`Client::from_env`](crate::Client::from_env))
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SFSCALE_INSTANCE_URL` | My Domain / instance URL; also the login URL when `SFSCALE_LOGIN_URL` is unset | — |
//! | `SFSCALE_LOGIN_URL` | OAuth host (`https://login.salesforce.com`, `https://test.salesforce.com`, My Domain) | instance URL, else `https://login.salesforce.com` |
//! | `SFSCALE_CLIENT_ID` | connected app consumer key (every grant) | — |
//! | `SFSCALE_CLIENT_SECRET` | consumer secret | — |
//! | `SFSCALE_USERNAME` | user (JWT, password) | — |
//! | `SFSCALE_PASSWORD` | password + security token (password grant) | — |
//! | `SFSCALE_PRIVATE_KEY_FILE` | PEM RSA key (PKCS#8 or PKCS#1) for the JWT bearer grant | — |
//! | `SFSCALE_REFRESH_TOKEN` | refresh token (refresh-token grant) | — |
//! | `SFSCALE_API_VERSION` | REST API version, e.g. `62.0` | `62.0` |
//! | `SFSCALE_RESERVE` | fraction of the daily allocation kept for others, 0 ≤ r < 1 | `0.2` |
//! | `SFSCALE_SESSION_LIFETIME_SECS` | the org's session timeout, in seconds | `7200` |
//! | `SFSCALE_CA_FILE` | extra trusted CA certificates (PEM) | — |
//! | `SFSCALE_MAX_RPS` | requests per second ceiling | unlimited |
//! | `SFSCALE_LONG_RUNNING_CAP` | concurrent long-running requests allowed | `10` |
//!
//! The grant is chosen by which variables are set, first match wins:
//! 1. `SFSCALE_PRIVATE_KEY_FILE` → JWT bearer (needs `CLIENT_ID`, `USERNAME`);
//! 2. `SFSCALE_REFRESH_TOKEN` → refresh token (needs `CLIENT_ID`; `CLIENT_SECRET` optional);
//! 3. `SFSCALE_PASSWORD` → username-password (needs `CLIENT_ID`, `CLIENT_SECRET`, `USERNAME`);
//! 4. `SFSCALE_CLIENT_SECRET` → client credentials (needs `CLIENT_ID`).

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::cache::CacheConfig;
use crate::client::Client;
use crate::error::Error;
use crate::http::{validate_base_url, HttpSettings};
use crate::limits::LimitsConfig;
use crate::retry::{Backoff, BudgetConfig, RetryConfig};
use crate::scheduler::{AimdConfig, RateConfig, SchedulerConfig, WhenFull};
use crate::tokens::{Grant, JwtKey, MemoryTokenStore, Secret, SessionTiming, TokenStore};

/// The default REST API version.
pub const DEFAULT_API_VERSION: &str = "62.0";
const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// Grant settings as given; keys are parsed at `build()`.
#[derive(Debug, Clone)]
enum AuthSetting {
    Jwt {
        client_id: String,
        username: String,
        key_pem: Secret,
        audience: Option<String>,
    },
    Grant(Grant),
}

/// Builds a [`Client`]. Start with [`Client::builder`](crate::Client::builder).
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    instance_url: Option<String>,
    login_url: Option<String>,
    api_version: String,
    auth: Option<AuthSetting>,
    token_store: Option<Arc<dyn TokenStore>>,
    session: SessionTiming,
    limits: LimitsConfig,
    retry: RetrySettings,
    scheduler: SchedulerConfig,
    rate: Option<(u32, u32)>,
    cache: CacheConfig,
    http: HttpSettings,
    query_batch_size: u32,
}

/// Retry settings (`retry_` knobs), turned into the retry stage's [`RetryConfig`] at build.
#[derive(Debug, Clone, PartialEq)]
struct RetrySettings {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    budget: BudgetConfig,
    max_retry_after: Duration,
}

/// A validated configuration, produced by [`ClientBuilder::build`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Instance URL given in config (the token response's `instance_url` is used for calls).
    pub instance_url: Option<Url>,
    /// OAuth host.
    pub login_url: Url,
    /// REST API version, e.g. `62.0`.
    pub api_version: String,
    /// How tokens are obtained.
    pub grant: Grant,
    /// Where tokens are kept.
    pub token_store: Arc<dyn TokenStore>,
    /// Session lifetime and refresh point.
    pub session: SessionTiming,
    /// Limits guard.
    pub limits: LimitsConfig,
    /// Retries.
    pub retry: RetryConfig,
    /// Scheduler.
    pub scheduler: SchedulerConfig,
    /// Cache.
    pub cache: CacheConfig,
    /// Transport.
    pub http: HttpSettings,
    /// `Sforce-Query-Options: batchSize` for queries (200..=2000).
    pub query_batch_size: u32,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            instance_url: None,
            login_url: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            auth: None,
            token_store: None,
            session: SessionTiming::default(),
            limits: LimitsConfig {
                reserve: 0.2,
                pace_band: 0.1,
                thresholds: vec![0.5, 0.75, 0.9],
                reserve_wait: None,
                window: Duration::from_secs(24 * 60 * 60),
                stale_after: Duration::from_secs(300),
            },
            retry: RetrySettings {
                max_attempts: 4,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(20),
                budget: BudgetConfig {
                    capacity: 500,
                    retry_cost: 5,
                    timeout_retry_cost: 10,
                    success_refund: 1,
                },
                max_retry_after: Duration::from_secs(60),
            },
            scheduler: SchedulerConfig {
                rate: None,
                concurrency: AimdConfig {
                    initial: 16,
                    min: 1,
                    max: 64,
                    decrease_factor: 0.7,
                    latency_threshold: None,
                },
                long_running_cap: 10,
                queue_capacity: 1024,
                when_full: WhenFull::Wait,
            },
            rate: None,
            cache: CacheConfig {
                describe_ttl: Duration::from_secs(60 * 60),
                global_describe_ttl: Duration::from_secs(60 * 60),
                reference_ttl: Duration::from_secs(5 * 60),
                max_entries: 10_000,
            },
            http: HttpSettings {
                ca_file: None,
                connect_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(120),
                pool_max_idle_per_host: 64,
            },
            query_batch_size: 2000,
        }
    }
}

impl ClientBuilder {
    /// A builder with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The instance (My Domain) URL; https unless loopback. Also the login URL unless
    /// [`login_url`](Self::login_url) is set. Default: none.
    pub fn instance_url(mut self, url: impl Into<String>) -> Self {
        self.instance_url = Some(url.into());
        self
    }

    /// The OAuth host. Default: the instance URL, else `https://login.salesforce.com`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// REST API version such as `62.0`. Default: `62.0`.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// JWT bearer grant with a PKCS#8 or PKCS#1 PEM private key.
    pub fn auth_jwt(
        mut self,
        client_id: impl Into<String>,
        username: impl Into<String>,
        key_pem: impl Into<Secret>,
    ) -> Self {
        self.auth = Some(AuthSetting::Jwt {
            client_id: client_id.into(),
            username: username.into(),
            key_pem: key_pem.into(),
            audience: None,
        });
        self
    }

    /// The JWT `aud` claim. Default: the login URL without trailing slash.
    pub fn auth_jwt_audience(mut self, audience: impl Into<String>) -> Self {
        if let Some(AuthSetting::Jwt { audience: slot, .. }) = &mut self.auth {
            *slot = Some(audience.into());
        }
        self
    }

    /// Client-credentials grant (runs as the connected app's integration user).
    pub fn auth_client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.auth = Some(AuthSetting::Grant(Grant::ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }));
        self
    }

    /// Username-password grant (password with the security token appended where required).
    pub fn auth_password(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.auth = Some(AuthSetting::Grant(Grant::Password {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
        }));
        self
    }

    /// Refresh-token grant; `client_secret` may be `None` for apps that don't require it.
    pub fn auth_refresh_token(
        mut self,
        client_id: impl Into<String>,
        client_secret: Option<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Self {
        self.auth = Some(AuthSetting::Grant(Grant::RefreshToken {
            client_id: client_id.into(),
            client_secret,
            refresh_token: refresh_token.into(),
        }));
        self
    }

    /// Where tokens are kept; share one store between clients to share tokens.
    /// Default: a private [`MemoryTokenStore`].
    pub fn auth_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// The org's session timeout (Salesforce does not report it). Default: 2 h.
    pub fn auth_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session.lifetime = lifetime;
        self
    }

    /// Fraction of the session lifetime after which the token is refreshed in the
    /// background, 0 < r ≤ 1. Default: 0.9.
    pub fn auth_refresh_ratio(mut self, ratio: f64) -> Self {
        self.session.refresh_ratio = ratio;
        self
    }

    /// Fraction of the daily allocation kept for other integrations, 0 ≤ r < 1. Default: 0.2.
    pub fn limits_reserve(mut self, reserve: f64) -> Self {
        self.limits.reserve = reserve;
        self
    }

    /// Usage fractions that emit threshold events. Default: 0.5, 0.75, 0.9.
    pub fn limits_thresholds(mut self, thresholds: impl Into<Vec<f64>>) -> Self {
        self.limits.thresholds = thresholds.into();
        self
    }

    /// Age after which the usage figure is re-read from `/limits`. Default: 5 min.
    pub fn limits_stale_after(mut self, age: Duration) -> Self {
        self.limits.stale_after = age;
        self
    }

    /// Width of the band below the reserve line in which normal and background calls are
    /// paced, as a fraction of the allocation (0 disables pacing). Default: 0.1.
    pub fn limits_pace_band(mut self, band: f64) -> Self {
        self.limits.pace_band = band;
        self
    }

    /// The rolling window paced headroom is spread over. Default: 24 h (Salesforce's window).
    pub fn limits_window(mut self, window: Duration) -> Self {
        self.limits.window = window;
        self
    }

    /// At the reserve, how long normal and background calls wait for usage to fall before
    /// failing with `LIMIT_RESERVE_REACHED`. Default: fail at once.
    pub fn limits_reserve_wait(mut self, wait: Duration) -> Self {
        self.limits.reserve_wait = Some(wait);
        self
    }

    /// Attempts per call, the first included, ≥ 1. Default: 4.
    pub fn retry_max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts;
        self
    }

    /// Backoff base and cap (full jitter). Default: 100 ms and 20 s.
    pub fn retry_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.retry.base_delay = base;
        self.retry.max_delay = cap;
        self
    }

    /// Retry budget shared by all calls: capacity, cost of a retry (a timeout costs
    /// double), refund per first-attempt success. Default: 500, 5, 1 (the AWS SDKs'
    /// standard quota: sustained retries need five successes each).
    pub fn retry_budget(mut self, capacity: u32, retry_cost: u32, success_refund: u32) -> Self {
        self.retry.budget = BudgetConfig {
            capacity,
            retry_cost,
            timeout_retry_cost: retry_cost.saturating_mul(2),
            success_refund,
        };
        self
    }

    /// Longest server-requested `Retry-After` the client waits; longer gives up. Default: 60 s.
    pub fn retry_max_retry_after(mut self, wait: Duration) -> Self {
        self.retry.max_retry_after = wait;
        self
    }

    /// Requests per second ceiling (GCRA), with a burst of the same size. Default:
    /// unlimited (Salesforce enforces no per-second rate).
    pub fn scheduler_max_rps(mut self, rps: u32) -> Self {
        self.rate = Some((rps, rps));
        self
    }

    /// Requests per second ceiling with an explicit burst. Default: unlimited.
    pub fn scheduler_rate(mut self, rps: u32, burst: u32) -> Self {
        self.rate = Some((rps, burst));
        self
    }

    /// Bounds and starting point of the adaptive (AIMD) concurrency limit.
    /// Default: start 16, between 1 and 64.
    pub fn scheduler_concurrency(mut self, initial: u32, min: u32, max: u32) -> Self {
        self.scheduler.concurrency.initial = initial;
        self.scheduler.concurrency.min = min;
        self.scheduler.concurrency.max = max;
        self
    }

    /// Concurrent long-running requests allowed (Salesforce caps calls running past 20 s
    /// at 25 in production, 5 in Developer Edition). Default: 10, leaving headroom for
    /// other integrations.
    pub fn scheduler_long_running_cap(mut self, cap: u32) -> Self {
        self.scheduler.long_running_cap = cap;
        self
    }

    /// Callers that may wait for a slot at once. Default: 1024.
    pub fn scheduler_queue_capacity(mut self, capacity: usize) -> Self {
        self.scheduler.queue_capacity = capacity;
        self
    }

    /// Fail with `BACKPRESSURE` when the wait queue is full, instead of waiting for room.
    /// Default: wait.
    pub fn scheduler_fail_fast_when_full(mut self) -> Self {
        self.scheduler.when_full = WhenFull::FailFast;
        self
    }

    /// Presets for a Developer Edition or trial org (long-running lane of 5, concurrency
    /// at most 16); later `scheduler_` calls still apply.
    pub fn scheduler_developer_edition(mut self) -> Self {
        self.scheduler = SchedulerConfig::developer_edition();
        self
    }

    /// How long object and global describe results are cached. Default: 1 h.
    pub fn cache_describe_ttl(mut self, ttl: Duration) -> Self {
        self.cache.describe_ttl = ttl;
        self.cache.global_describe_ttl = ttl;
        self
    }

    /// Entries the cache keeps at most. Default: 10,000.
    pub fn cache_max_entries(mut self, entries: u64) -> Self {
        self.cache.max_entries = entries;
        self
    }

    /// TCP + TLS connect timeout. Default: 10 s.
    pub fn http_connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout. Default: 120 s.
    pub fn http_request_timeout(mut self, timeout: Duration) -> Self {
        self.http.request_timeout = timeout;
        self
    }

    /// Trust the CA certificates in this PEM file (in addition to the public roots). Default: none.
    pub fn tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.http.ca_file = Some(path.into());
        self
    }

    /// Rows per query page, 200..=2000 (`Sforce-Query-Options: batchSize`). Default: 2000.
    pub fn query_batch_size(mut self, rows: u32) -> Self {
        self.query_batch_size = rows;
        self
    }

    /// Reads the `SFSCALE_*` variables (see the [module docs](self)).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`from_env`](Self::from_env) with a custom variable lookup (tests, bindings).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let mut b = ClientBuilder::new();
        b.instance_url = get("SFSCALE_INSTANCE_URL");
        b.login_url = get("SFSCALE_LOGIN_URL");
        if let Some(v) = get("SFSCALE_API_VERSION") {
            b.api_version = v;
        }
        if let Some(r) = parse_env::<f64>(&get, "SFSCALE_RESERVE")? {
            b.limits.reserve = r;
        }
        if let Some(s) = parse_env::<u64>(&get, "SFSCALE_SESSION_LIFETIME_SECS")? {
            b.session.lifetime = Duration::from_secs(s);
        }
        b.http.ca_file = get("SFSCALE_CA_FILE").map(PathBuf::from);
        b.rate = parse_env::<u32>(&get, "SFSCALE_MAX_RPS")?.map(|rps| (rps, rps));
        if let Some(cap) = parse_env::<u32>(&get, "SFSCALE_LONG_RUNNING_CAP")? {
            b.scheduler.long_running_cap = cap;
        }
        b.auth = Some(auth_from_env(&get)?);
        Ok(b)
    }

    /// Validates every setting and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        Client::from_config(self.validate()?)
    }

    /// Validates every setting into a [`Config`] without building a client.
    pub fn validate(self) -> Result<Config, Error> {
        let instance_url = self
            .instance_url
            .as_deref()
            .map(|u| validate_base_url("instance_url", u))
            .transpose()?;
        let login_url = match (&self.login_url, &instance_url) {
            (Some(raw), _) => validate_base_url("login_url", raw)?,
            (None, Some(instance)) => instance.clone(),
            (None, None) => Url::parse(DEFAULT_LOGIN_URL).expect("default login URL parses"),
        };
        validate_api_version(&self.api_version)?;
        let grant = resolve_grant(self.auth.ok_or_else(|| {
            Error::config("auth", "no grant configured: call one of auth_jwt, auth_client_credentials, auth_password, auth_refresh_token")
        })?)?;
        validate_session(&self.session)?;
        self.limits.validate()?;
        if self.limits.stale_after.is_zero() {
            return Err(Error::config("limits_stale_after", "must be positive"));
        }
        let retry = retry_config(&self.retry)?;
        let mut scheduler = self.scheduler;
        scheduler.rate = self.rate.map(rate_config).transpose()?;
        scheduler.validate()?;
        validate_http(&self.http)?;
        self.cache.validate()?;
        if !(200..=2000).contains(&self.query_batch_size) {
            return Err(Error::config(
                "query_batch_size",
                format!("{} is outside 200..=2000", self.query_batch_size),
            ));
        }
        Ok(Config {
            instance_url,
            login_url,
            api_version: self.api_version,
            grant,
            token_store: self
                .token_store
                .unwrap_or_else(|| MemoryTokenStore::shared()),
            session: self.session,
            limits: self.limits,
            retry,
            scheduler,
            cache: self.cache,
            http: self.http,
            query_batch_size: self.query_batch_size,
        })
    }
}

fn parse_env<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, Error>
where
    T::Err: std::fmt::Display,
{
    get(name)
        .map(|raw| {
            raw.trim()
                .parse::<T>()
                .map_err(|e| Error::config(name, format!("'{raw}': {e}")))
        })
        .transpose()
}

fn auth_from_env(get: &impl Fn(&str) -> Option<String>) -> Result<AuthSetting, Error> {
    let require = |name: &str, why: &str| {
        get(name).ok_or_else(|| Error::config(name, format!("required for {why}")))
    };
    if let Some(path) = get("SFSCALE_PRIVATE_KEY_FILE") {
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            Error::config(
                "SFSCALE_PRIVATE_KEY_FILE",
                format!("cannot read {path}: {e}"),
            )
        })?;
        return Ok(AuthSetting::Jwt {
            client_id: require("SFSCALE_CLIENT_ID", "the JWT bearer grant")?,
            username: require("SFSCALE_USERNAME", "the JWT bearer grant")?,
            key_pem: Secret::new(pem),
            audience: None,
        });
    }
    let client_id = require("SFSCALE_CLIENT_ID", "every grant")?;
    let secret = get("SFSCALE_CLIENT_SECRET").map(Secret::new);
    if let Some(token) = get("SFSCALE_REFRESH_TOKEN") {
        let refresh_token = Secret::new(token);
        return Ok(AuthSetting::Grant(Grant::RefreshToken {
            client_id,
            client_secret: secret,
            refresh_token,
        }));
    }
    if let Some(password) = get("SFSCALE_PASSWORD") {
        return Ok(AuthSetting::Grant(Grant::Password {
            client_id,
            client_secret: secret.ok_or_else(|| {
                Error::config("SFSCALE_CLIENT_SECRET", "required for the password grant")
            })?,
            username: require("SFSCALE_USERNAME", "the password grant")?,
            password: Secret::new(password),
        }));
    }
    match secret {
        Some(client_secret) => Ok(AuthSetting::Grant(Grant::ClientCredentials { client_id, client_secret })),
        None => Err(Error::config(
            "SFSCALE_CLIENT_SECRET",
            "no grant configured: set SFSCALE_PRIVATE_KEY_FILE, SFSCALE_REFRESH_TOKEN, SFSCALE_PASSWORD or SFSCALE_CLIENT_SECRET",
        )),
    }
}

fn resolve_grant(auth: AuthSetting) -> Result<Grant, Error> {
    let grant = match auth {
        AuthSetting::Jwt {
            client_id,
            username,
            key_pem,
            audience,
        } => {
            let key =
                JwtKey::from_pem(key_pem.expose()).map_err(|e| Error::config("auth_jwt key", e))?;
            Grant::JwtBearer {
                client_id,
                username,
                key,
                audience,
            }
        }
        AuthSetting::Grant(grant) => grant,
    };
    check_grant_fields(&grant)?;
    Ok(grant)
}

fn check_grant_fields(grant: &Grant) -> Result<(), Error> {
    let empty = |setting: &str| Err(Error::config(setting, "must not be empty"));
    match grant {
        Grant::JwtBearer { client_id, .. }
        | Grant::ClientCredentials { client_id, .. }
        | Grant::Password { client_id, .. }
        | Grant::RefreshToken { client_id, .. }
            if client_id.trim().is_empty() =>
        {
            empty("auth client_id")
        }
        Grant::JwtBearer { username, .. } | Grant::Password { username, .. }
            if username.trim().is_empty() =>
        {
            empty("auth username")
        }
        Grant::ClientCredentials { client_secret, .. } | Grant::Password { client_secret, .. }
            if client_secret.is_empty() =>
        {
            empty("auth client_secret")
        }
        Grant::Password { password, .. } if password.is_empty() => empty("auth password"),
        Grant::RefreshToken { refresh_token, .. } if refresh_token.is_empty() => {
            empty("auth refresh_token")
        }
        _ => Ok(()),
    }
}

fn validate_api_version(version: &str) -> Result<(), Error> {
    let valid = version
        .split_once('.')
        .is_some_and(|(major, minor)| major.parse::<u32>().is_ok_and(|m| m >= 20) && minor == "0");
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            "api_version",
            format!("'{version}' is not a version like 62.0"),
        ))
    }
}

fn validate_session(s: &SessionTiming) -> Result<(), Error> {
    if s.lifetime < Duration::from_secs(1) {
        return Err(Error::config(
            "auth_session_lifetime",
            "must be at least 1 s",
        ));
    }
    if !(s.refresh_ratio > 0.0 && s.refresh_ratio <= 1.0) {
        return Err(Error::config(
            "auth_refresh_ratio",
            format!("{} is outside (0, 1]", s.refresh_ratio),
        ));
    }
    Ok(())
}

fn retry_config(r: &RetrySettings) -> Result<RetryConfig, Error> {
    if r.max_attempts == 0 {
        return Err(Error::config("retry_max_attempts", "must be at least 1"));
    }
    r.budget.validate()?;
    Ok(RetryConfig {
        max_attempts: r.max_attempts,
        backoff: Backoff::new(r.base_delay, r.max_delay)?,
        budget: r.budget,
        max_retry_after: r.max_retry_after,
    })
}

fn rate_config((rps, burst): (u32, u32)) -> Result<RateConfig, Error> {
    let positive = |v: u32, setting: &str| {
        NonZeroU32::new(v)
            .ok_or_else(|| Error::config(setting, "must be at least 1 request per second"))
    };
    Ok(RateConfig {
        per_second: positive(rps, "scheduler_max_rps")?,
        burst: positive(burst, "scheduler_rate burst")?,
    })
}

fn validate_http(h: &HttpSettings) -> Result<(), Error> {
    if h.connect_timeout.is_zero() {
        return Err(Error::config("http_connect_timeout", "must be positive"));
    }
    if h.request_timeout.is_zero() {
        return Err(Error::config("http_request_timeout", "must be positive"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> ClientBuilder {
        ClientBuilder::new()
            .instance_url("http://127.0.0.1:1")
            .auth_client_credentials("id", "secret")
    }

    fn config_error(b: ClientBuilder) -> String {
        let err = b.validate().unwrap_err();
        assert_eq!(err.code(), "CONFIG");
        err.to_string()
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_validate_and_login_follows_instance() {
        let c = base().validate().unwrap();
        assert_eq!(c.login_url.as_str(), "http://127.0.0.1:1/");
        assert_eq!(c.api_version, "62.0");
        assert_eq!(c.limits.reserve, 0.2);
        assert_eq!(c.session.lifetime, Duration::from_secs(7200));
        let c = ClientBuilder::new()
            .auth_client_credentials("id", "s")
            .validate()
            .unwrap();
        assert_eq!(c.login_url.as_str(), "https://login.salesforce.com/");
    }

    #[test]
    fn each_invalid_setting_is_named() {
        let cases: Vec<(ClientBuilder, &str)> = vec![
            (base().instance_url("http://example.com"), "instance_url"),
            (base().login_url("not a url"), "login_url"),
            (base().api_version("v62"), "api_version"),
            (base().limits_reserve(1.0), "limits_reserve"),
            (
                base().limits_thresholds(vec![0.5, 1.5]),
                "limits_thresholds",
            ),
            (base().retry_max_attempts(0), "retry_max_attempts"),
            (
                base().retry_backoff(Duration::from_secs(2), Duration::from_secs(1)),
                "retry_backoff",
            ),
            (base().retry_budget(500, 0, 1), "retry_budget"),
            (base().scheduler_max_rps(0), "scheduler_max_rps"),
            (base().scheduler_concurrency(4, 5, 2), "scheduler_"),
            (
                base().scheduler_long_running_cap(0),
                "scheduler_long_running_cap",
            ),
            (
                base().auth_session_lifetime(Duration::ZERO),
                "auth_session_lifetime",
            ),
            (base().auth_refresh_ratio(1.5), "auth_refresh_ratio"),
            (base().query_batch_size(100), "query_batch_size"),
            (base().auth_client_credentials("", "s"), "client_id"),
            (base().auth_password("id", "s", "u", ""), "password"),
            (base().auth_jwt("id", "u", "garbage"), "auth_jwt"),
            (ClientBuilder::new(), "auth"),
        ];
        for (builder, setting) in cases {
            let msg = config_error(builder);
            assert!(msg.contains(setting), "{setting}: {msg}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_or_errors() {
        let b = base().auth_password("id", "client-secret-xyz", "user", "password-xyz");
        let dbg = format!("{b:?}");
        assert!(
            !dbg.contains("client-secret-xyz") && !dbg.contains("password-xyz"),
            "{dbg}"
        );
        let msg = config_error(base().auth_jwt(
            "id",
            "u",
            "-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----",
        ));
        assert!(!msg.contains("SECRETKEYBYTES"), "{msg}");
    }

    #[test]
    fn env_picks_grant_in_documented_order() {
        let key = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/test-key-pkcs1.pem"
        );
        let all = [
            ("SFSCALE_CLIENT_ID", "id"),
            ("SFSCALE_CLIENT_SECRET", "s"),
            ("SFSCALE_USERNAME", "u"),
            ("SFSCALE_PASSWORD", "p"),
            ("SFSCALE_REFRESH_TOKEN", "r"),
            ("SFSCALE_PRIVATE_KEY_FILE", key),
        ];
        let kind = |n: usize| {
            ClientBuilder::from_lookup(env(&all[..n]))
                .unwrap()
                .validate()
                .unwrap()
                .grant
                .kind()
        };
        assert_eq!(kind(6), "jwt_bearer");
        assert_eq!(kind(5), "refresh_token");
        assert_eq!(kind(4), "password");
        assert_eq!(kind(2), "client_credentials");
        let err = ClientBuilder::from_lookup(env(&all[..1])).unwrap_err();
        assert!(err.to_string().contains("SFSCALE_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn env_numbers_are_parsed_and_bad_ones_named() {
        let vars = [
            ("SFSCALE_CLIENT_ID", "id"),
            ("SFSCALE_CLIENT_SECRET", "s"),
            ("SFSCALE_INSTANCE_URL", "http://localhost:9"),
            ("SFSCALE_API_VERSION", "59.0"),
            ("SFSCALE_RESERVE", "0.3"),
            ("SFSCALE_SESSION_LIFETIME_SECS", "60"),
            ("SFSCALE_MAX_RPS", "25"),
            ("SFSCALE_LONG_RUNNING_CAP", "5"),
        ];
        let c = ClientBuilder::from_lookup(env(&vars))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(c.api_version, "59.0");
        assert_eq!(c.limits.reserve, 0.3);
        assert_eq!(c.session.lifetime, Duration::from_secs(60));
        assert_eq!(c.scheduler.rate.map(|r| r.per_second.get()), Some(25));
        assert_eq!(c.scheduler.long_running_cap, 5);
        let err = ClientBuilder::from_lookup(env(&[("SFSCALE_RESERVE", "lots")])).unwrap_err();
        assert!(err.to_string().contains("SFSCALE_RESERVE"), "{err}");
    }
}
