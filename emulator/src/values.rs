//! Field values: turning what clients send (REST JSON, Bulk CSV text) into the canonical
//! form the store keeps, and back into wire text.
//!
//! Canonical forms: text as JSON strings, numbers as JSON numbers, `date` as `YYYY-MM-DD`,
//! `datetime` as UTC `YYYY-MM-DDTHH:MM:SS.sss+0000` (the REST output format, which also
//! sorts correctly as text so SOQL can compare it), references as 18-character ids.
//! Errors carry the Salesforce status code, message and field so REST and Bulk report the
//! same problem the same way.

use crate::ids;
use crate::schema::{FieldDef, FieldType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// A per-record error as Salesforce reports it (`errorCode`/`statusCode`, message, fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>, fields: &[&str]) -> Self {
        FieldError {
            code: code.to_string(),
            message: message.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn wrong_type(field: &FieldDef, shown: &str) -> Self {
        FieldError::new(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            format!("{}: value not of required type: {shown}", field.name),
            &[&field.name],
        )
    }
}

/// Converts a REST JSON value for `field` to its canonical form.
pub fn from_json(field: &FieldDef, value: &Value) -> Result<Value, FieldError> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(text) => from_text(field, text),
        Value::Bool(b) if field.field_type == FieldType::Boolean => Ok(Value::Bool(*b)),
        Value::Number(n) if field.field_type.is_numeric() => {
            check_number(field, n.as_f64().unwrap_or(f64::NAN), &n.to_string())
        }
        Value::Number(_) | Value::Bool(_) if field.field_type.is_text() => {
            from_text(field, &value.to_string())
        }
        Value::Object(_) | Value::Array(_) => Err(FieldError::new(
            "JSON_PARSER_ERROR",
            format!(
                "Cannot deserialize instance of {} from {} value",
                field.field_type.describe_name(),
                kind_of(value)
            ),
            &[&field.name],
        )),
        other => Err(FieldError::wrong_type(field, &other.to_string())),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        _ => "VALUE",
    }
}

/// Converts one Bulk CSV cell. `None` means "leave unchanged" (an empty cell); the literal
/// `#N/A` sets the field to null.
pub fn from_csv(field: &FieldDef, cell: &str) -> Result<Option<Value>, FieldError> {
    match cell {
        "" => Ok(None),
        "#N/A" => Ok(Some(Value::Null)),
        text => from_text(field, text).map(Some),
    }
}

/// Parses text for any field type (used by both JSON strings and CSV cells).
pub fn from_text(field: &FieldDef, text: &str) -> Result<Value, FieldError> {
    use FieldType::*;
    match field.field_type {
        Id | Reference => ids::normalize(text).map(Value::String).ok_or_else(|| {
            FieldError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {text}", field.name),
                &[&field.name],
            )
        }),
        Email => check_length(field, text).and_then(|v| {
            let ok = text
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
            if ok {
                Ok(v)
            } else {
                Err(FieldError::new(
                    "INVALID_EMAIL_ADDRESS",
                    format!("Email: invalid email address: {text}"),
                    &[&field.name],
                ))
            }
        }),
        String | Textarea | Phone | Url | Picklist => check_length(field, text),
        Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(FieldError::wrong_type(field, text)),
        },
        Int | Double | Currency | Percent => {
            let n: f64 = text
                .trim()
                .parse()
                .map_err(|_| FieldError::wrong_type(field, text))?;
            check_number(field, n, text)
        }
        Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| FieldError::wrong_type(field, text)),
        Datetime => parse_datetime(text)
            .map(|dt| Value::String(format_datetime(&dt)))
            .ok_or_else(|| FieldError::wrong_type(field, text)),
    }
}

fn check_length(field: &FieldDef, text: &str) -> Result<Value, FieldError> {
    if field.length > 0 && text.chars().count() > field.length as usize {
        return Err(FieldError::new(
            "STRING_TOO_LONG",
            format!(
                "{}: data value too large: {} (max length={})",
                field.name,
                truncate(text),
                field.length
            ),
            &[&field.name],
        ));
    }
    Ok(Value::String(text.to_string()))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn check_number(field: &FieldDef, n: f64, shown: &str) -> Result<Value, FieldError> {
    if !n.is_finite() {
        return Err(FieldError::wrong_type(field, shown));
    }
    if field.field_type == FieldType::Int {
        if n.fract() != 0.0 || n.abs() > i32::MAX as f64 {
            return Err(FieldError::wrong_type(field, shown));
        }
        return Ok(Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n)
        .map(Value::Number)
        .unwrap_or(Value::Null))
}

/// Parses the ISO-8601 forms Salesforce accepts: `Z`, `+00:00` or `+0000` offsets, with or
/// without milliseconds; a bare date-time without offset is taken as UTC.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// REST output form: `2013-05-20T20:49:32.000+0000`.
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// The current time in REST output form. Every write stamps three fields, so the text is
/// formatted once per millisecond per thread and reused.
pub fn now() -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = Utc::now();
    let millis = now.timestamp_millis();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != millis {
            *last = (millis, format_datetime(&now));
        }
        last.1.clone()
    })
}

/// Text for a CSV cell (bulk results and bulk query): null is empty, datetimes in the Bulk
/// query form with a `Z` suffix, numbers without a trailing `.0` for integral values.
pub fn to_csv(value: &Value, field_type: Option<FieldType>) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) if field_type == Some(FieldType::Datetime) => s.replace("+0000", "Z"),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{default_custom_fields, Schema};

    fn field(object: &str, name: &str) -> FieldDef {
        Schema::build(&[], &default_custom_fields())
            .unwrap()
            .object(object)
            .unwrap()
            .field(name)
            .unwrap()
            .clone()
    }

    #[test]
    fn datetimes_in_every_accepted_offset_form_normalise_to_utc() {
        let f = field("Account", "CreatedDate");
        for input in [
            "2024-05-01T12:15:00.000+02:00",
            "2024-05-01T10:15:00Z",
            "2024-05-01T10:15:00.000+0000",
            "2024-05-01T10:15:00",
        ] {
            assert_eq!(
                from_text(&f, input).unwrap(),
                Value::String("2024-05-01T10:15:00.000+0000".into()),
                "{input}"
            );
        }
        assert_eq!(
            from_text(&f, "yesterday").unwrap_err().code,
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        );
    }

    #[test]
    fn csv_cells_distinguish_unchanged_from_null() {
        let f = field("Account", "Name");
        assert_eq!(from_csv(&f, "").unwrap(), None);
        assert_eq!(from_csv(&f, "#N/A").unwrap(), Some(Value::Null));
        assert_eq!(
            from_csv(&f, "Acme").unwrap(),
            Some(Value::String("Acme".into()))
        );
    }

    #[test]
    fn bad_values_get_salesforce_codes_naming_the_field() {
        assert_eq!(
            from_text(&field("Account", "NumberOfEmployees"), "12.5")
                .unwrap_err()
                .fields,
            ["NumberOfEmployees"]
        );
        assert_eq!(
            from_text(&field("Contact", "Email"), "nope")
                .unwrap_err()
                .code,
            "INVALID_EMAIL_ADDRESS"
        );
        assert_eq!(
            from_text(&field("Contact", "AccountId"), "001bad")
                .unwrap_err()
                .code,
            "MALFORMED_ID"
        );
        let long = "x".repeat(300);
        assert_eq!(
            from_text(&field("Account", "Name"), &long)
                .unwrap_err()
                .code,
            "STRING_TOO_LONG"
        );
        let err = from_json(&field("Account", "Name"), &serde_json::json!({"a": 1})).unwrap_err();
        assert_eq!(err.code, "JSON_PARSER_ERROR");
    }

    #[test]
    fn csv_output_formats_values_like_bulk_query() {
        assert_eq!(to_csv(&Value::Null, None), "");
        assert_eq!(
            to_csv(&serde_json::json!(5.0), Some(FieldType::Currency)),
            "5"
        );
        assert_eq!(
            to_csv(&serde_json::json!(5.25), Some(FieldType::Currency)),
            "5.25"
        );
        assert_eq!(
            to_csv(
                &Value::String("2024-05-01T10:15:00.000+0000".into()),
                Some(FieldType::Datetime)
            ),
            "2024-05-01T10:15:00.000Z"
        );
    }
}
