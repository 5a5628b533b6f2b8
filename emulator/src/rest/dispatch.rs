//! The REST route table: which handler answers which method on which path below
//! `/services/data/v{version}/`.
//!
//! It is one `match` over the path segments, used both by the HTTP routes (see
//! [`super::router`]) and by Composite and Composite Batch subrequests, so a subrequest is
//! answered exactly as the same request sent on its own. A known path with the wrong
//! method answers 405 `METHOD_NOT_ALLOWED` naming the allowed ones; anything else 404.

use super::call::{Call, Reply};
use super::txn::Txn;
use super::{collections, composite, describe, query, replication, sobjects, tree};
use crate::error::ApiError;
use axum::http::{Method, StatusCode};

/// Answers any REST call, Composite and Composite Batch included.
pub async fn dispatch(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
    match (path.as_slice(), &call.method) {
        (["composite"], &Method::POST) => composite::composite(txn, call).await,
        (["composite", "batch"], &Method::POST) => composite::batch(txn.org(), call).await,
        _ => resource(txn, call).await,
    }
}

/// Answers a call to a single resource (anything but Composite and Composite Batch).
pub async fn resource(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let org = txn.org();
    let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
    match (path.as_slice(), &call.method) {
        (["query"], &Method::GET) => query::run(org, call, false),
        (["queryAll"], &Method::GET) => query::run(org, call, true),
        (["query" | "queryAll", locator], &Method::GET) => query::more(org, call, locator),
        (["sobjects"], &Method::GET) => Ok(describe::global(org, call)),
        (["sobjects", t], &Method::GET) => describe::basic(org, call, t),
        (["sobjects", t], &Method::POST) => sobjects::create(txn, call, t).await,
        (["sobjects", t, "describe"], &Method::GET) => describe::full(org, call, t),
        (["sobjects", t, "updated"], &Method::GET) => replication::updated(org, call, t),
        (["sobjects", t, "deleted"], &Method::GET) => replication::deleted(org, call, t),
        (["sobjects", t, id], &Method::GET) => sobjects::retrieve(org, call, t, id),
        (["sobjects", t, id], &Method::PATCH) => sobjects::update(txn, call, t, id).await,
        (["sobjects", t, id], &Method::DELETE) => sobjects::delete(txn, t, id).await,
        (["sobjects", t, id], &Method::POST) if id.eq_ignore_ascii_case("Id") => {
            sobjects::create(txn, call, t).await
        }
        (["sobjects", t, f, v], &Method::GET) => sobjects::retrieve_by_external(org, call, t, f, v),
        (["sobjects", t, f, v], &Method::PATCH) => sobjects::upsert(txn, call, t, f, v).await,
        (["sobjects", t, f, v], &Method::DELETE) => {
            sobjects::delete_by_external(txn, call, t, f, v).await
        }
        (["composite", "tree", t], &Method::POST) => tree::tree(txn, call, t).await,
        (["composite", "sobjects"], &Method::POST) => collections::create(txn, call).await,
        (["composite", "sobjects"], &Method::PATCH) => collections::update(txn, call).await,
        (["composite", "sobjects"], &Method::DELETE) => collections::delete(txn, call).await,
        (["composite", "sobjects", t], &Method::GET | &Method::POST) => {
            collections::retrieve(org, call, t)
        }
        (["composite", "sobjects", t, f], &Method::PATCH) => {
            collections::upsert(txn, call, t, f).await
        }
        (known, method) => Err(match allowed_methods(known) {
            Some(allowed) => ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
            ),
            None => ApiError::not_found(),
        }),
    }
}

/// The methods a known path accepts (for 405 answers); `None` for unknown paths.
fn allowed_methods(path: &[&str]) -> Option<&'static str> {
    Some(match path {
        ["query" | "queryAll"]
        | ["query" | "queryAll", _]
        | ["sobjects"]
        | ["sobjects", _, "describe" | "updated" | "deleted"] => "HEAD,GET",
        ["sobjects", _] => "HEAD,GET,POST",
        ["sobjects", _, _] | ["sobjects", _, _, _] => "HEAD,GET,PATCH,DELETE",
        ["composite"] | ["composite", "batch"] | ["composite", "tree", _] => "POST",
        ["composite", "sobjects"] => "POST,PATCH,DELETE",
        ["composite", "sobjects", _] => "GET,POST",
        ["composite", "sobjects", _, _] => "PATCH",
        _ => return None,
    })
}
