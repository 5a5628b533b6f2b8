//! The core's [`sfscale::Error`] across the boundary.
//!
//! Every export fails with [`FfiError::Core`], carrying an [`ErrorInfo`]: the core's kind
//! name, code, message, status, fields, row, retryability and context. The Kotlin layer turns
//! it into the `SfscaleException` subclass for the kind (one table, in
//! `SfscaleException.of`), and a JUnit test proves that table covers every name
//! [`error_kinds`] reports, through [`make_error`], which builds a real core error.
//!
//! Signed integers (`i32`, `i64`) instead of `u16`/`u64` keep Kotlin's unsigned types out of
//! the generated API.

use sfscale::{Error, ErrorKind};

/// A core error's fields.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ErrorInfo {
    /// The core's kind name (`Limit`, `InvalidInput`, ...).
    pub kind: String,
    /// The stable code (`REQUEST_LIMIT_EXCEEDED`, or Salesforce's `errorCode`).
    pub code: String,
    /// Salesforce's (or the core's) message.
    pub reason: String,
    /// The HTTP status, when there was a response.
    pub status: Option<i32>,
    /// Fields concerned.
    pub fields: Vec<String>,
    /// The input row (bulk, collections), 0-based.
    pub row: Option<i64>,
    /// Whether the core considers it retryable.
    pub retryable: bool,
    /// The failing operation (`query`, `create`, `bulk.ingest`, ...).
    pub operation: Option<String>,
    /// The sObject concerned.
    pub sobject: Option<String>,
    /// The core's full text (`Display`).
    pub text: String,
}

/// The one error every export can fail with.
#[derive(Debug, uniffi::Error)]
pub enum FfiError {
    /// A core error.
    Core {
        /// Its fields.
        info: ErrorInfo,
    },
}

impl std::fmt::Display for FfiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FfiError::Core { info } => f.write_str(&info.text),
        }
    }
}

impl std::error::Error for FfiError {}

/// The fields of a core error.
pub fn info(error: &Error) -> ErrorInfo {
    ErrorInfo {
        kind: error.kind().name().to_owned(),
        code: error.code().to_owned(),
        reason: error.message().to_owned(),
        status: error.status().map(i32::from),
        fields: error.fields().to_vec(),
        row: error.row().map(|r| i64::try_from(r).unwrap_or(i64::MAX)),
        retryable: error.is_retryable(),
        operation: error.context().map(|c| c.operation.clone()),
        sobject: error.context().and_then(|c| c.object.clone()),
        text: error.to_string(),
    }
}

impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        FfiError::Core { info: info(&error) }
    }
}

/// A bad argument, as the core reports one.
pub fn invalid(message: impl AsRef<str>) -> FfiError {
    Error::invalid_input(message).into()
}

/// A bad setting, naming it, as the core reports one.
pub fn setting(name: &str, problem: impl std::fmt::Display) -> FfiError {
    Error::config(name, problem).into()
}

/// The stable names of every core error kind, for the binding's exhaustiveness test.
#[uniffi::export]
pub fn error_kinds() -> Vec<String> {
    ErrorKind::all()
        .iter()
        .map(|k| k.name().to_owned())
        .collect()
}

/// The error the core would report for `kind` and `code` (tests; callers wrapping their own
/// failures in sfscale's hierarchy).
#[uniffi::export]
pub fn make_error(kind: String, code: String, message: String) -> ErrorInfo {
    match ErrorKind::all().iter().find(|k| k.name() == kind) {
        Some(kind) => info(&Error::new(*kind, code, message)),
        None => info(&Error::invalid_input(format!(
            "unknown error kind '{kind}'"
        ))),
    }
}
