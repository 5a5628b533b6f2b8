//! The gate every request passes before a handler sees it: session check, daily allocation,
//! concurrent long-running cap, call counting, fault injection, latency, and the response
//! headers Salesforce adds (`Sforce-Limit-Info`).
//!
//! Doing this once, in front of all routes, is what keeps the model honest: a REST handler,
//! a Bulk handler and a 404 for an unknown path all count the same way, and no handler can
//! forget the header. Order, for a data call (`/services/data/vNN.N/...`):
//!
//! 1. bearer token alive? else 401 `INVALID_SESSION_ID` (not counted);
//! 2. API version served? else 404 `NOT_FOUND` (not counted);
//! 3. long-running calls at the cap? else 403 ConcurrentRequests (not counted);
//! 4. allocation left? count the call, else 403 TotalRequests (not counted);
//! 5. fault? (faulted calls were counted: they reached Salesforce);
//! 6. latency, then the handler; a call still running after `long_running_after_ms` counts
//!    as long-running until it ends.
//!
//! The token endpoint gets in-flight tracking, faults and latency but no counting. The
//! version list, the identity URL and `/__emulator/*` pass straight through.

use super::Family;
use crate::auth::{bearer, oauth_error_response};
use crate::config::{Latency, Limits, RouteLatency};
use crate::error::{ApiError, ERROR_CODE_HEADER};
use crate::faults::Effect;
use crate::state::{parse_version, AppState};
use crate::stats::Stats;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Oldest API version served (20.0, Winter '11).
pub const MIN_VERSION: u32 = 20;
/// Newest API version served (66.0, Spring '26).
pub const MAX_VERSION: u32 = 66;
/// How long a `timeout` fault holds a call before dropping it (clients give up sooner).
const TIMEOUT_HOLD: Duration = Duration::from_secs(120);
/// Message of the concurrent long-running API call limit.
const CONCURRENT_REQUESTS: &str = "ConcurrentRequests (Concurrent API Requests) Limit exceeded.";
/// Error code of a call with a method its path does not serve.
const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
/// `Sforce-Limit-Info`.
static LIMIT_INFO: HeaderName = HeaderName::from_static("sforce-limit-info");

/// Marker in a response's extensions: close the connection instead of answering. The
/// listener turns it into a service error, which makes hyper drop the connection.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

fn drop_connection() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

/// State of the gate: the org, the server's shutdown signal, per-family latency.
#[derive(Clone)]
pub struct Gate {
    app: AppState,
    shutdown: CancellationToken,
    latency: Arc<[RouteLatency; Family::ALL.len()]>,
}

impl Gate {
    pub fn new(app: AppState, shutdown: CancellationToken) -> Self {
        let latency = Arc::new(latency_table(&app.config.latency));
        Gate {
            app,
            shutdown,
            latency,
        }
    }
}

fn latency_table(latency: &Latency) -> [RouteLatency; Family::ALL.len()] {
    Family::ALL.map(|family| {
        latency
            .routes
            .get(family.as_str())
            .copied()
            .unwrap_or(latency.default)
    })
}

/// Which part of the server a path belongs to.
enum Area {
    Data { family: Family, version_ok: bool },
    Token,
    Control,
    Open,
}

fn area(path: &str) -> Area {
    if let Some(rest) = path
        .strip_prefix("/services/data/")
        .filter(|rest| !rest.is_empty())
    {
        let (version, resource) = rest.split_once('/').unwrap_or((rest, ""));
        return Area::Data {
            family: Family::of_data_resource(resource),
            version_ok: version_served(version),
        };
    }
    if path.starts_with("/services/oauth2/") {
        Area::Token
    } else if path.starts_with("/__emulator/") {
        Area::Control
    } else {
        Area::Open
    }
}

/// `v59.0` within [`MIN_VERSION`]..=[`MAX_VERSION`].
fn version_served(segment: &str) -> bool {
    parse_version(segment)
        .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
        .is_some_and(|major| (MIN_VERSION..=MAX_VERSION).contains(&major))
}

/// The axum middleware.
pub async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    match area(request.uri().path()) {
        Area::Data { family, version_ok } => {
            gate.data_call(family, version_ok, request, next).await
        }
        Area::Token => gate.token_call(request, next).await,
        Area::Control => next.run(request).await,
        Area::Open => gate.finish(next.run(request).await),
    }
}

/// Counts a request in flight for as long as it lives (even if the client goes away).
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        stats.enter();
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// Counts a request as long-running until it ends.
struct LongRunning<'a>(&'a Stats);

impl Drop for LongRunning<'_> {
    fn drop(&mut self) {
        self.0.leave_long_running();
    }
}

/// Runs `work`; if it is still running after `after`, counts it long-running until done.
async fn track_long_running(
    stats: &Stats,
    after: Duration,
    work: impl Future<Output = Response>,
) -> Response {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        response = &mut work => return response,
        () = tokio::time::sleep(after) => {}
    }
    stats.enter_long_running();
    let _long = LongRunning(stats);
    work.await
}

impl Gate {
    async fn data_call(
        &self,
        family: Family,
        version_ok: bool,
        request: Request,
        next: Next,
    ) -> Response {
        let _flight = InFlight::enter(&self.app.stats);
        let after = Duration::from_millis(self.app.limits.read().long_running_after_ms);
        let response = match self.admit(family, version_ok, request.headers()) {
            Ok(()) => {
                track_long_running(&self.app.stats, after, self.run(family, request, next)).await
            }
            Err(error) => error.into_response(),
        };
        let mut response = self.finish(response);
        self.add_limit_info(&mut response);
        response
    }

    async fn token_call(&self, request: Request, next: Next) -> Response {
        let _flight = InFlight::enter(&self.app.stats);
        let response = self.run(Family::Token, request, next).await;
        self.finish(response)
    }

    /// Steps 1–4 of the module doc.
    fn admit(&self, family: Family, version_ok: bool, headers: &HeaderMap) -> Result<(), ApiError> {
        if !bearer(headers).is_some_and(|token| self.app.sessions.is_valid(token)) {
            return Err(ApiError::invalid_session());
        }
        if !version_ok {
            return Err(ApiError::not_found());
        }
        let (cap, daily, window) = {
            let limits = self.app.limits.read();
            (
                limits.long_running_cap,
                limits.daily_api_requests,
                daily_window(&limits),
            )
        };
        if self.app.stats.long_running() >= cap {
            return Err(limit_exceeded(CONCURRENT_REQUESTS));
        }
        match self
            .app
            .stats
            .try_count_api_request(family.as_str(), daily, window)
        {
            Ok(_) => Ok(()),
            Err(_) => Err(limit_exceeded("TotalRequests Limit exceeded.")),
        }
    }

    /// Steps 5–6: fault, latency, handler.
    async fn run(&self, family: Family, request: Request, next: Next) -> Response {
        let fault = self.app.faults.pick(family);
        if let Some(effect) = fault {
            self.app.stats.count_fault(effect.name());
        }
        if fault == Some(Effect::Timeout) {
            tokio::select! {
                () = self.shutdown.cancelled() => {}
                () = tokio::time::sleep(TIMEOUT_HOLD) => {}
            }
            return drop_connection();
        }
        let mut delay = self.latency(family);
        if let Some(Effect::Delay(extra)) = fault {
            delay += extra;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match fault.and_then(|effect| self.fault_answer(effect, family, request.headers())) {
            Some(response) => response,
            None => next.run(request).await,
        }
    }

    /// The answer a fault gives instead of the handler's; None when the handler answers
    /// (`delay`, and `bulk-fail`, which job processing decides).
    fn fault_answer(
        &self,
        effect: Effect,
        family: Family,
        headers: &HeaderMap,
    ) -> Option<Response> {
        let error = match effect {
            Effect::Delay(_) | Effect::BulkFail | Effect::Timeout => return None,
            Effect::Reset => return Some(drop_connection()),
            Effect::Unavailable => {
                return Some(fault_error(family, StatusCode::SERVICE_UNAVAILABLE))
            }
            Effect::ServerError => {
                return Some(fault_error(family, StatusCode::INTERNAL_SERVER_ERROR))
            }
            Effect::ExpireSession => {
                if let Some(token) = bearer(headers) {
                    self.app.sessions.revoke(token);
                }
                ApiError::invalid_session()
            }
            Effect::ConcurrentLimit => limit_exceeded(CONCURRENT_REQUESTS),
            Effect::LongTxn => limit_exceeded("ConcurrentPerOrgLongTxn Limit exceeded."),
            Effect::Lock => ApiError::new(
                StatusCode::BAD_REQUEST,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record",
            ),
            Effect::QueryTimeout => ApiError::new(
                StatusCode::BAD_REQUEST,
                "QUERY_TIMEOUT",
                "Your query request was running for too long.",
            ),
        };
        Some(error.into_response())
    }

    /// Configured base latency plus uniform jitter for `family`.
    fn latency(&self, family: Family) -> Duration {
        let RouteLatency { base_ms, jitter_ms } = self.latency[family.index()];
        let jitter = if jitter_ms == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_ms)
        };
        Duration::from_millis(base_ms.saturating_add(jitter))
    }

    /// Counts the response's error code (a bare 405 from the router counts as
    /// `METHOD_NOT_ALLOWED`; [`shape_method_not_allowed`] gives it its body later).
    fn finish(&self, mut response: Response) -> Response {
        if let Some(code) = response.headers_mut().remove(ERROR_CODE_HEADER) {
            self.app
                .stats
                .count_error(code.to_str().unwrap_or("UNKNOWN"));
        } else if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            self.app.stats.count_error(METHOD_NOT_ALLOWED);
        }
        response
    }

    /// `Sforce-Limit-Info: api-usage=<used>/<max>; per-app-api-usage=<used>/<max>(appName=<app>)`.
    fn add_limit_info(&self, response: &mut Response) {
        let (max, window) = {
            let limits = self.app.limits.read();
            (limits.daily_api_requests, daily_window(&limits))
        };
        let used = self.app.stats.api_usage(window);
        let app = &self.app.config.org.app_name;
        let value =
            format!("api-usage={used}/{max}; per-app-api-usage={used}/{max}(appName={app})");
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(LIMIT_INFO.clone(), value);
        }
    }
}

/// The rolling window the daily allocation applies to.
pub fn daily_window(limits: &Limits) -> Duration {
    Duration::from_secs(limits.daily_window_secs)
}

fn limit_exceeded(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", message)
}

/// An injected 503/500: REST error list on data calls, OAuth body on the token endpoint
/// (OAuth clients cannot parse a list), counted under the Salesforce code either way.
fn fault_error(family: Family, status: StatusCode) -> Response {
    let (code, rest_message, oauth_error, oauth_message) = if status
        == StatusCode::SERVICE_UNAVAILABLE
    {
        (
            "SERVER_UNAVAILABLE",
            "Server too busy. Please try again later.",
            "temporarily_unavailable",
            "Server too busy. Please try again later.",
        )
    } else {
        ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1804281942-52733 (-1430563437)", "unknown_error", "retry your request")
    };
    if family != Family::Token {
        return ApiError::new(status, code, rest_message).into_response();
    }
    let mut response = oauth_error_response(status, oauth_error, oauth_message);
    response
        .headers_mut()
        .insert(ERROR_CODE_HEADER, HeaderValue::from_static(code));
    response
}

/// Gives the router's bare 405 a Salesforce error list. It must run outside the router:
/// axum adds the `Allow` header after route middleware such as the gate has run.
pub async fn shape_method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let allowed = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let message = format!("HTTP Method '{method}' not allowed. Allowed are {allowed}");
    let mut shaped =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED, message).into_response();
    shaped.headers_mut().remove(ERROR_CODE_HEADER);
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_into_areas() {
        assert!(matches!(
            area("/services/data/v59.0/query"),
            Area::Data {
                family: Family::Query,
                version_ok: true
            }
        ));
        assert!(matches!(
            area("/services/data/v67.0/limits"),
            Area::Data {
                family: Family::Limits,
                version_ok: false
            }
        ));
        assert!(matches!(
            area("/services/data/vX/limits"),
            Area::Data {
                version_ok: false,
                ..
            }
        ));
        assert!(matches!(
            area("/services/data/v59.0"),
            Area::Data {
                family: Family::Other,
                version_ok: true
            }
        ));
        assert!(matches!(area("/services/data/"), Area::Open));
        assert!(matches!(area("/services/oauth2/token"), Area::Token));
        assert!(matches!(area("/__emulator/stats"), Area::Control));
    }
}
