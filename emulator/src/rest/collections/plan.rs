//! Planning a Collections call: parsing its body, the 200-record and 10-chunk rules, and
//! turning each record into an operation plus the rows its transaction must lock — or
//! into the per-record error it already has (no `attributes.type`, an `Id` on create, a
//! bad field value), so one bad record never fails the call.

use super::run::Outcome;
use crate::error::ApiError;
use crate::rest::call::Call;
use crate::rest::sobjects::parse_id;
use crate::schema::{FieldDef, ObjectDef};
use crate::state::Org;
use crate::store::{Changes, WriteMode};
use crate::values::{self, FieldError};
use axum::http::StatusCode;
use serde_json::{Map, Value};

/// Most records one call may carry.
pub(super) const MAX_RECORDS: usize = 200;

/// What one planned record will do.
pub(super) enum Op<'o> {
    Insert {
        object: &'o ObjectDef,
        changes: Changes,
    },
    Update {
        object: &'o ObjectDef,
        id: String,
        changes: Changes,
    },
    Upsert {
        object: &'o ObjectDef,
        field: &'o FieldDef,
        value: Value,
        changes: Changes,
    },
    Delete {
        object: &'o ObjectDef,
        id: String,
    },
}

/// A planned record: its operation and the rows its transaction must lock.
pub(super) struct Planned<'o> {
    pub(super) op: Op<'o>,
    pub(super) rows: Vec<String>,
}

/// One record's plan, or the outcome it already has.
pub(super) type Plan<'o> = Result<Planned<'o>, Outcome>;

/// The parsed body of a create, update or upsert call.
pub(super) struct Request {
    pub(super) all_or_none: bool,
    pub(super) records: Vec<Value>,
}

pub(super) fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        ),
    )
}

impl Request {
    pub(super) fn parse(call: &Call) -> Result<Request, ApiError> {
        let body = call.json_object("SObjectCollectionRequest")?;
        let all_or_none = match body.get("allOrNone") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(ApiError::json_parse(format!(
                    "allOrNone must be a boolean, not {other}"
                )))
            }
        };
        let records = match body.get("records") {
            Some(Value::Array(records)) => records.clone(),
            _ => {
                return Err(ApiError::json_parse(
                    "the body must carry a \"records\" array",
                ))
            }
        };
        if records.len() > MAX_RECORDS {
            return Err(too_many());
        }
        if records.iter().any(|r| !r.is_object()) {
            return Err(ApiError::json_parse(
                "every item of \"records\" must be a JSON object",
            ));
        }
        Ok(Request {
            all_or_none,
            records,
        })
    }
}

/// The object a record's `attributes.type` names.
fn record_object<'o>(
    org: &'o Org,
    record: &Map<String, Value>,
) -> Result<&'o ObjectDef, FieldError> {
    let type_name = record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new("INVALID_TYPE", "No SObject type found in the attributes of this record; every record must name its \"type\"", &[]))?;
    org.store.schema().object(type_name).ok_or_else(|| {
        FieldError::new(
            "INVALID_TYPE",
            format!("sObject type '{type_name}' is not supported."),
            &[],
        )
    })
}

pub(super) fn plan_insert<'o>(org: &'o Org, record: &Map<String, Value>) -> Plan<'o> {
    let fail = |e| Outcome::failed(None, e);
    let object = record_object(org, record).map_err(fail)?;
    if record.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
        return Err(fail(FieldError::new(
            "INVALID_FIELD",
            "cannot specify Id in an insert call",
            &["Id"],
        )));
    }
    let changes = org
        .store
        .changes_from_json(object, record, WriteMode::Insert)
        .map_err(fail)?;
    let rows = org.store.parents_to_lock(object, &changes, None);
    Ok(Planned {
        op: Op::Insert { object, changes },
        rows,
    })
}

pub(super) fn plan_update<'o>(org: &'o Org, record: &Map<String, Value>) -> Plan<'o> {
    let raw_id = record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
        .and_then(|(_, v)| v.as_str());
    let Some(raw_id) = raw_id else {
        return Err(Outcome::failed(
            None,
            FieldError::new(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                &[],
            ),
        ));
    };
    let fail = |e| Outcome::failed(Some(raw_id.to_string()), e);
    let object = record_object(org, record).map_err(fail)?;
    let id = parse_id(object, raw_id).map_err(fail)?;
    let changes = org
        .store
        .changes_from_json(object, record, WriteMode::Update)
        .map_err(fail)?;
    let current = org.store.get(object, &id, false);
    let mut rows = org
        .store
        .parents_to_lock(object, &changes, current.as_ref());
    rows.push(id.clone());
    Ok(Planned {
        op: Op::Update {
            object,
            id,
            changes,
        },
        rows,
    })
}

pub(super) fn plan_upsert<'o>(
    org: &'o Org,
    object: &'o ObjectDef,
    field: &'o FieldDef,
    record: &Map<String, Value>,
) -> Plan<'o> {
    let fail = |e| Outcome::failed(None, e);
    let named = record_object(org, record).map_err(fail)?;
    if named.name != object.name {
        let message = format!(
            "The record's type {} does not match the request's type {}",
            named.name, object.name
        );
        return Err(fail(FieldError::new("INVALID_TYPE", message, &[])));
    }
    let raw = record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&field.name))
        .map(|(_, v)| v);
    let value = match raw.map(|v| values::from_json(field, v)) {
        Some(Ok(v)) if !v.is_null() => v,
        Some(Err(e)) => return Err(fail(e)),
        _ => {
            return Err(fail(FieldError::new(
                "MISSING_ARGUMENT",
                format!("{} not specified", field.name),
                &[&field.name],
            )))
        }
    };
    let matches = org.store.find_by_field(object, &field.name, &value);
    let current = match matches.as_slice() {
        [id] => org.store.get(object, id, false),
        _ => None,
    };
    let mode = if current.is_some() {
        WriteMode::Update
    } else {
        WriteMode::Insert
    };
    let changes = org
        .store
        .changes_from_json(object, record, mode)
        .map_err(fail)?;
    let mut rows = org
        .store
        .parents_to_lock(object, &changes, current.as_ref());
    rows.extend(matches);
    Ok(Planned {
        op: Op::Upsert {
            object,
            field,
            value,
            changes,
        },
        rows,
    })
}

pub(super) fn plan_delete<'o>(org: &'o Org, raw_id: &str) -> Plan<'o> {
    let fail = |e| Outcome::failed(Some(raw_id.to_string()), e);
    let malformed = || FieldError::new("MALFORMED_ID", format!("malformed id {raw_id}"), &[]);
    let id = crate::ids::normalize(raw_id).ok_or_else(|| fail(malformed()))?;
    let object = org
        .store
        .schema()
        .object_by_prefix(crate::ids::key_prefix(&id))
        .ok_or_else(|| fail(malformed()))?;
    let current = org.store.get(object, &id, true).ok_or_else(|| {
        fail(FieldError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            &[],
        ))
    })?;
    if current.is_deleted() {
        return Err(fail(FieldError::new(
            "ENTITY_IS_DELETED",
            "entity is deleted",
            &[],
        )));
    }
    let mut rows = org
        .store
        .parents_to_lock(object, &Vec::new(), Some(&current));
    rows.push(id.clone());
    Ok(Planned {
        op: Op::Delete { object, id },
        rows,
    })
}

/// Most chunks (consecutive runs of one type) one call may form.
const MAX_CHUNKS: usize = 10;

impl Request {
    /// How many chunks the records form: `{account, account, contact, account}` is three.
    fn chunks(&self) -> usize {
        let type_of = |r: &Value| {
            r.get("attributes")
                .and_then(|a| a.get("type"))
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
        };
        let types: Vec<_> = self.records.iter().map(type_of).collect();
        types.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!types.is_empty())
    }

    /// Plans every record with `plan`, or fails them all when they form too many chunks.
    pub(super) fn plan<'o>(&self, plan: impl Fn(&Map<String, Value>) -> Plan<'o>) -> Vec<Plan<'o>> {
        let records = self.records.iter().filter_map(Value::as_object);
        if self.chunks() <= MAX_CHUNKS {
            return records.map(plan).collect();
        }
        let message = format!("Cannot have more than {MAX_CHUNKS} chunks in a single operation. Please rearrange the data to reduce chunking.");
        records
            .map(|_| {
                Err(Outcome::failed(
                    None,
                    FieldError::new("INVALID_BATCH_REQUEST", message.clone(), &[]),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(types: &[&str]) -> Request {
        let records = types
            .iter()
            .map(|t| json!({"attributes": {"type": t}}))
            .collect();
        Request {
            all_or_none: false,
            records,
        }
    }

    #[test]
    fn consecutive_runs_of_one_type_form_a_chunk() {
        assert_eq!(request(&[]).chunks(), 0);
        assert_eq!(
            request(&["Account", "account", "Contact", "Account"]).chunks(),
            3
        );
        let alternating: Vec<&str> = (0..11)
            .map(|i| if i % 2 == 0 { "Account" } else { "Contact" })
            .collect();
        assert_eq!(request(&alternating).chunks(), 11);
    }
}
