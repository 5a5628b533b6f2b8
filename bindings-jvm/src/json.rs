//! JSON text to core records and back.
//!
//! The Kotlin layer encodes Java values (String, numbers, Boolean, null, `Instant`,
//! `OffsetDateTime`, `LocalDate`, `BigDecimal`, maps, lists) into Salesforce's JSON forms
//! before the call; this side only parses text it was handed and serialises what the core
//! returned. A malformed document is an `INVALID_INPUT` error naming what it was.

use serde::Serialize;
use serde_json::Value;
use sfscale::rest::Record;

use crate::errors::{invalid, FfiError};

/// One record (a JSON object).
pub fn record(text: &str) -> Result<Record, FfiError> {
    serde_json::from_str(text).map_err(|e| invalid(format!("a record must be a JSON object: {e}")))
}

/// Records (a JSON array of objects).
pub fn records(text: &str) -> Result<Vec<Record>, FfiError> {
    serde_json::from_str(text)
        .map_err(|e| invalid(format!("records must be a JSON array of objects: {e}")))
}

/// Any JSON value.
pub fn value(text: &str) -> Result<Value, FfiError> {
    serde_json::from_str(text).map_err(|e| invalid(format!("not a JSON value: {e}")))
}

/// A core result as JSON text.
pub fn text<T: Serialize + ?Sized>(value: &T) -> Result<String, sfscale::Error> {
    serde_json::to_string(value)
        .map_err(|e| sfscale::Error::invalid_input(format!("cannot encode a result: {e}")))
}
