//! The core's [`sfscale::Error`] as a JS rejection the JS layer turns into an `SfscaleError`.
//!
//! napi 3 rejects async work with a plain `Error` whose `code` is napi's status, so the
//! core's fields travel in the message: [`PREFIX`] followed by a JSON object (`kind`,
//! `code`, `message`, `status`, `fields`, `row`, `retryable`, `operation`, `object`,
//! `text`). `lib/errors.js` recognises the prefix and builds the class named after `kind`;
//! a test lists [`error_kinds`] and proves each has its class. The orphan rule forbids
//! `impl From<sfscale::Error> for napi::Error`, hence [`core_err`].

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::json;
use sfscale::{Error as CoreError, ErrorKind};

/// Marks a message as a serialized core error.
pub const PREFIX: &str = "\u{1}sfscale:";

/// A core call's result.
pub type CoreResult<T> = std::result::Result<T, CoreError>;

/// The core error's fields as the JSON document `lib/errors.js` reads.
pub fn payload(error: &CoreError) -> serde_json::Value {
    json!({
        "kind": error.kind().name(),
        "code": error.code(),
        "message": error.message(),
        "status": error.status(),
        "fields": error.fields(),
        "row": error.row(),
        "retryable": error.is_retryable(),
        "operation": error.context().map(|c| c.operation.clone()),
        "object": error.context().and_then(|c| c.object.clone()),
        "text": error.to_string(),
    })
}

/// The napi error carrying a core error.
pub fn core_err(error: CoreError) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("{PREFIX}{}", payload(&error)),
    )
}

/// A bad argument the JS layer should have caught (types it lets through).
pub fn invalid(message: impl AsRef<str>) -> Error {
    core_err(CoreError::invalid_input(message))
}

/// The stable names of every core error kind, for the binding's exhaustiveness test.
#[napi]
pub fn error_kinds() -> Vec<&'static str> {
    ErrorKind::all().iter().map(|k| k.name()).collect()
}

/// The payload the core would reject with for `kind` and `code` (tests, and users who wrap
/// other failures in sfscale's classes).
#[napi]
pub fn error_payload(kind: String, code: String, message: String) -> Result<String> {
    let kind = ErrorKind::all()
        .iter()
        .copied()
        .find(|k| k.name() == kind)
        .ok_or_else(|| Error::from_reason(format!("unknown error kind '{kind}'")))?;
    Ok(payload(&CoreError::new(kind, code, message)).to_string())
}
