//! sObject Collections (`/composite/sobjects`, wire doc 2.7): create, update, upsert,
//! retrieve and delete up to 200 records in one call.
//!
//! A well-formed call answers 200 with one result per record **in input order**, errors
//! keyed `statusCode`. The call is one transaction: it plans every record first (a record
//! that cannot even be planned — no `attributes.type`, an `Id` on create — fails on its
//! own), then takes all the parent locks of all its records together and holds them for
//! its whole processing time (`row_micros` × records). Records whose locks stay busy past
//! the lock wait fail with `UNABLE_TO_LOCK_ROW`; without `allOrNone` the rest are locked
//! again and saved, as Salesforce's partial-save retry does. With `allOrNone: true` any
//! failure rolls back every write of the call and every other record reports
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK`.

use super::call::{Call, Reply};
use super::sobjects::{object, parse_id, render, version_at_least};
use super::txn::{lock_error, Txn};
use crate::error::ApiError;
use crate::schema::{FieldDef, ObjectDef};
use crate::state::Org;
use crate::store::{Changes, UpsertError, Upserted, WriteMode};
use crate::values::{self, FieldError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// Most records one call may carry.
const MAX_RECORDS: usize = 200;
/// Lock attempts of a partial-save call before the records still waiting fail.
const LOCK_ATTEMPTS: usize = 3;

/// What one planned record will do.
enum Op<'o> {
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
struct Planned<'o> {
    op: Op<'o>,
    rows: Vec<String>,
}

/// The result of one record.
enum Outcome {
    Saved {
        id: String,
        created: Option<bool>,
    },
    Failed {
        id: Option<String>,
        error: FieldError,
    },
}

impl Outcome {
    fn failed(id: Option<String>, error: FieldError) -> Self {
        Outcome::Failed { id, error }
    }

    fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }

    fn to_json(&self) -> Value {
        match self {
            Outcome::Saved { id, created } => {
                let mut v = json!({"id": id, "success": true, "errors": []});
                if let Some(created) = created {
                    v["created"] = json!(created);
                }
                v
            }
            Outcome::Failed { id, error } => {
                let errors = json!([{"statusCode": error.code, "message": error.message, "fields": error.fields}]);
                match id {
                    Some(id) => json!({"id": id, "success": false, "errors": errors}),
                    None => json!({"success": false, "errors": errors}),
                }
            }
        }
    }
}

fn rolled_back() -> FieldError {
    FieldError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        &[],
    )
}

/// One record's plan, or the outcome it already has.
type Plan<'o> = Result<Planned<'o>, Outcome>;

/// The parsed body of a create, update or upsert call.
struct Request {
    all_or_none: bool,
    records: Vec<Value>,
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        ),
    )
}

impl Request {
    fn parse(call: &Call) -> Result<Request, ApiError> {
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

fn plan_insert<'o>(org: &'o Org, record: &Map<String, Value>) -> Plan<'o> {
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

fn plan_update<'o>(org: &'o Org, record: &Map<String, Value>) -> Plan<'o> {
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

fn plan_upsert<'o>(
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

fn plan_delete<'o>(org: &'o Org, raw_id: &str) -> Plan<'o> {
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

/// Applies one planned operation to the transaction.
fn apply(txn: &mut Txn<'_>, op: Op<'_>) -> Outcome {
    match op {
        Op::Insert { object, changes } => match txn.insert(object, changes) {
            Ok(id) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(None, e),
        },
        Op::Update {
            object,
            id,
            changes,
        } => match txn.update(object, &id, changes) {
            Ok(()) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(Some(id), e),
        },
        Op::Upsert {
            object,
            field,
            value,
            changes,
        } => match txn.upsert(object, &field.name, &value, changes, false) {
            Ok(Upserted::Created(id)) => Outcome::Saved {
                id,
                created: Some(true),
            },
            Ok(Upserted::Updated(id)) => Outcome::Saved {
                id,
                created: Some(false),
            },
            Err(UpsertError::Multiple(ids)) => Outcome::failed(
                None,
                FieldError::new(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{}: more than one record found for external id field: {}",
                        field.name,
                        ids.join(",")
                    ),
                    &[&field.name],
                ),
            ),
            Err(UpsertError::Invalid(e)) => Outcome::failed(None, e),
        },
        Op::Delete { object, id } => match txn.delete(object, &id) {
            Ok(()) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(Some(id), e),
        },
    }
}

/// The id a result reports for an operation that did not save (updates and deletes).
fn known_id(op: &Op<'_>) -> Option<String> {
    match op {
        Op::Update { id, .. } | Op::Delete { id, .. } => Some(id.clone()),
        Op::Insert { .. } | Op::Upsert { .. } => None,
    }
}

/// Records planned for the transaction, by input position.
type Pending<'o> = Vec<(usize, Planned<'o>)>;

/// Runs a planned call as one transaction and returns the results in input order.
async fn run(txn: &mut Txn<'_>, plans: Vec<Plan<'_>>, all_or_none: bool) -> Vec<Outcome> {
    let savepoint = txn.savepoint();
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(plans.len());
    let mut ids: Vec<Option<String>> = Vec::with_capacity(plans.len());
    let mut pending = Pending::new();
    for (i, plan) in plans.into_iter().enumerate() {
        match plan {
            Ok(planned) => {
                ids.push(known_id(&planned.op));
                outcomes.push(None);
                pending.push((i, planned));
            }
            Err(outcome) => {
                ids.push(None);
                outcomes.push(Some(outcome));
            }
        }
    }
    let mut halted = all_or_none && outcomes.iter().any(Option::is_some);
    if !halted {
        match lock_pending(txn, pending, &mut outcomes, all_or_none).await {
            Some(ready) => {
                txn.process(ready.len()).await;
                for (i, planned) in ready {
                    outcomes[i] = Some(apply(txn, planned.op));
                }
            }
            None => halted = true,
        }
    }
    let failed = halted || outcomes.iter().flatten().any(Outcome::is_failure);
    if all_or_none && failed {
        txn.rollback_to(savepoint);
    }
    outcomes
        .into_iter()
        .zip(ids)
        .map(|(outcome, id)| match outcome {
            Some(Outcome::Saved { id, .. }) if all_or_none && failed => {
                Outcome::failed(Some(id), rolled_back())
            }
            Some(outcome) => outcome,
            None => Outcome::failed(id, rolled_back()),
        })
        .collect()
}

/// Locks the rows of every pending record and returns the records that hold their locks.
/// Records whose rows stay busy past the lock wait fail with `UNABLE_TO_LOCK_ROW`; the
/// others are locked again (partial save), or, all-or-none, nothing is applied (`None`).
async fn lock_pending<'o>(
    txn: &mut Txn<'_>,
    mut pending: Pending<'o>,
    outcomes: &mut [Option<Outcome>],
    all_or_none: bool,
) -> Option<Pending<'o>> {
    for _ in 0..LOCK_ATTEMPTS {
        let rows: Vec<String> = pending
            .iter()
            .flat_map(|(_, p)| p.rows.iter().cloned())
            .collect();
        let Err(timeout) = txn.lock(rows).await else {
            return Some(pending);
        };
        let error = lock_error(&timeout);
        let (culprits, rest): (Pending<'o>, Pending<'o>) = pending
            .into_iter()
            .partition(|(_, p)| p.rows.iter().any(|r| timeout.rows.contains(r)));
        for (i, planned) in &culprits {
            outcomes[*i] = Some(Outcome::failed(known_id(&planned.op), error.clone()));
        }
        if all_or_none {
            return None;
        }
        pending = rest;
    }
    let error = FieldError::new(
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record",
        &[],
    );
    for (i, planned) in &pending {
        outcomes[*i] = Some(Outcome::failed(known_id(&planned.op), error.clone()));
    }
    Some(Pending::new())
}

/// Most ids one retrieve may name.
const MAX_RETRIEVE_IDS: usize = 2000;

/// The 200 answer: results in input order; every failed record counts as an error of its code.
fn answer(org: &Org, outcomes: Vec<Outcome>) -> Reply {
    for outcome in &outcomes {
        if let Outcome::Failed { error, .. } = outcome {
            org.stats.count_error(&error.code);
        }
    }
    Reply::ok(outcomes.iter().map(Outcome::to_json).collect())
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
    fn plan<'o>(&self, plan: impl Fn(&Map<String, Value>) -> Plan<'o>) -> Vec<Plan<'o>> {
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

/// `POST /composite/sobjects`.
pub async fn create(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let org = txn.org();
    let request = Request::parse(call)?;
    let plans = request.plan(|r| plan_insert(org, r));
    Ok(answer(org, run(txn, plans, request.all_or_none).await))
}

/// `PATCH /composite/sobjects`.
pub async fn update(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let org = txn.org();
    let request = Request::parse(call)?;
    let plans = request.plan(|r| plan_update(org, r));
    Ok(answer(org, run(txn, plans, request.all_or_none).await))
}

/// `PATCH /composite/sobjects/{Type}/{ExtField}` (v46.0+).
pub async fn upsert(
    txn: &mut Txn<'_>,
    call: &Call,
    type_name: &str,
    field_name: &str,
) -> Result<Reply, ApiError> {
    let org = txn.org();
    let object = object(org, type_name)?;
    let field = object
        .field(field_name)
        .filter(|f| f.external_id || f.id_lookup);
    let field = field
        .filter(|_| version_at_least(&call.version, 46))
        .ok_or_else(ApiError::not_found)?;
    let request = Request::parse(call)?;
    let plans = request.plan(|r| plan_upsert(org, object, field, r));
    Ok(answer(org, run(txn, plans, request.all_or_none).await))
}

/// Comma-separated ids of a query parameter.
fn id_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn missing_ids() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MISSING_ARGUMENT",
        "The ids parameter is required and names at least one record",
    )
}

/// `DELETE /composite/sobjects?ids=a,b&allOrNone=`.
pub async fn delete(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let org = txn.org();
    let ids = id_list(call.param("ids").unwrap_or_default());
    if ids.is_empty() {
        return Err(missing_ids());
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let plans = ids.iter().map(|id| plan_delete(org, id)).collect();
    Ok(answer(org, run(txn, plans, call.flag("allOrNone")).await))
}

/// `GET /composite/sobjects/{Type}?ids=&fields=` (or `POST` with `{"ids", "fields"}`):
/// the records in the order asked, `null` for ids that match no live record.
pub fn retrieve(org: &Org, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    let (ids, fields) = if call.method == axum::http::Method::POST {
        let body = call.json_object("SObjectCollectionRetrieveRequest")?;
        let list = |key: &str| -> Vec<String> {
            body.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        (list("ids"), Some(list("fields").join(",")))
    } else {
        (
            id_list(call.param("ids").unwrap_or_default()),
            call.param("fields").map(str::to_string),
        )
    };
    if ids.is_empty() {
        return Err(missing_ids());
    }
    if ids.len() > MAX_RETRIEVE_IDS {
        return Err(too_many());
    }
    let mut out = Vec::with_capacity(ids.len());
    for raw in &ids {
        let record = parse_id(object, raw)
            .ok()
            .and_then(|id| org.store.get(object, &id, false));
        out.push(match record {
            Some(r) => render(object, &r, &call.version, fields.as_deref())?,
            None => Value::Null,
        });
    }
    Ok(Reply::ok(Value::Array(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
