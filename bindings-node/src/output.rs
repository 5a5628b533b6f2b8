//! Core results as JSON documents for the JS layer: one [`ToJson`] impl per result type.
//!
//! Serialisable core types go through serde (field names are the core's snake_case; the JS
//! layer camelCases result keys, never record fields); the rest are written out here, field
//! for field. Per-record outcomes carry their failure as the core error's payload
//! (`"error"`, with the input row set), which the JS layer turns into an `SfscaleError`.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use sfscale::bulk::query::QueryResult;
use sfscale::bulk::{BulkResult, WriteReport};
use sfscale::queue::{DeadLetter, QueueStats, Ticket};
use sfscale::rest::{OrgLimits, Record, RecordResult, SubResponse, UpsertResult};

use crate::errors::payload;

/// A core result as one JSON document.
pub trait ToJson: Send + 'static {
    /// The document.
    fn to_json(self) -> Value;
}

impl ToJson for () {
    fn to_json(self) -> Value {
        Value::Null
    }
}

impl ToJson for Record {
    fn to_json(self) -> Value {
        Value::Object(self)
    }
}

impl ToJson for Vec<Record> {
    fn to_json(self) -> Value {
        Value::Array(self.into_iter().map(Value::Object).collect())
    }
}

impl ToJson for Arc<Vec<Record>> {
    fn to_json(self) -> Value {
        Value::Array(self.iter().cloned().map(Value::Object).collect())
    }
}

impl ToJson for Arc<Value> {
    fn to_json(self) -> Value {
        Arc::unwrap_or_clone(self)
    }
}

impl ToJson for Ticket {
    fn to_json(self) -> Value {
        Value::from(self.0)
    }
}

impl ToJson for UpsertResult {
    fn to_json(self) -> Value {
        json!({ "id": self.id, "created": self.created })
    }
}

impl ToJson for Vec<RecordResult> {
    fn to_json(self) -> Value {
        self.into_iter().map(record_result).collect()
    }
}

fn record_result(r: RecordResult) -> Value {
    let errors: Vec<Value> = r
        .errors
        .iter()
        .map(|e| json!({ "status_code": e.status_code, "message": e.message, "fields": e.fields }))
        .collect();
    json!({
        "index": r.index,
        "id": r.id,
        "success": r.success,
        "created": r.created,
        "errors": errors,
        "error": r.error().map(|e| payload(&e)),
    })
}

impl ToJson for Vec<SubResponse> {
    fn to_json(self) -> Value {
        self.into_iter()
            .map(|s| {
                json!({
                    "reference_id": s.reference_id,
                    "status": s.http_status_code,
                    "body": s.body,
                    "headers": s.http_headers,
                })
            })
            .collect()
    }
}

impl ToJson for OrgLimits {
    fn to_json(self) -> Value {
        let limits: Map<String, Value> = self
            .0
            .into_iter()
            .map(|(name, l)| (name, json!({ "max": l.max, "remaining": l.remaining })))
            .collect();
        Value::Object(limits)
    }
}

macro_rules! via_serde {
    ($($t:ty),*) => {
        $(impl ToJson for $t {
            fn to_json(self) -> Value {
                serde_json::to_value(&self).unwrap_or_else(|e| json!({ "encodingError": e.to_string() }))
            }
        })*
    };
}

via_serde!(
    String,
    bool,
    BulkResult,
    QueryResult,
    WriteReport,
    QueueStats,
    Vec<DeadLetter>
);
