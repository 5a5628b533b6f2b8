//! Replication: `GET /sobjects/{Type}/updated?start=&end=` (ids of records changed in a
//! window) and `GET /sobjects/{Type}/deleted?start=&end=` (records deleted in it), the
//! resources incremental sync tools and simple-salesforce's `updated()`/`deleted()` call.
//!
//! A change is read from `SystemModstamp`, which the store sets on every write and on
//! delete, so a record updated and then deleted shows in `deleted` only. As in Salesforce,
//! `latestDateCovered` is the end of the window (never later than now) rounded down to the
//! minute, and deleted records are available for the recycle bin's 15 days.

use super::call::{Call, Reply};
use super::sobjects::object;
use crate::error::ApiError;
use crate::state::Org;
use crate::values::{format_datetime, parse_datetime};
use axum::http::StatusCode;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{json, Value};

/// How long deleted records stay available (the recycle bin).
const RECYCLE_BIN_DAYS: i64 = 15;

/// The `[start, end)` window of a call, in the store's datetime text form (which sorts).
struct Window {
    start: String,
    end: String,
    latest_covered: String,
}

fn bad_date(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REPLICATION_DATE", message)
}

fn minute(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::minutes(1)).unwrap_or(time)
}

impl Window {
    fn parse(call: &Call) -> Result<Window, ApiError> {
        let read = |name: &str| -> Result<DateTime<Utc>, ApiError> {
            let text = call.param(name).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MISSING_ARGUMENT",
                    format!("The {name} parameter is required (an ISO-8601 dateTime)"),
                )
            })?;
            parse_datetime(text)
                .ok_or_else(|| bad_date(format!("{name}: not a valid dateTime: {text}")))
        };
        let (start, end) = (read("start")?, read("end")?);
        if end <= start {
            return Err(bad_date("end must be after start"));
        }
        let latest = minute(end.min(Utc::now()));
        Ok(Window {
            start: format_datetime(&start),
            end: format_datetime(&end),
            latest_covered: format_datetime(&latest),
        })
    }

    fn contains(&self, stamp: &Value) -> bool {
        stamp
            .as_str()
            .is_some_and(|s| s >= self.start.as_str() && s < self.end.as_str())
    }
}

/// `GET /sobjects/{Type}/updated`.
pub fn updated(org: &Org, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    let window = Window::parse(call)?;
    let mut ids = Vec::new();
    org.store.scan(object, false, |record| {
        if record
            .get(object, "SystemModstamp")
            .is_some_and(|s| window.contains(s))
        {
            ids.push(Value::String(record.id().to_string()));
        }
        true
    });
    Ok(Reply::ok(
        json!({"ids": ids, "latestDateCovered": window.latest_covered}),
    ))
}

/// `GET /sobjects/{Type}/deleted`.
pub fn deleted(org: &Org, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    let window = Window::parse(call)?;
    let mut records = Vec::new();
    org.store.scan(object, true, |record| {
        match record.get(object, "SystemModstamp") {
            Some(stamp) if record.is_deleted() && window.contains(stamp) => {
                records.push(json!({"id": record.id(), "deletedDate": stamp}));
            }
            _ => {}
        }
        true
    });
    let earliest = minute(Utc::now() - TimeDelta::days(RECYCLE_BIN_DAYS));
    Ok(Reply::ok(json!({
        "deletedRecords": records,
        "earliestDateAvailable": format_datetime(&earliest),
        "latestDateCovered": window.latest_covered,
    })))
}
