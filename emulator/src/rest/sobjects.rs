//! sObject rows: create, read, update, delete, and read/upsert/delete by external id
//! (wire doc 2.5), with Salesforce's status codes: 201 on create, 204 on update and delete,
//! 201/200 (v46.0+) or 201/204 (v45.0 and earlier) on upsert, 300 with the matching
//! records' urls when an external id value matches several records.
//!
//! Every write runs in a [`Txn`]: it locks the record it changes and the parents its
//! locking lookups point at, spends the configured processing time holding them, and only
//! then writes. A lock that stays busy past the lock wait answers 400 `UNABLE_TO_LOCK_ROW`.

use super::call::{Call, Reply};
use super::txn::{lock_error, Txn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{FieldDef, ObjectDef};
use crate::state::Org;
use crate::store::{attributes, Record, UpsertError, Upserted, WriteMode};
use crate::values::{self, FieldError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The object named in a path; unknown names answer 404 `NOT_FOUND` as Salesforce does.
pub fn object<'o>(org: &'o Org, name: &str) -> Result<&'o ObjectDef, ApiError> {
    org.store
        .schema()
        .object(name)
        .ok_or_else(ApiError::not_found)
}

/// `/services/data/v{version}/sobjects/{Type}/{id}`.
pub fn record_url(version: &str, object: &ObjectDef, id: &str) -> String {
    format!("/services/data/v{version}/sobjects/{}/{id}", object.name)
}

/// Whether `version` (`62.0`) is at least `major`.0.
pub fn version_at_least(version: &str, major: u32) -> bool {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m >= major)
}

/// `MALFORMED_ID` for text that is not an id of `object`.
pub fn malformed_id(object: &ObjectDef, raw: &str) -> FieldError {
    FieldError::new(
        "MALFORMED_ID",
        format!("{} ID: id value of incorrect type: {raw}", object.name),
        &["Id"],
    )
}

/// The canonical 18-character id of `object` in `raw` (15 or 18 characters).
pub fn parse_id(object: &ObjectDef, raw: &str) -> Result<String, FieldError> {
    ids::normalize(raw)
        .filter(|id| ids::key_prefix(id) == object.key_prefix)
        .ok_or_else(|| malformed_id(object, raw))
}

/// `INVALID_FIELD` for a field list naming a field the object does not have.
pub fn unknown_field(object: &ObjectDef, name: &str) -> FieldError {
    FieldError::new(
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
            object.name
        ),
        &[name],
    )
}

/// A record as REST returns it: every field, or only those in the comma-separated
/// `fields` list (plus `Id`).
pub fn render(
    object: &ObjectDef,
    record: &Record,
    version: &str,
    fields: Option<&str>,
) -> Result<Value, FieldError> {
    let Some(list) = fields.filter(|f| !f.trim().is_empty()) else {
        return Ok(Value::Object(record.to_json(object, version)));
    };
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        attributes(object, record.id(), version),
    );
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let i = object
            .field_index(name)
            .ok_or_else(|| unknown_field(object, name))?;
        map.insert(object.fields[i].name.clone(), record.values[i].clone());
    }
    map.entry("Id")
        .or_insert_with(|| Value::String(record.id().to_string()));
    Ok(Value::Object(map))
}

/// A DML error as an HTTP error: a write to a deleted record is 404 like a missing one.
fn dml_error(error: FieldError) -> ApiError {
    let status = match error.code.as_str() {
        "NOT_FOUND" | "ENTITY_IS_DELETED" => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError {
        status,
        errors: vec![error],
    }
}

/// The live record `id` of `object`, or the 404 Salesforce answers for it.
fn existing(org: &Org, object: &ObjectDef, id: &str) -> Result<Record, ApiError> {
    match org.store.get(object, id, true) {
        Some(record) if !record.is_deleted() => Ok(record),
        Some(_) => Err(dml_error(FieldError::new(
            "ENTITY_IS_DELETED",
            "entity is deleted",
            &[],
        ))),
        None => Err(ApiError::not_found()),
    }
}

/// Locks `rows` for a one-record write and spends its processing time.
async fn hold(txn: &mut Txn<'_>, rows: Vec<String>) -> Result<(), ApiError> {
    txn.lock(rows)
        .await
        .map_err(|t| ApiError::bad_request(lock_error(&t)))?;
    txn.process(1).await;
    Ok(())
}

/// The 201 answer to a create (and an upsert that created).
fn created(version: &str, object: &ObjectDef, id: &str, upsert: bool) -> Reply {
    let mut body = json!({"id": id, "success": true, "errors": []});
    if upsert && version_at_least(version, 46) {
        body["created"] = json!(true);
    }
    Reply::json(StatusCode::CREATED, body).with_header("Location", record_url(version, object, id))
}

/// 300 Multiple Choices: the urls of the records an external id value matched.
fn multiple_choices(version: &str, object: &ObjectDef, matches: &[String]) -> Reply {
    let urls: Vec<Value> = matches
        .iter()
        .map(|id| Value::String(record_url(version, object, id)))
        .collect();
    Reply::json(StatusCode::MULTIPLE_CHOICES, Value::Array(urls))
}

/// `POST /sobjects/{Type}` (and `POST /sobjects/{Type}/Id`).
pub async fn create(txn: &mut Txn<'_>, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let org = txn.org();
    let object = object(org, type_name)?;
    let body = call.json_object(&object.name)?;
    let changes = org
        .store
        .changes_from_json(object, &body, WriteMode::Insert)?;
    hold(txn, org.store.parents_to_lock(object, &changes, None)).await?;
    let id = txn.insert(object, changes)?;
    Ok(created(&call.version, object, &id, false))
}

/// `GET /sobjects/{Type}/{id}?fields=`.
pub fn retrieve(org: &Org, call: &Call, type_name: &str, raw_id: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    let id = parse_id(object, raw_id)?;
    let record = existing(org, object, &id)?;
    Ok(Reply::ok(render(
        object,
        &record,
        &call.version,
        call.param("fields"),
    )?))
}

/// `PATCH /sobjects/{Type}/{id}` → 204.
pub async fn update(
    txn: &mut Txn<'_>,
    call: &Call,
    type_name: &str,
    raw_id: &str,
) -> Result<Reply, ApiError> {
    let org = txn.org();
    let object = object(org, type_name)?;
    let id = parse_id(object, raw_id)?;
    let body = call.json_object(&object.name)?;
    let changes = org
        .store
        .changes_from_json(object, &body, WriteMode::Update)?;
    let current = existing(org, object, &id)?;
    let mut rows = org.store.parents_to_lock(object, &changes, Some(&current));
    rows.push(id.clone());
    hold(txn, rows).await?;
    txn.update(object, &id, changes).map_err(dml_error)?;
    Ok(Reply::no_content())
}

/// `DELETE /sobjects/{Type}/{id}` → 204.
pub async fn delete(txn: &mut Txn<'_>, type_name: &str, raw_id: &str) -> Result<Reply, ApiError> {
    let object = object(txn.org(), type_name)?;
    let id = parse_id(object, raw_id)?;
    delete_record(txn, object, &id).await?;
    Ok(Reply::no_content())
}

async fn delete_record(txn: &mut Txn<'_>, object: &ObjectDef, id: &str) -> Result<(), ApiError> {
    let org = txn.org();
    let current = existing(org, object, id)?;
    let mut rows = org
        .store
        .parents_to_lock(object, &Vec::new(), Some(&current));
    rows.push(id.to_string());
    hold(txn, rows).await?;
    txn.delete(object, id).map_err(dml_error)
}

/// An external id field named in a path, the value in its canonical form, and the live
/// records holding it.
struct ExternalKey<'o> {
    object: &'o ObjectDef,
    field: &'o FieldDef,
    value: Value,
    matches: Vec<String>,
}

impl<'o> ExternalKey<'o> {
    fn resolve(
        org: &'o Org,
        type_name: &str,
        field_name: &str,
        raw_value: &str,
    ) -> Result<Self, ApiError> {
        let object = object(org, type_name)?;
        let field = object.field(field_name).filter(|f| f.external_id || f.id_lookup).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {field_name}"),
            )
        })?;
        let value = values::from_text(field, raw_value)?;
        let matches = org.store.find_by_field(object, &field.name, &value);
        Ok(ExternalKey {
            object,
            field,
            value,
            matches,
        })
    }

    fn is_id(&self) -> bool {
        self.field.name == "Id"
    }
}

/// `GET /sobjects/{Type}/{ExtField}/{value}`: the record, or 300 when several match.
pub fn retrieve_by_external(
    org: &Org,
    call: &Call,
    type_name: &str,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let key = ExternalKey::resolve(org, type_name, field, value)?;
    match key.matches.as_slice() {
        [] => Err(ApiError::not_found()),
        [id] => retrieve(org, call, type_name, id),
        many => Ok(multiple_choices(&call.version, key.object, many)),
    }
}

/// `PATCH /sobjects/{Type}/{ExtField}/{value}` (`?updateOnly=true` never inserts).
pub async fn upsert(
    txn: &mut Txn<'_>,
    call: &Call,
    type_name: &str,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let org = txn.org();
    let key = ExternalKey::resolve(org, type_name, field, value)?;
    let object = key.object;
    let body = call.json_object(&object.name)?;
    if key.matches.len() > 1 {
        return Ok(multiple_choices(&call.version, object, &key.matches));
    }
    let current = key
        .matches
        .first()
        .and_then(|id| org.store.get(object, id, false));
    let mode = if current.is_some() {
        WriteMode::Update
    } else {
        WriteMode::Insert
    };
    let changes = org.store.changes_from_json(object, &body, mode)?;
    let mut rows = org
        .store
        .parents_to_lock(object, &changes, current.as_ref());
    rows.extend(key.matches.iter().cloned());
    hold(txn, rows).await?;
    // An Id that matches nothing cannot be created under that Id: 404 like updateOnly.
    let update_only = call.flag("updateOnly") || key.is_id();
    match txn.upsert(object, &key.field.name, &key.value, changes, update_only) {
        Ok(Upserted::Created(id)) => Ok(created(&call.version, object, &id, true)),
        Ok(Upserted::Updated(id)) if version_at_least(&call.version, 46) => Ok(Reply::ok(
            json!({"id": id, "success": true, "errors": [], "created": false}),
        )),
        Ok(Upserted::Updated(_)) => Ok(Reply::no_content()),
        Err(UpsertError::Multiple(ids)) => Ok(multiple_choices(&call.version, object, &ids)),
        Err(UpsertError::Invalid(e)) => Err(dml_error(e)),
    }
}

/// `DELETE /sobjects/{Type}/{ExtField}/{value}` → 204, or 300 when several match.
pub async fn delete_by_external(
    txn: &mut Txn<'_>,
    call: &Call,
    type_name: &str,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let key = ExternalKey::resolve(txn.org(), type_name, field, value)?;
    match key.matches.as_slice() {
        [] => Err(ApiError::not_found()),
        [id] => {
            delete_record(txn, key.object, id).await?;
            Ok(Reply::no_content())
        }
        many => Ok(multiple_choices(&call.version, key.object, many)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_answers_change_at_version_46() {
        assert!(version_at_least("46.0", 46));
        assert!(version_at_least("62.0", 46));
        assert!(!version_at_least("45.0", 46));
        assert!(!version_at_least("x", 46));
    }
}
