//! The builder: every knob, its default, and the grant constructors.
//!
//! Knobs only record what they are given; [`ClientBuilder::validate`] (in `validate.rs`)
//! checks everything at once, so one `build()` reports the first bad setting by name.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::CacheConfig;
use crate::http::HttpSettings;
use crate::limits::LimitsConfig;
use crate::retry::BudgetConfig;
use crate::scheduler::{AimdConfig, SchedulerConfig, WhenFull};
use crate::tokens::{Grant, Secret, SessionTiming, TokenStore};

/// The default REST API version.
pub const DEFAULT_API_VERSION: &str = "62.0";
pub(super) const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// Grant settings as given; keys are parsed at `build()`.
#[derive(Debug, Clone)]
pub(super) enum AuthSetting {
    Jwt {
        client_id: String,
        username: String,
        key_pem: Secret,
    },
    Grant(Grant),
}

/// Builds a [`Client`](crate::Client). Start with [`Client::builder`](crate::Client::builder).
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    pub(super) instance_url: Option<String>,
    pub(super) login_url: Option<String>,
    pub(super) api_version: String,
    pub(super) auth: Option<AuthSetting>,
    pub(super) jwt_audience: Option<String>,
    pub(super) token_store: Option<Arc<dyn TokenStore>>,
    pub(super) session: SessionTiming,
    pub(super) limits: LimitsConfig,
    pub(super) retry: RetrySettings,
    pub(super) scheduler: SchedulerConfig,
    pub(super) rate: Option<(u32, u32)>,
    pub(super) cache: CacheConfig,
    pub(super) http: HttpSettings,
    pub(super) query_batch_size: u32,
}

/// Retry settings (`retry_` knobs), turned into the retry stage's [`RetryConfig`] at build.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RetrySettings {
    pub(super) max_attempts: u32,
    pub(super) base_delay: Duration,
    pub(super) max_delay: Duration,
    pub(super) budget: BudgetConfig,
    pub(super) max_retry_after: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            instance_url: None,
            login_url: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            auth: None,
            jwt_audience: None,
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
        });
        self
    }

    /// The JWT `aud` claim (JWT bearer grant only). Default: the login URL without
    /// trailing slash.
    pub fn auth_jwt_audience(mut self, audience: impl Into<String>) -> Self {
        self.jwt_audience = Some(audience.into());
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
    /// Default: a private [`MemoryTokenStore`](crate::MemoryTokenStore).
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
}
