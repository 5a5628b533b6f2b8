//! One access token per client, refreshed by one task at a time.
//!
//! Salesforce reports no token lifetime, so two mechanisms keep calls authorised:
//!
//! * **Ahead of time.** After each new token a background task sleeps until
//!   `issued_at + session_lifetime × refresh_ratio` (default 2 h × 0.9) and refreshes while
//!   callers keep using the current token. The task holds only a weak reference, so it
//!   ends with the client.
//! * **On failure.** A 401 `INVALID_SESSION_ID` makes the pipeline call
//!   [`TokenManager::refresh_if_current`] with the token that failed. Refreshes are
//!   serialised by one async mutex and every token carries a **generation**: a caller
//!   that gets the lock after someone else already replaced its failing token just takes
//!   the new one. Five hundred concurrent 401s therefore cost exactly one grant.
//!
//! A failed refresh is shared the same way: callers that queued behind it get its error
//! rather than each running the failing grant again (an outage of the token endpoint
//! must not turn into a retry storm against it).
//!
//! Before granting, the manager asks its [`TokenStore`]: a token newer than the failing
//! one, put there by another client sharing the store, is adopted instead. We rejected a
//! refresh-on-timer-only design: sessions also end early (admin revocation, the
//! emulator's `expire-sessions`), and only the 401 path recovers from that.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, RwLock};
use tokio::task::JoinHandle;
use url::Url;

use super::grant::{Grant, GrantResponse};
use super::store::{AccessToken, TokenStore};
use crate::error::{codes, Error};
use crate::http;
use crate::retry::{classify, CallSafety, Decision, RetryPolicy};

/// Called after every successful grant with the grant's kind (for metrics and events).
pub type RefreshHook = Arc<dyn Fn(&'static str) + Send + Sync>;

/// Timing of proactive refresh.
#[derive(Debug, Clone, Copy)]
pub struct SessionTiming {
    /// How long a session lives (the org's session timeout). Default: 2 h.
    pub lifetime: Duration,
    /// Fraction of the lifetime after which a token is refreshed in the background. Default: 0.9.
    pub refresh_ratio: f64,
}

impl Default for SessionTiming {
    fn default() -> Self {
        SessionTiming {
            lifetime: Duration::from_secs(2 * 60 * 60),
            refresh_ratio: 0.9,
        }
    }
}

impl SessionTiming {
    fn refresh_after(&self) -> Duration {
        self.lifetime.mul_f64(self.refresh_ratio)
    }
}

/// The outcome of a refresh that failed, kept for the callers queued behind it.
struct FailedRefresh {
    at: Instant,
    error: Arc<Error>,
}

/// Hands out the current token and refreshes it, one grant at a time. Cheap to clone.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    retry: RetryPolicy,
    login_url: Url,
    grant: Mutex<Grant>,
    store: Arc<dyn TokenStore>,
    store_key: String,
    timing: SessionTiming,
    current: RwLock<Option<Arc<AccessToken>>>,
    generation: AtomicU64,
    grants: AtomicU64,
    /// Serialises refreshes; holds the last failed refresh so callers queued behind it
    /// share its error instead of each running the failing grant again.
    refresh_lock: tokio::sync::Mutex<Option<FailedRefresh>>,
    background: Mutex<Option<JoinHandle<()>>>,
    on_refresh: Option<RefreshHook>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.background.get_mut().take() {
            task.abort();
        }
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("grant", &self.inner.grant.lock().kind())
            .field("login_url", &self.inner.login_url.as_str())
            .field("generation", &self.inner.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager that will obtain tokens with `grant` from `login_url`. Grant requests
    /// that fail transiently (503, resets) are retried under `retry`, like any call.
    pub fn new(
        http: reqwest::Client,
        retry: RetryPolicy,
        login_url: Url,
        grant: Grant,
        store: Arc<dyn TokenStore>,
        timing: SessionTiming,
        on_refresh: Option<RefreshHook>,
    ) -> TokenManager {
        let store_key = format!("{}|{}", login_url.as_str(), grant.identity());
        TokenManager {
            inner: Arc::new(Inner {
                http,
                retry,
                login_url,
                grant: Mutex::new(grant),
                store,
                store_key,
                timing,
                current: RwLock::new(None),
                generation: AtomicU64::new(0),
                grants: AtomicU64::new(0),
                refresh_lock: tokio::sync::Mutex::new(None),
                background: Mutex::new(None),
                on_refresh,
            }),
        }
    }

    /// How many grants this manager has performed.
    pub fn grants(&self) -> u64 {
        self.inner.grants.load(Ordering::Relaxed)
    }

    /// The token to use now: the current one, or a fresh one if there is none or it has
    /// outlived the configured session lifetime.
    pub async fn current(&self) -> Result<Arc<AccessToken>, Error> {
        let current = self.inner.current.read().clone();
        match current {
            Some(token) if !self.inner.is_expired(&token) => Ok(token),
            stale => self.refresh_if_current(stale.as_deref()).await,
        }
    }

    /// Refreshes only if `failing` (the token a call was rejected with) is still the
    /// current one; otherwise returns the token that already replaced it. `None` means
    /// "there is no token yet".
    pub async fn refresh_if_current(
        &self,
        failing: Option<&AccessToken>,
    ) -> Result<Arc<AccessToken>, Error> {
        let asked_at = Instant::now();
        let mut last_failure = self.inner.refresh_lock.lock().await;
        if let Some(current) = self.inner.current.read().clone() {
            let replaced = failing.is_none_or(|f| f.generation != current.generation);
            if replaced && !self.inner.is_expired(&current) {
                return Ok(current);
            }
        }
        // A refresh failed while we queued: the same grant would fail the same way now.
        if let Some(failed) = last_failure.as_ref().filter(|f| f.at >= asked_at) {
            return Err(Error::from_shared(Arc::clone(&failed.error)));
        }
        let obtained = match self.inner.adoptable_from_store(failing).await {
            Ok(Some(token)) => Ok(token),
            Ok(None) => self.inner.grant().await,
            Err(error) => Err(error),
        };
        match obtained {
            Ok(token) => {
                *last_failure = None;
                Ok(self.install(token))
            }
            Err(error) => {
                let error = Arc::new(error);
                *last_failure = Some(FailedRefresh {
                    at: Instant::now(),
                    error: Arc::clone(&error),
                });
                Err(Error::from_shared(error))
            }
        }
    }

    fn install(&self, mut token: AccessToken) -> Arc<AccessToken> {
        token.generation = self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let token = Arc::new(token);
        *self.inner.current.write() = Some(Arc::clone(&token));
        self.ensure_background_refresh();
        token
    }

    fn ensure_background_refresh(&self) {
        let mut slot = self.inner.background.lock();
        if slot.is_none() {
            let weak = Arc::downgrade(&self.inner);
            *slot = Some(tokio::spawn(refresh_ahead(weak)));
        }
    }
}

impl Inner {
    fn is_expired(&self, token: &AccessToken) -> bool {
        age(token) >= self.timing.lifetime
    }

    /// A token in the store that is newer than `failing` and still within its lifetime.
    async fn adoptable_from_store(
        &self,
        failing: Option<&AccessToken>,
    ) -> Result<Option<AccessToken>, Error> {
        let stored = self.store.load(&self.store_key).await?;
        Ok(stored.filter(|s| failing.is_none_or(|f| s.value != f.value) && !self.is_expired(s)))
    }

    async fn grant(&self) -> Result<AccessToken, Error> {
        let grant = self.grant.lock().clone();
        let response = self.send_grant(&grant).await?;
        self.grants.fetch_add(1, Ordering::Relaxed);
        self.grant.lock().rotate(response.refresh_token);
        // Never trust a server clock that runs ahead of ours: it would delay the refresh.
        let issued_at = response.issued_at.min(SystemTime::now());
        let token = AccessToken::new(response.access_token, response.instance_url, issued_at);
        self.store.save(&self.store_key, &token).await?;
        tracing::debug!(grant = grant.kind(), "access token obtained");
        if let Some(hook) = &self.on_refresh {
            hook(grant.kind());
        }
        Ok(token)
    }
}

impl Inner {
    /// One grant, retried under the client's policy. Repeating a grant is harmless, so
    /// it is treated as idempotent.
    async fn send_grant(&self, grant: &Grant) -> Result<GrantResponse, Error> {
        let mut attempts = self.retry.begin();
        loop {
            let sent = http::send(grant.http_request(&self.http, &self.login_url)?).await;
            let outcome = match &sent {
                Ok(response) => response.outcome(),
                Err(failure) => failure.outcome(),
            };
            match attempts.next(classify(
                &outcome,
                CallSafety::IDEMPOTENT,
                SystemTime::now(),
            )) {
                Decision::Done => {
                    let body = sent.map(|r| r.body).unwrap_or_default();
                    return GrantResponse::parse(&body);
                }
                Decision::Retry { delay, .. } => tokio::time::sleep(delay).await,
                Decision::RefreshToken => {
                    return Err(Error::auth(codes::AUTH, "the token endpoint answered 401")
                        .with_status(401))
                }
                Decision::GiveUp { error, .. } => return Err(error.with_context("token", None)),
            }
        }
    }
}

fn age(token: &AccessToken) -> Duration {
    SystemTime::now()
        .duration_since(token.issued_at)
        .unwrap_or_default()
}

/// Background loop: sleep until the current token is due, refresh it, repeat. A failed
/// refresh is retried after a twentieth of the lifetime (at least 1 s); callers are not
/// affected until the token really expires, and then they refresh on their own.
async fn refresh_ahead(weak: Weak<Inner>) {
    loop {
        let Some(wait) = weak.upgrade().and_then(|inner| next_refresh_in(&inner)) else {
            return;
        };
        tokio::time::sleep(wait).await;
        let Some(inner) = weak.upgrade() else { return };
        let manager = TokenManager { inner };
        let current = manager.inner.current.read().clone();
        if let Err(error) = manager.refresh_if_current(current.as_deref()).await {
            tracing::warn!(%error, "background token refresh failed");
            let pause = (manager.inner.timing.lifetime / 20).max(Duration::from_secs(1));
            drop(manager);
            tokio::time::sleep(pause).await;
        }
    }
}

fn next_refresh_in(inner: &Inner) -> Option<Duration> {
    let current = inner.current.read().clone()?;
    Some(inner.timing.refresh_after().saturating_sub(age(&current)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{build_client, HttpSettings};
    use crate::retry::RetryConfig;
    use crate::tokens::MemoryTokenStore;
    use sfscale_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
    use sfscale_emulator::{Config, Emulator};

    async fn manager(emu: &Emulator, timing: SessionTiming) -> TokenManager {
        let http = build_client(&HttpSettings {
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            pool_max_idle_per_host: 8,
        })
        .unwrap();
        let grant = Grant::ClientCredentials {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
        };
        let login = crate::http::validate_base_url("login_url", emu.url()).unwrap();
        let backoff =
            crate::retry::Backoff::new(Duration::from_millis(1), Duration::from_millis(5)).unwrap();
        let retry = RetryPolicy::new(RetryConfig {
            backoff,
            ..RetryConfig::default()
        })
        .unwrap();
        TokenManager::new(
            http,
            retry,
            login,
            grant,
            MemoryTokenStore::shared(),
            timing,
            None,
        )
    }

    async fn emulator() -> Emulator {
        Emulator::start(Config {
            port: 0,
            ..Config::default()
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_one_failing_token_make_one_grant() {
        let emu = emulator().await;
        let tokens = manager(&emu, SessionTiming::default()).await;
        let first = tokens.current().await.unwrap();
        assert_eq!(tokens.grants(), 1);
        let refreshes: Vec<_> = (0..100)
            .map(|_| {
                let (tokens, failing) = (tokens.clone(), Arc::clone(&first));
                tokio::spawn(async move { tokens.refresh_if_current(Some(&failing)).await })
            })
            .collect();
        let mut generations = Vec::new();
        for refresh in refreshes {
            generations.push(refresh.await.unwrap().unwrap().generation);
        }
        assert_eq!(tokens.grants(), 2);
        assert!(generations.iter().all(|g| *g == first.generation + 1));
        // A token that was already replaced never triggers another grant.
        tokens.refresh_if_current(Some(&first)).await.unwrap();
        assert_eq!(tokens.grants(), 2);
    }

    #[tokio::test]
    async fn a_token_past_its_lifetime_is_replaced_before_use() {
        let emu = emulator().await;
        let timing = SessionTiming {
            lifetime: Duration::from_secs(3600),
            refresh_ratio: 0.9,
        };
        let tokens = manager(&emu, timing).await;
        let first = tokens.current().await.unwrap();
        let mut aged = (*first).clone();
        aged.issued_at = SystemTime::now() - Duration::from_secs(7200);
        *tokens.inner.current.write() = Some(Arc::new(aged));
        let next = tokens.current().await.unwrap();
        assert_ne!(next.value, first.value);
        assert_eq!(tokens.grants(), 2);
    }

    #[tokio::test]
    async fn callers_queued_behind_a_failed_refresh_share_its_error() {
        let emu = emulator().await;
        let control = build_client(&HttpSettings {
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            pool_max_idle_per_host: 1,
        })
        .unwrap();
        let rules = serde_json::json!({"seed": 1, "rules": [{"route": "token", "share": 1.0, "effect": "500"}]});
        control
            .put(format!("{}/__emulator/faults", emu.url()))
            .json(&rules)
            .send()
            .await
            .unwrap();
        let tokens = manager(&emu, SessionTiming::default()).await;
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let tokens = tokens.clone();
                tokio::spawn(async move { tokens.current().await })
            })
            .collect();
        for caller in callers {
            let error = caller.await.unwrap().unwrap_err();
            assert_eq!(error.status(), Some(500), "{error}");
        }
        let stats = emu.stats();
        // One grant with its retries (4 attempts), not 50 of them.
        assert_eq!(stats["faults_injected"]["500"], 4, "{stats}");
        assert_eq!(tokens.grants(), 0);
    }

    #[test]
    fn refresh_point_is_the_configured_fraction_of_the_lifetime() {
        let timing = SessionTiming {
            lifetime: Duration::from_secs(100),
            refresh_ratio: 0.9,
        };
        assert_eq!(timing.refresh_after(), Duration::from_secs(90));
        assert_eq!(
            SessionTiming::default().refresh_after(),
            Duration::from_secs(6480)
        );
    }
}
