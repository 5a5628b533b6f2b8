//! The pipeline every call passes, in the order DESIGN.md gives.
//!
//! ```text
//! cache ─► limits guard ─► scheduler ─► token ─► http ─► classify ─► retry / refresh ─► observe
//!  (rest)    admit          acquire      current   send    one table   backoff+budget     span, metrics,
//!                                                                      or one replay      events, usage
//! ```
//!
//! * The **cache** is consulted by the operations that may be cached (describe,
//!   `query_cached`) before they build a [`Request`]; everything else starts at the guard.
//! * Every **attempt** (first send, retry, or replay after a token refresh) is a counted API
//!   call, so every attempt passes the limits guard and takes a scheduler permit, and
//!   releases the permit before backing off: a sleeping retry holds no concurrency slot.
//! * Every response's `Sforce-Limit-Info` updates the guard; when the guard's figure is
//!   stale, `/limits` is fetched first (that fetch is itself a plain, guarded request).
//! * Classification and the retry decision are the retry stage's (`retry::classify`,
//!   `retry::RetryPolicy`); this file only carries them out.
//!
//! Long-running calls (cost class `LongRunning`) get [`LONG_RUNNING_TIMEOUT`] instead of
//! `http_request_timeout`: Salesforce lets REST calls run up to ten minutes, and cutting
//! them off early would only repeat the expensive part.
//!
//! # Adding an endpoint
//! 1. Put the operation in the `rest/` file of its resource (or a new one, listed in
//!    `rest/mod.rs`) as an `async fn` on `Client`.
//! 2. Validate or encode every caller-supplied path piece with `rest::path`.
//! 3. Build the request with `Client::request(method, Target::Versioned(..), route, op)`:
//!    `route` is the metrics label, `op` the span/error name; mark `.idempotent(true)` for a
//!    `PATCH` that is safe to replay and `.object(..)` when there is an sObject.
//! 4. `self.pipeline.execute(&request).await?` and map the [`Response`] (`json()`), turning
//!    statuses below 400 that are not success for this resource into errors.
//! 5. Test it against the emulator in `core/tests/`, asserting on `/__emulator/stats`.
//!
//! # Adding a stage
//! A stage is a module with its own state and config (like `limits/`), built in
//! [`Pipeline::new`] from [`Config`], and called from `run` at its place in the diagram:
//! before sending (admission), or after (observation). Keep decisions in the stage and
//! only the calls here.
//!
//! Rejected alternative: a `tower::Service` stack. The stages share state across attempts
//! (the failing token, the retry budget's token, the permit that must be dropped before a
//! sleep), which in tower means threading it through request extensions; one explicit
//! loop is shorter and reads in the order it runs.

use std::fmt;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use tracing::Instrument as _;

use crate::cache::ResponseCache;
use crate::config::Config;
use crate::error::{codes, Error};
use crate::http::{self, Response};
use crate::limits::header::HEADER as LIMIT_INFO;
use crate::limits::{Admission, LimitsGuard};
use crate::observe::{call_span, record_attempt, record_wait, Event, EventBus, Metrics};
use crate::rest::Record;
use crate::retry::{
    classify, CallSafety, Decision, GiveUpReason, RetryPolicy, RetryReason, Verdict,
};
use crate::scheduler::{CostClass, Permit, Priority, Scheduler, Signal};
use crate::tokens::{AccessToken, TokenManager};

/// Where a request goes, relative to the instance URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Below `/services/data/v{version}/`, e.g. `sobjects/Account`.
    Versioned(String),
    /// An absolute path on the instance, e.g. a `nextRecordsUrl`.
    Path(String),
}

/// A request body and its media type.
#[derive(Debug, Clone)]
pub struct Body {
    /// The bytes sent.
    pub bytes: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
}

/// One logical call, as the operations build it. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path on the instance.
    pub target: Target,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Extra headers (`Sforce-Query-Options`, ...); never `Authorization`.
    pub headers: HeaderMap,
    /// Body, if any.
    pub body: Option<Body>,
    /// Which concurrency lane the call occupies.
    pub cost: CostClass,
    /// Who goes first, and who stops at the reserve.
    pub priority: Priority,
    /// Whether replaying the call after an ambiguous failure is safe.
    pub idempotent: bool,
    /// Metrics route label (`query`, `sobject.create`, ...).
    pub route: &'static str,
    /// Span and error operation name (`query`, `create`, ...).
    pub operation: &'static str,
    /// The sObject concerned, if any.
    pub object: Option<String>,
}

impl Request {
    /// A request with no body, normal cost and priority; idempotent unless `POST`/`PATCH`.
    pub fn new(
        method: Method,
        target: Target,
        route: &'static str,
        operation: &'static str,
    ) -> Request {
        let idempotent = !matches!(method, Method::POST | Method::PATCH);
        Request {
            method,
            target,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            cost: CostClass::Normal,
            priority: Priority::Normal,
            idempotent,
            route,
            operation,
            object: None,
        }
    }

    /// Sets a JSON body.
    pub fn json(mut self, value: &impl serde::Serialize) -> Result<Request, Error> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::invalid_input(format!("body is not serialisable as JSON: {e}")))?;
        self.body = Some(Body {
            bytes: bytes.into(),
            content_type: "application/json",
        });
        Ok(self)
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Request {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.insert(name, value);
        self
    }

    /// Names the sObject (spans, errors).
    pub fn object(mut self, object: &str) -> Request {
        self.object = Some(object.to_owned());
        self
    }

    /// Overrides replay safety (e.g. upsert by external id is an idempotent `PATCH`).
    pub fn idempotent(mut self, idempotent: bool) -> Request {
        self.idempotent = idempotent;
        self
    }

    /// Sets priority and cost class.
    pub fn class(mut self, priority: Priority, cost: CostClass) -> Request {
        self.priority = priority;
        self.cost = cost;
        self
    }
}

/// What one attempt produced.
struct Attempt {
    sent: Result<Response, http::Failure>,
    verdict: Verdict,
    token: std::sync::Arc<AccessToken>,
}

/// The shared state behind a [`Client`](crate::Client): one per client, all clones.
pub struct Pipeline {
    config: Config,
    http: reqwest::Client,
    tokens: TokenManager,
    retry: RetryPolicy,
    guard: LimitsGuard,
    scheduler: Scheduler,
    /// One `/limits` fetch at a time; holds when the last one failed.
    limits_refresh: tokio::sync::Mutex<Option<Instant>>,
    metadata: ResponseCache<serde_json::Value>,
    reference: ResponseCache<Vec<Record>>,
    metrics: Metrics,
    events: EventBus,
}

/// Timeout of a long-running call: Salesforce's own limit for a REST call.
pub const LONG_RUNNING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// After a failed `/limits` fetch, how long calls proceed on the figure they have before
/// the next fetch is tried.
pub const LIMITS_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_secs(30);

/// The metrics route of the `/limits` fetch; it skips the staleness check it serves.
pub const LIMITS_ROUTE: &str = "limits";

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("login_url", &self.config.login_url.as_str())
            .field("api_version", &self.config.api_version)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Builds every stage from a validated configuration.
    pub fn new(config: Config) -> Result<Pipeline, Error> {
        let http = http::build_client(&config.http)?;
        let retry = RetryPolicy::new(config.retry)?;
        let metrics = Metrics::new();
        let events = EventBus::default();
        let tokens = TokenManager::new(
            http.clone(),
            retry.clone(),
            config.login_url.clone(),
            config.grant.clone(),
            config.token_store.clone(),
            config.session,
            Some(refresh_hook(&metrics, &events)),
        );
        let budget = retry.budget().clone();
        metrics.register_gauge(
            "retry_budget_available",
            "Tokens left in the retry budget",
            Box::new(move || Some(u64::from(budget.available()))),
        );
        let guard = LimitsGuard::new(config.limits.clone(), events.clone(), metrics.clone())?;
        let scheduler =
            Scheduler::with_observers(config.scheduler.clone(), events.clone(), metrics.clone())?;
        let metadata = ResponseCache::new(config.cache, metrics.clone())?;
        let reference = ResponseCache::new(config.cache, metrics.clone())?;
        Ok(Pipeline {
            metadata,
            reference,
            config,
            http,
            tokens,
            retry,
            guard,
            scheduler,
            limits_refresh: tokio::sync::Mutex::new(None),
            metrics,
            events,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    /// The event bus.
    pub fn events(&self) -> &EventBus {
        &self.events
    }
    /// The token manager.
    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }
    /// The limits guard.
    pub fn guard(&self) -> &LimitsGuard {
        &self.guard
    }
    /// The scheduler.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
    /// The describe cache.
    pub fn metadata_cache(&self) -> &ResponseCache<serde_json::Value> {
        &self.metadata
    }
    /// The `query_cached` cache.
    pub fn reference_cache(&self) -> &ResponseCache<Vec<Record>> {
        &self.reference
    }

    /// Runs one logical call through every stage; `Ok` for any status below 400.
    pub async fn execute(&self, request: &Request) -> Result<Response, Error> {
        let span = call_span(request.operation, request.object.as_deref());
        self.run(request, &span)
            .instrument(span.clone())
            .await
            .map_err(|e| e.with_context(request.operation, request.object.as_deref()))
    }

    async fn run(&self, request: &Request, span: &tracing::Span) -> Result<Response, Error> {
        let mut attempts = self.retry.begin();
        loop {
            let attempt = self.attempt(request, span, attempts.attempt()).await?;
            match attempts.next(attempt.verdict) {
                Decision::Done => return attempt.sent.map_err(|f| Error::network(f.message)),
                Decision::RefreshToken => {
                    drop(self.tokens.refresh_if_current(Some(&attempt.token)).await?)
                }
                Decision::Retry {
                    delay,
                    reason,
                    error,
                } => {
                    self.on_retry(request, reason, &error, attempts.attempt());
                    tokio::time::sleep(delay).await;
                }
                Decision::GiveUp { error, reason } => return Err(self.on_give_up(error, reason)),
            }
        }
    }

    /// One attempt: admission, token, send, classification, and what it tells the
    /// scheduler and the limits guard. The permit is released before returning, so a
    /// retry's backoff never holds a concurrency slot.
    async fn attempt(
        &self,
        request: &Request,
        span: &tracing::Span,
        number: u32,
    ) -> Result<Attempt, Error> {
        let (admission, permit) = self.admit(request, span).await?;
        // Taken after admission: a call that queued through a refresh sends the new token.
        let token = self.tokens.current().await?;
        let started = Instant::now();
        let sent = http::send(self.http_request(request, &token)?).await;
        let latency = started.elapsed();
        let status = sent.as_ref().ok().map(|r| r.status);
        record_attempt(span, number, status);
        self.metrics.record_request(request.route, status, latency);
        let safety = CallSafety {
            idempotent: request.idempotent,
        };
        let verdict = match &sent {
            Ok(response) => {
                self.observe_usage(&response.headers);
                classify(&response.outcome(), safety, SystemTime::now())
            }
            Err(failure) => classify(&failure.outcome(), safety, SystemTime::now()),
        };
        permit.record(signal(&verdict, latency));
        drop((admission, permit));
        Ok(Attempt {
            sent,
            verdict,
            token,
        })
    }

    /// Limits guard, then scheduler: one attempt's right to send.
    async fn admit(
        &self,
        request: &Request,
        span: &tracing::Span,
    ) -> Result<(Admission, Permit), Error> {
        if request.route != LIMITS_ROUTE {
            self.refresh_limits_if_stale().await;
        }
        let admission = self.guard.admit(request.priority, 1).await?;
        let permit = self
            .scheduler
            .acquire(request.priority, request.cost)
            .await?;
        record_wait(span, admission.waited() + permit.waited());
        Ok((admission, permit))
    }

    /// Fetches `/limits` when the guard's figure is missing or old; one fetch at a time.
    /// A failed fetch is logged and the call proceeds on the figure it has (the headers of
    /// the calls themselves keep the guard current); the next attempt waits
    /// [`LIMITS_RETRY_PAUSE`], so a brownout does not add a `/limits` call to every call.
    async fn refresh_limits_if_stale(&self) {
        if !self.guard.is_stale(tokio::time::Instant::now()) {
            return;
        }
        let mut last_failure = self.limits_refresh.lock().await;
        let paused = last_failure.is_some_and(|at| at.elapsed() < LIMITS_RETRY_PAUSE);
        if paused || !self.guard.is_stale(tokio::time::Instant::now()) {
            return;
        }
        let request = Request::new(
            Method::GET,
            Target::Versioned("limits".into()),
            LIMITS_ROUTE,
            "limits",
        )
        .class(Priority::Critical, CostClass::Normal);
        let fetched = Box::pin(self.execute(&request)).await;
        match fetched.and_then(|response| self.guard.observe_limits_body(&response.body)) {
            Ok(()) => {
                *last_failure = None;
            }
            Err(error) => {
                *last_failure = Some(Instant::now());
                tracing::warn!(%error, "could not refresh the org's limits");
            }
        }
    }

    fn observe_usage(&self, headers: &HeaderMap) {
        if let Some(value) = headers.get(LIMIT_INFO).and_then(|v| v.to_str().ok()) {
            self.guard.observe_header(value);
        }
    }

    fn on_retry(&self, request: &Request, reason: RetryReason, error: &Error, attempt: u32) {
        self.metrics.record_retry(reason.name());
        tracing::debug!(
            code = error.code(),
            reason = reason.name(),
            attempt,
            "retrying"
        );
        if reason == RetryReason::Lock {
            self.events.emit(Event::LockContention {
                object: request.object.clone(),
                attempt,
            });
        }
    }

    fn on_give_up(&self, error: Error, reason: GiveUpReason) -> Error {
        if reason == GiveUpReason::BudgetExhausted {
            self.metrics.record_budget_denial();
            let available = self.retry.budget().available();
            self.events.emit(Event::RetryBudgetExhausted {
                code: error.code().to_owned(),
                available,
            });
        }
        error
    }

    fn http_request(
        &self,
        request: &Request,
        token: &AccessToken,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let url = self.url(&request.target, token)?;
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .headers(request.headers.clone())
            .header(AUTHORIZATION, format!("Bearer {}", token.secret().expose()));
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if request.cost == CostClass::LongRunning {
            builder = builder.timeout(LONG_RUNNING_TIMEOUT.max(self.config.http.request_timeout));
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, body.content_type)
                .body(body.bytes.clone());
        }
        Ok(builder)
    }

    fn url(&self, target: &Target, token: &AccessToken) -> Result<url::Url, Error> {
        let path = match target {
            Target::Versioned(rest) => format!("services/data/v{}/{rest}", self.config.api_version),
            Target::Path(path) if path.starts_with("/services/") => path[1..].to_owned(),
            Target::Path(path) => {
                return Err(Error::invalid_input(format!(
                    "'{path}' is not a /services/ path on the instance"
                )))
            }
        };
        token.instance_url().join(&path).map_err(|e| {
            Error::new(
                crate::ErrorKind::InvalidInput,
                codes::INVALID_INPUT,
                format!("bad path '{path}': {e}"),
            )
        })
    }
}

/// What an attempt tells the adaptive concurrency limit: throttling and timeouts shrink it.
fn signal(verdict: &Verdict, latency: std::time::Duration) -> Signal {
    match verdict {
        Verdict::Retry { reason, error, .. } if reason.is_overload() => Signal::Overloaded {
            code: error.code().to_owned(),
        },
        Verdict::Fail(error) if error.code() == codes::TIMEOUT => Signal::Overloaded {
            code: error.code().to_owned(),
        },
        _ => Signal::Ok { latency },
    }
}

fn refresh_hook(metrics: &Metrics, events: &EventBus) -> crate::tokens::RefreshHook {
    let (metrics, events) = (metrics.clone(), events.clone());
    std::sync::Arc::new(move |grant: &'static str| {
        metrics.record_token_refresh();
        events.emit(Event::TokenRefreshed {
            grant: grant.to_owned(),
        });
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn throttling_and_timeouts_shrink_concurrency_other_outcomes_do_not() {
        let throttled = Verdict::Retry {
            after: None,
            reason: RetryReason::Throttled,
            error: Error::new(crate::ErrorKind::Server, codes::SERVER_UNAVAILABLE, "busy"),
        };
        assert!(matches!(
            signal(&throttled, Duration::ZERO),
            Signal::Overloaded { .. }
        ));
        assert!(matches!(
            signal(&Verdict::Fail(Error::timeout("slow")), Duration::ZERO),
            Signal::Overloaded { .. }
        ));
        let lock = Verdict::Retry {
            after: None,
            reason: RetryReason::Lock,
            error: Error::invalid_input("x"),
        };
        assert!(matches!(signal(&lock, Duration::ZERO), Signal::Ok { .. }));
        assert!(matches!(
            signal(&Verdict::Success, Duration::ZERO),
            Signal::Ok { .. }
        ));
    }
}
