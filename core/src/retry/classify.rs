//! The one classification table: every outcome of a call → a [`Verdict`].
//!
//! | outcome | verdict | kind / code |
//! |---|---|---|
//! | status < 400 (2xx, 300 multiple matches, 304) | `Success` | — |
//! | 401 `INVALID_SESSION_ID` (or no parseable code) | `RefreshToken` | Auth / `INVALID_SESSION_ID` |
//! | 401 "…not valid for use with the REST API" | `Fail` (refreshing would loop) | Auth / `INVALID_SESSION_ID` |
//! | 400 `InvalidSessionId` (Bulk 1.0 expiry) | `RefreshToken` | Auth |
//! | 403 `REQUEST_LIMIT_EXCEEDED` ConcurrentRequests / ConcurrentPerOrgLongTxn / ConcurrentPerOrgApex | `Retry` (throttled) | Limit |
//! | 403 `REQUEST_LIMIT_EXCEEDED` TotalRequests or any other message | `Fail`, **never retried** | Limit |
//! | 403 other | `Fail` | Auth |
//! | 404 | `Fail` | NotFound |
//! | 400 `UNABLE_TO_LOCK_ROW` (any method: the DML was rolled back) | `Retry` (lock) | Lock |
//! | 400 `QUERY_TIMEOUT` | `Fail` (re-running times out again) | Timeout |
//! | OAuth body `{"error","error_description"}` with 4xx | `Fail` | Auth / `error` upper-cased |
//! | other 4xx | `Fail` | InvalidInput (400, 405, 409, 412, 414, 415, 431) or Salesforce |
//! | 429 | `Retry` (throttled), `Retry-After` honoured | Limit |
//! | 503 (any method: not processed) | `Retry` (throttled), `Retry-After` honoured | Server / `SERVER_UNAVAILABLE` |
//! | 500 / 502 / 504 on an idempotent call | `Retry` (transient) | Server |
//! | 500 / 502 / 504 on a non-idempotent call | `Fail` (it may have been applied) | Server |
//! | other 5xx | `Fail` | Server |
//! | connect refused / failed (never reached the server) | `Retry` (transient) | Network |
//! | reset / body read failure, idempotent or not sent | `Retry` (transient) | Network |
//! | reset / body read failure, non-idempotent and maybe sent | `Fail` | Network |
//! | timeout, idempotent | `Retry` (timeout) | Timeout |
//! | timeout, non-idempotent | `Fail` | Timeout |
//!
//! Error bodies parsed: the REST list `[{"message","errorCode","fields"}]`, collection results
//! `[{"statusCode","message","fields"}]`, and OAuth `{"error","error_description"}`.
//!
//! Rejected alternative: a retry predicate per call site (as many SDKs grow). Scattered
//! predicates drift; one table is testable against real bodies and is what the docs describe.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

use crate::error::{codes, Error, ErrorKind};

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made (refused, DNS, TLS): the request never left.
    Connect,
    /// The connection was reset or closed mid-request.
    Reset,
    /// A connect or request timeout elapsed.
    Timeout,
    /// The response body could not be read to the end.
    BodyRead,
}

/// The outcome of one attempt, as the pipeline saw it.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// An HTTP response arrived.
    Response {
        /// Status code.
        status: u16,
        /// Response headers (for `Retry-After`).
        headers: &'a HeaderMap,
        /// Response body (for the error list).
        body: &'a [u8],
    },
    /// No usable response.
    Transport {
        /// Which failure.
        failure: TransportFailure,
        /// The transport's description (redacted before it is kept).
        message: &'a str,
    },
}

/// Whether replaying the call is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSafety {
    /// GET/PUT/DELETE, upsert by external id, or a query: replaying changes nothing.
    pub idempotent: bool,
}

impl CallSafety {
    /// A call that may be replayed.
    pub const IDEMPOTENT: CallSafety = CallSafety { idempotent: true };
    /// A call that must not be applied twice (POST create, composite).
    pub const NON_IDEMPOTENT: CallSafety = CallSafety { idempotent: false };
}

/// Why a retry is allowed; decides its budget cost and whether it signals overload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// 503, 429, concurrent-limit 403: the server asked us to slow down.
    Throttled,
    /// A timeout on an idempotent call.
    Timeout,
    /// A transient server or network failure.
    Transient,
    /// `UNABLE_TO_LOCK_ROW`.
    Lock,
}

impl RetryReason {
    /// Whether the scheduler should shrink its concurrency limit.
    pub fn is_overload(self) -> bool {
        matches!(self, RetryReason::Throttled | RetryReason::Timeout)
    }
    /// Stable label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            RetryReason::Throttled => "throttled",
            RetryReason::Timeout => "timeout",
            RetryReason::Transient => "transient",
            RetryReason::Lock => "lock",
        }
    }
}

/// What to do with an outcome.
#[derive(Debug)]
pub enum Verdict {
    /// The call succeeded at the HTTP level.
    Success,
    /// The session is invalid: refresh the token once and replay once.
    RefreshToken(Error),
    /// Transient: may be retried (budget and attempts permitting).
    Retry {
        /// Server-requested delay (`Retry-After`).
        after: Option<Duration>,
        /// Why.
        reason: RetryReason,
        /// The error to report if no retry happens.
        error: Error,
    },
    /// Permanent for this call.
    Fail(Error),
}

/// One Salesforce error as parsed from a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesforceError {
    /// `errorCode`, `statusCode` or upper-cased OAuth `error`.
    pub code: String,
    /// `message` or `error_description`.
    pub message: String,
    /// `fields`, empty when absent or null.
    pub fields: Vec<String>,
    /// Whether the body was an OAuth error object.
    pub oauth: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestErrorItem {
    #[serde(default)]
    message: String,
    error_code: Option<String>,
    status_code: Option<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Parses the first error of a REST list, a collection result list, or an OAuth error object.
pub fn parse_error_body(body: &[u8]) -> Option<SalesforceError> {
    if let Ok(items) = serde_json::from_slice::<Vec<RestErrorItem>>(body) {
        let item = items.into_iter().next()?;
        let code = item.error_code.or(item.status_code)?;
        return Some(SalesforceError {
            code,
            message: item.message,
            fields: item.fields.unwrap_or_default(),
            oauth: false,
        });
    }
    let oauth: OAuthError = serde_json::from_slice(body).ok()?;
    Some(SalesforceError {
        code: oauth.error.to_ascii_uppercase(),
        message: oauth.error_description,
        fields: Vec::new(),
        oauth: true,
    })
}

/// `Retry-After` as delta-seconds or an HTTP-date (relative to `now`); past dates give zero.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Classifies one outcome. `now` resolves HTTP-date `Retry-After` values.
pub fn classify(outcome: &Outcome<'_>, safety: CallSafety, now: SystemTime) -> Verdict {
    match *outcome {
        Outcome::Response { status, .. } if status < 400 => Verdict::Success,
        Outcome::Response {
            status,
            headers,
            body,
        } => classify_response(status, headers, body, safety, now),
        Outcome::Transport { failure, message } => classify_transport(failure, message, safety),
    }
}

fn classify_transport(failure: TransportFailure, message: &str, safety: CallSafety) -> Verdict {
    let (error, reason) = match failure {
        TransportFailure::Timeout => (Error::timeout(message), RetryReason::Timeout),
        _ => (Error::network(message), RetryReason::Transient),
    };
    let replayable = failure == TransportFailure::Connect || safety.idempotent;
    retry_if(replayable, None, reason, error)
}

fn classify_response(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    safety: CallSafety,
    now: SystemTime,
) -> Verdict {
    let parsed = parse_error_body(body);
    let code = parsed.as_ref().map(|p| p.code.as_str());
    let message = parsed.as_ref().map_or("", |p| p.message.as_str());
    let error = response_error(status, parsed.as_ref());
    let after = retry_after(headers, now);
    match (status, code) {
        (401, Some(codes::INVALID_SESSION_ID) | None)
            if !message.contains("not valid for use with the REST API") =>
        {
            Verdict::RefreshToken(error)
        }
        (400, Some("InvalidSessionId")) => Verdict::RefreshToken(error),
        (403, Some(codes::REQUEST_LIMIT_EXCEEDED)) => retry_if(
            is_concurrency_limit(message),
            after,
            RetryReason::Throttled,
            error,
        ),
        (400, Some(codes::UNABLE_TO_LOCK_ROW)) => retry_if(true, after, RetryReason::Lock, error),
        (429 | 503, _) => retry_if(true, after, RetryReason::Throttled, error),
        (500 | 502 | 504, _) => retry_if(safety.idempotent, after, RetryReason::Transient, error),
        _ => Verdict::Fail(error),
    }
}

fn retry_if(
    retryable: bool,
    after: Option<Duration>,
    reason: RetryReason,
    error: Error,
) -> Verdict {
    if retryable {
        Verdict::Retry {
            after,
            reason,
            error: error.with_retryable(true),
        }
    } else {
        Verdict::Fail(error)
    }
}

/// The concurrent-limit flavours of `REQUEST_LIMIT_EXCEEDED`; they clear within seconds.
fn is_concurrency_limit(message: &str) -> bool {
    [
        "ConcurrentRequests",
        "ConcurrentPerOrgLongTxn",
        "ConcurrentPerOrgApex",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The kind for a Salesforce error code at a status: the table's "kind" column in one place, also
/// used for per-record errors inside 200 collection and bulk results (`status` = None).
pub fn kind_for(status: Option<u16>, code: &str, oauth: bool) -> ErrorKind {
    match (status, code) {
        _ if oauth => ErrorKind::Auth,
        (_, codes::INVALID_SESSION_ID | "InvalidSessionId") => ErrorKind::Auth,
        (_, codes::REQUEST_LIMIT_EXCEEDED) => ErrorKind::Limit,
        (_, codes::UNABLE_TO_LOCK_ROW) => ErrorKind::Lock,
        (_, "QUERY_TIMEOUT") => ErrorKind::Timeout,
        (_, codes::NOT_FOUND) | (Some(404), _) => ErrorKind::NotFound,
        (Some(429), _) => ErrorKind::Limit,
        (Some(401 | 403), _) => ErrorKind::Auth,
        (Some(400 | 405 | 409 | 412 | 414 | 415 | 431), _) => ErrorKind::InvalidInput,
        (Some(500..), _) => ErrorKind::Server,
        (None, _) => ErrorKind::InvalidInput,
        _ => ErrorKind::Salesforce,
    }
}

/// A per-record error from a collection or bulk result, with its input row.
pub fn record_error(code: &str, message: &str, fields: Vec<String>, row: u64) -> Error {
    let retryable = code == codes::UNABLE_TO_LOCK_ROW;
    Error::new(kind_for(None, code, false), code, message)
        .with_fields(fields)
        .with_row(row)
        .with_retryable(retryable)
}

fn response_error(status: u16, parsed: Option<&SalesforceError>) -> Error {
    let error = match parsed {
        Some(p) => {
            let message = if p.oauth && !p.message.is_empty() {
                format!("{}: {}", p.code.to_ascii_lowercase(), p.message)
            } else {
                p.message.clone()
            };
            Error::new(
                kind_for(Some(status), &p.code, p.oauth),
                p.code.as_str(),
                message,
            )
            .with_fields(p.fields.clone())
        }
        None => {
            let code = match status {
                503 => codes::SERVER_UNAVAILABLE.to_owned(),
                404 => codes::NOT_FOUND.to_owned(),
                401 => codes::INVALID_SESSION_ID.to_owned(),
                _ => format!("HTTP_{status}"),
            };
            Error::new(
                kind_for(Some(status), &code, false),
                code,
                format!("HTTP {status} without a Salesforce error body"),
            )
        }
    };
    error.with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn respond(status: u16, body: &str, safety: CallSafety) -> Verdict {
        let headers = HeaderMap::new();
        classify(
            &Outcome::Response {
                status,
                headers: &headers,
                body: body.as_bytes(),
            },
            safety,
            SystemTime::UNIX_EPOCH,
        )
    }

    fn failed_code(verdict: Verdict) -> (ErrorKind, String) {
        match verdict {
            Verdict::Fail(e) => (e.kind(), e.code().to_owned()),
            other => panic!("expected Fail, got {other:?}"),
        }
    }

    fn retry_reason(verdict: Verdict) -> RetryReason {
        match verdict {
            Verdict::Retry { reason, error, .. } => {
                assert!(error.is_retryable());
                reason
            }
            other => panic!("expected Retry, got {other:?}"),
        }
    }

    #[test]
    fn success_statuses_include_multiple_choices_and_not_modified() {
        for status in [200, 201, 204, 300, 304] {
            assert!(matches!(
                respond(status, "", CallSafety::NON_IDEMPOTENT),
                Verdict::Success
            ));
        }
    }

    #[test]
    fn daily_limit_403_is_never_retried() {
        let body =
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        let verdict = respond(403, body, CallSafety::IDEMPOTENT);
        assert_eq!(
            failed_code(verdict),
            (ErrorKind::Limit, "REQUEST_LIMIT_EXCEEDED".into())
        );
    }

    #[test]
    fn concurrent_limit_403s_are_throttled_retries() {
        for message in [
            "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            "ConcurrentPerOrgLongTxn Limit exceeded.",
        ] {
            let body =
                format!(r#"[{{"message":"{message}","errorCode":"REQUEST_LIMIT_EXCEEDED"}}]"#);
            assert_eq!(
                retry_reason(respond(403, &body, CallSafety::NON_IDEMPOTENT)),
                RetryReason::Throttled
            );
        }
    }

    #[test]
    fn expired_session_asks_for_a_refresh_but_the_rest_api_variant_fails() {
        let expired =
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert!(matches!(
            respond(401, expired, CallSafety::IDEMPOTENT),
            Verdict::RefreshToken(_)
        ));
        let wrong = r#"[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(
            failed_code(respond(401, wrong, CallSafety::IDEMPOTENT)),
            (ErrorKind::Auth, "INVALID_SESSION_ID".into())
        );
    }

    #[test]
    fn lock_errors_retry_even_for_creates() {
        let body = r#"[{"message":"unable to obtain exclusive access to this record or 1 records: 001000000000001AAA","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]"#;
        assert_eq!(
            retry_reason(respond(400, body, CallSafety::NON_IDEMPOTENT)),
            RetryReason::Lock
        );
    }

    #[test]
    fn server_unavailable_retries_and_honours_retry_after_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let outcome = Outcome::Response {
            status: 503,
            headers: &headers,
            body: b"",
        };
        match classify(&outcome, CallSafety::NON_IDEMPOTENT, SystemTime::UNIX_EPOCH) {
            Verdict::Retry {
                after,
                reason,
                error,
            } => {
                assert_eq!(
                    (after, reason),
                    (Some(Duration::from_secs(7)), RetryReason::Throttled)
                );
                assert_eq!(
                    (error.kind(), error.code(), error.status()),
                    (ErrorKind::Server, "SERVER_UNAVAILABLE", Some(503))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_http_date_is_relative_to_now() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 1970 00:01:40 GMT"),
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(90);
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        assert_eq!(
            retry_after(&headers, now + Duration::from_secs(60)),
            Some(Duration::ZERO)
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn internal_errors_retry_only_idempotent_calls() {
        for status in [500, 502, 504] {
            assert_eq!(
                retry_reason(respond(status, "", CallSafety::IDEMPOTENT)),
                RetryReason::Transient
            );
            assert_eq!(
                failed_code(respond(status, "", CallSafety::NON_IDEMPOTENT)).0,
                ErrorKind::Server
            );
        }
    }

    #[test]
    fn non_idempotent_post_not_retried_after_send() {
        let reset = Outcome::Transport {
            failure: TransportFailure::Reset,
            message: "connection reset",
        };
        assert_eq!(
            failed_code(classify(
                &reset,
                CallSafety::NON_IDEMPOTENT,
                SystemTime::UNIX_EPOCH
            ))
            .0,
            ErrorKind::Network
        );
        let timeout = Outcome::Transport {
            failure: TransportFailure::Timeout,
            message: "timed out",
        };
        assert_eq!(
            failed_code(classify(
                &timeout,
                CallSafety::NON_IDEMPOTENT,
                SystemTime::UNIX_EPOCH
            ))
            .0,
            ErrorKind::Timeout
        );
        let refused = Outcome::Transport {
            failure: TransportFailure::Connect,
            message: "refused",
        };
        assert!(matches!(
            classify(&refused, CallSafety::NON_IDEMPOTENT, SystemTime::UNIX_EPOCH),
            Verdict::Retry { .. }
        ));
    }

    #[test]
    fn idempotent_timeouts_retry_with_the_timeout_reason() {
        let timeout = Outcome::Transport {
            failure: TransportFailure::Timeout,
            message: "timed out",
        };
        assert_eq!(
            retry_reason(classify(
                &timeout,
                CallSafety::IDEMPOTENT,
                SystemTime::UNIX_EPOCH
            )),
            RetryReason::Timeout
        );
    }

    #[test]
    fn validation_errors_keep_code_message_and_fields() {
        let body = r#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#;
        match respond(400, body, CallSafety::IDEMPOTENT) {
            Verdict::Fail(e) => {
                assert_eq!(
                    (e.kind(), e.code(), e.fields()),
                    (
                        ErrorKind::InvalidInput,
                        "REQUIRED_FIELD_MISSING",
                        &["Name".to_string()][..]
                    )
                );
                assert!(!e.is_retryable());
            }
            other => panic!("{other:?}"),
        }
        let missing =
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#;
        assert_eq!(
            failed_code(respond(404, missing, CallSafety::IDEMPOTENT)),
            (ErrorKind::NotFound, "NOT_FOUND".into())
        );
        let timeout = r#"[{"errorCode":"QUERY_TIMEOUT","message":"Your query request was running for too long."}]"#;
        assert_eq!(
            failed_code(respond(400, timeout, CallSafety::IDEMPOTENT)).0,
            ErrorKind::Timeout
        );
    }

    #[test]
    fn oauth_errors_are_auth_failures_with_the_grant_error_as_code() {
        let body = r#"{"error":"invalid_grant","error_description":"authentication failure"}"#;
        match respond(400, body, CallSafety::NON_IDEMPOTENT) {
            Verdict::Fail(e) => {
                assert_eq!((e.kind(), e.code()), (ErrorKind::Auth, "INVALID_GRANT"));
                assert_eq!(e.message(), "invalid_grant: authentication failure");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn collection_status_codes_parse_like_error_codes() {
        let body = r#"[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":null}]"#;
        let parsed = parse_error_body(body.as_bytes()).expect("parsed");
        assert_eq!(
            (parsed.code.as_str(), parsed.fields.len()),
            ("DUPLICATES_DETECTED", 0)
        );
        let err = record_error("UNABLE_TO_LOCK_ROW", "locked", vec![], 42);
        assert_eq!(
            (err.kind(), err.row(), err.is_retryable()),
            (ErrorKind::Lock, Some(42), true)
        );
    }

    #[test]
    fn garbage_bodies_classify_by_status() {
        assert_eq!(
            failed_code(respond(418, "<html>teapot</html>", CallSafety::IDEMPOTENT)),
            (ErrorKind::Salesforce, "HTTP_418".into())
        );
        assert!(parse_error_body(b"[]").is_none());
        assert!(parse_error_body(b"\xff\xfe").is_none());
    }
}
