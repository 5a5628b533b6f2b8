//! The five Collections resources: create (`POST`), update (`PATCH`), upsert (`PATCH
//! /{Type}/{ExtField}`), delete (`DELETE ?ids=`) and retrieve (`GET`/`POST /{Type}`).

use super::plan::{
    plan_delete, plan_insert, plan_update, plan_upsert, too_many, Request, MAX_RECORDS,
};
use super::run::{answer, run};
use crate::error::ApiError;
use crate::rest::call::{Call, Reply};
use crate::rest::sobjects::{object, parse_id, render, version_at_least};
use crate::rest::txn::Txn;
use crate::state::Org;
use axum::http::StatusCode;
use serde_json::Value;

/// Most ids one retrieve may name.
const MAX_RETRIEVE_IDS: usize = 2000;

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
