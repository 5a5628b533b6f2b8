//! The one error type of the core.
//!
//! Every failure a caller can see — a Salesforce error body, a transport failure, a limit the
//! client itself refused to cross, bad configuration — becomes an [`Error`] with a small closed
//! [`ErrorKind`] (what bindings map to exception classes) and a stable `code` string (what
//! callers match on; Salesforce's own `errorCode` passes through unchanged). HTTP statuses and
//! Salesforce bodies are mapped to kinds in one table in `retry::classify`, not here.
//!
//! Rejected alternative: one enum variant per failure (`Error::RequestLimitExceeded { .. }`, ...).
//! Salesforce has hundreds of error codes; an enum per code either grows forever or flattens the
//! rest into strings anyway, and every binding would need a parallel hierarchy. A closed kind set
//! plus an open code string keeps bindings a lookup table.
//!
//! Secrets: messages are passed through [`redact`] when the error is built, so an access token or
//! `Bearer` credential echoed by a server or a transport library never reaches `Display`, `Debug`
//! or logs.

use std::error::Error as StdError;
use std::fmt;

/// Stable codes the core itself produces. Salesforce codes (e.g. `DUPLICATE_VALUE`) pass through.
pub mod codes {
    /// Daily API allocation exhausted (Salesforce `TotalRequests`, or refused client-side).
    pub const REQUEST_LIMIT_EXCEEDED: &str = "REQUEST_LIMIT_EXCEEDED";
    /// The configured reserve for other integrations was reached; low-priority work refused.
    pub const LIMIT_RESERVE_REACHED: &str = "LIMIT_RESERVE_REACHED";
    /// A row (or its parent) was locked by another transaction.
    pub const UNABLE_TO_LOCK_ROW: &str = "UNABLE_TO_LOCK_ROW";
    /// The session is expired or not valid.
    pub const INVALID_SESSION_ID: &str = "INVALID_SESSION_ID";
    /// The caller passed something the core refuses before sending.
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    /// A request or connect timeout.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// A transport failure (refused, reset, body read failure).
    pub const NETWORK: &str = "NETWORK";
    /// The scheduler's wait queue is full and the client is configured to fail fast.
    pub const BACKPRESSURE: &str = "BACKPRESSURE";
    /// Authentication failed (token endpoint error, unusable session).
    pub const AUTH: &str = "AUTH";
    /// Invalid configuration, reported at build time naming the setting.
    pub const CONFIG: &str = "CONFIG";
    /// Salesforce answered 503 `SERVER_UNAVAILABLE`.
    pub const SERVER_UNAVAILABLE: &str = "SERVER_UNAVAILABLE";
    /// The record or resource does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Salesforce (or something in between) answered with a body sfscale cannot read.
    pub const INVALID_RESPONSE: &str = "INVALID_RESPONSE";
}

/// The family an error belongs to. Closed set: bindings map each to one exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ErrorKind {
    /// Authentication or authorization failed (OAuth errors, unusable session, 403 permissions).
    Auth,
    /// An allocation or concurrency limit: daily requests, the reserve, concurrent long-running.
    Limit,
    /// Row lock contention (`UNABLE_TO_LOCK_ROW`).
    Lock,
    /// Bad input: rejected client-side, or a Salesforce 4xx field/validation/query error.
    InvalidInput,
    /// The record or resource does not exist (404).
    NotFound,
    /// Salesforce server-side failure (5xx).
    Server,
    /// Transport failure: connection refused or reset, body read failure.
    Network,
    /// A timeout (connect, request, or Salesforce `QUERY_TIMEOUT`).
    Timeout,
    /// The client's own wait queue is full.
    Backpressure,
    /// Invalid configuration.
    Config,
    /// Any other Salesforce error.
    Salesforce,
}

impl ErrorKind {
    /// Every kind, for bindings' exhaustiveness tests.
    pub const fn all() -> &'static [ErrorKind] {
        &[
            ErrorKind::Auth,
            ErrorKind::Limit,
            ErrorKind::Lock,
            ErrorKind::InvalidInput,
            ErrorKind::NotFound,
            ErrorKind::Server,
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::Backpressure,
            ErrorKind::Config,
            ErrorKind::Salesforce,
        ]
    }

    /// Stable name (`"Limit"`, `"InvalidInput"`, ...), used by bindings to pick a class.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Auth => "Auth",
            ErrorKind::Limit => "Limit",
            ErrorKind::Lock => "Lock",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Server => "Server",
            ErrorKind::Network => "Network",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Backpressure => "Backpressure",
            ErrorKind::Config => "Config",
            ErrorKind::Salesforce => "Salesforce",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the failing call was doing: added once, by the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The operation, e.g. `query`, `create`, `bulk.ingest`.
    pub operation: String,
    /// The sObject concerned, when there is one.
    pub object: Option<String>,
}

/// The core's error: kind, stable code, HTTP status, Salesforce message and fields, input row.
///
/// Boxed inside so `Result<T, Error>` stays one pointer wide on the happy path.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    code: String,
    status: Option<u16>,
    message: String,
    fields: Vec<String>,
    row: Option<u64>,
    retryable: bool,
    context: Option<Context>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// A new error; `message` is redacted of anything that looks like a credential.
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl AsRef<str>) -> Self {
        Error(Box::new(Inner {
            kind,
            code: code.into(),
            status: None,
            message: redact(message.as_ref()),
            fields: Vec::new(),
            row: None,
            retryable: false,
            context: None,
            source: None,
        }))
    }

    /// Invalid configuration: the message names the setting.
    pub fn config(setting: &str, problem: impl fmt::Display) -> Self {
        Error::new(
            ErrorKind::Config,
            codes::CONFIG,
            format!("{setting}: {problem}"),
        )
    }

    /// Input refused before sending.
    pub fn invalid_input(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::InvalidInput, codes::INVALID_INPUT, message)
    }

    /// A transport failure.
    pub fn network(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Network, codes::NETWORK, message)
    }

    /// A timeout.
    pub fn timeout(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Timeout, codes::TIMEOUT, message)
    }

    /// The scheduler's queue is full and the client fails fast.
    pub fn backpressure(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Backpressure, codes::BACKPRESSURE, message)
    }

    /// An authentication failure with the given code (e.g. `INVALID_GRANT`).
    pub fn auth(code: impl Into<String>, message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Auth, code, message)
    }

    /// The daily allocation is (or would be) exhausted.
    pub fn request_limit_exceeded(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Limit, codes::REQUEST_LIMIT_EXCEEDED, message)
    }

    /// The configured reserve was reached for low-priority work.
    pub fn limit_reserve_reached(message: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Limit, codes::LIMIT_RESERVE_REACHED, message)
    }

    /// The family.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The stable code (`REQUEST_LIMIT_EXCEEDED`, or Salesforce's `errorCode`).
    pub fn code(&self) -> &str {
        &self.0.code
    }
    /// The HTTP status, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }
    /// The (redacted) message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// Field names Salesforce blamed.
    pub fn fields(&self) -> &[String] {
        &self.0.fields
    }
    /// The input row (0-based) this error concerns, for bulk and collection work.
    pub fn row(&self) -> Option<u64> {
        self.0.row
    }
    /// Whether the classifier judged the failure transient (worth retrying later).
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }
    /// The operation context, if the pipeline added it.
    pub fn context(&self) -> Option<&Context> {
        self.0.context.as_ref()
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }
    /// Sets the blamed fields.
    #[must_use]
    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.0.fields = fields;
        self
    }
    /// Sets the input row.
    #[must_use]
    pub fn with_row(mut self, row: u64) -> Self {
        self.0.row = Some(row);
        self
    }
    /// Marks the error as transient (set by the classifier).
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = retryable;
        self
    }
    /// Adds the operation and object the failing call concerned.
    #[must_use]
    pub fn with_context(mut self, operation: impl Into<String>, object: Option<&str>) -> Self {
        self.0.context = Some(Context {
            operation: operation.into(),
            object: object.map(str::to_owned),
        });
        self
    }
    /// Keeps the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// A copy for a second receiver of one shared failure (e.g. a single-flight cache load): every
    /// field is kept; the copy's source is the shared original.
    pub fn from_shared(shared: std::sync::Arc<Error>) -> Self {
        Error(Box::new(Inner {
            kind: shared.0.kind,
            code: shared.0.code.clone(),
            status: shared.0.status,
            message: shared.0.message.clone(),
            fields: shared.0.fields.clone(),
            row: shared.0.row,
            retryable: shared.0.retryable,
            context: shared.0.context.clone(),
            source: Some(Box::new(SharedCause(shared))),
        }))
    }
}

/// The original of a shared error, kept as the source of its copies.
#[derive(Debug)]
struct SharedCause(std::sync::Arc<Error>);

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for SharedCause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)?;
        if let Some(status) = self.0.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.0.fields.is_empty() {
            write!(f, " [fields: {}]", self.0.fields.join(", "))?;
        }
        if let Some(row) = self.0.row {
            write!(f, " [row {row}]")?;
        }
        if let Some(ctx) = &self.0.context {
            match &ctx.object {
                Some(object) => write!(f, " during {} on {object}", ctx.operation)?,
                None => write!(f, " during {}", ctx.operation)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("code", &self.0.code)
            .field("status", &self.0.status)
            .field("message", &self.0.message)
            .field("fields", &self.0.fields)
            .field("row", &self.0.row)
            .field("retryable", &self.0.retryable)
            .field("context", &self.0.context)
            .field(
                "source",
                &self.0.source.as_ref().map(|s| redact(&s.to_string())),
            )
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Masks credentials in free text: `Bearer <x>` / `OAuth <x>` values and Salesforce session ids
/// (`00D` + org id + `!` + opaque text). Everything else is kept, so messages stay useful.
pub fn redact(text: &str) -> String {
    let mut out = Vec::new();
    let mut mask_next = false;
    for word in text.split(' ') {
        if mask_next && !word.is_empty() {
            out.push("[redacted]".to_owned());
            mask_next = false;
            continue;
        }
        let lower = word.to_ascii_lowercase();
        mask_next = matches!(lower.trim_end_matches(':'), "bearer" | "oauth");
        out.push(redact_session_ids(word));
    }
    out.join(" ")
}

/// Replaces every `00D…!…` token inside one whitespace-free word.
fn redact_session_ids(word: &str) -> String {
    match word.find('!') {
        Some(bang) if looks_like_session(word, bang) => {
            let start = session_start(word, bang);
            let end = word[bang + 1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._!-+/=".contains(c)))
                .map_or(word.len(), |i| bang + 1 + i);
            format!(
                "{}[redacted]{}",
                &word[..start],
                redact_session_ids(&word[end..])
            )
        }
        _ => word.to_owned(),
    }
}

fn session_start(word: &str, bang: usize) -> usize {
    word[..bang]
        .rfind(|c: char| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1)
}

fn looks_like_session(word: &str, bang: usize) -> bool {
    let org = &word[session_start(word, bang)..bang];
    org.starts_with("00D") && (org.len() == 15 || org.len() == 18) && word.len() > bang + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_stable_name() {
        let names: std::collections::HashSet<_> =
            ErrorKind::all().iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), ErrorKind::all().len());
        assert_eq!(ErrorKind::InvalidInput.name(), "InvalidInput");
    }

    #[test]
    fn display_carries_code_status_fields_row_and_context() {
        let err = Error::new(
            ErrorKind::InvalidInput,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Name]",
        )
        .with_status(400)
        .with_fields(vec!["Name".into()])
        .with_row(7)
        .with_context("create", Some("Account"));
        assert_eq!(
            err.to_string(),
            "REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (HTTP 400) [fields: Name] [row 7] during create on Account"
        );
        assert_eq!(err.row(), Some(7));
        assert_eq!(err.fields(), ["Name".to_string()]);
    }

    #[test]
    fn session_ids_and_bearer_values_never_reach_display_or_debug() {
        let token = "00D5g000004XyZaEAK!AQ0AQFakeTokenValue1234567890";
        let err = Error::network(format!(
            "sent Authorization: Bearer abc.def.ghi with session {token}, failed"
        ));
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("abc.def.ghi"), "{shown}");
        assert!(!shown.contains("FakeTokenValue"), "{shown}");
        assert!(shown.contains("failed"), "{shown}");
    }

    #[test]
    fn redact_keeps_ordinary_exclamation_marks() {
        assert_eq!(
            redact("Limit exceeded! try later"),
            "Limit exceeded! try later"
        );
    }

    #[test]
    fn shared_copy_keeps_every_field() {
        let original =
            std::sync::Arc::new(Error::timeout("slow").with_status(504).with_retryable(true));
        let copy = Error::from_shared(original);
        assert_eq!(
            (copy.kind(), copy.code(), copy.status()),
            (ErrorKind::Timeout, "TIMEOUT", Some(504))
        );
        assert!(copy.is_retryable());
        assert!(copy.source().is_some());
    }
}
