//! The REST data API under `/services/data/v{version}/`: query and queryAll with paging,
//! sObject CRUD and upsert by external id, describe, sObject Collections, Composite,
//! Composite Batch (wire doc sections 2.4–2.9), replication (updated/deleted) and sObject
//! Tree.
//!
//! Authentication, API counting, limits, faults, latency and `Sforce-Limit-Info` are the
//! server middleware's job; these handlers do only the resource logic. Every route goes
//! through one handler that turns the request into a [`Call`] and hands it to the route
//! table in `dispatch.rs`, the same table Composite subrequests use, so a subrequest and
//! the same request sent alone cannot answer differently. Writes run in a transaction
//! (`txn.rs`) that holds parent row locks the way Salesforce does.
//!
//! Files: `call.rs` (Call, Reply), `dispatch.rs` (route table), `txn.rs` (locks,
//! processing time, rollback), `query.rs` + `cursors.rs`, `sobjects.rs`, `describe.rs`,
//! `replication.rs` (updated/deleted), `collections/`, `composite/`, `tree.rs`.
//!
//! To add an endpoint:
//! 1. write its handler in the file of its resource, taking `&Org` (reads) or
//!    `&mut Txn` (writes) and the [`Call`], returning `Result<Reply, ApiError>`;
//! 2. add its `(path segments, method)` arm to `dispatch::resource` and its path to
//!    `allowed_methods` (405 answers);
//! 3. add the axum path pattern to `PATHS` if no existing pattern matches it;
//! 4. test it over HTTP in `tests/rest*.rs` (and, once, as a Composite subrequest).

mod call;
mod collections;
mod composite;
mod cursors;
mod describe;
mod dispatch;
mod query;
mod replication;
mod sobjects;
mod tree;
mod txn;

pub use call::{Body, Call, Reply};
pub use cursors::{Pages, QueryCursors};
pub use dispatch::dispatch;
pub use txn::Txn;

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

/// Every path this module serves (all methods go to one handler; `dispatch` decides).
const PATHS: &[&str] = &[
    "/services/data/{version}/query",
    "/services/data/{version}/query/{locator}",
    "/services/data/{version}/queryAll",
    "/services/data/{version}/queryAll/{locator}",
    "/services/data/{version}/sobjects",
    "/services/data/{version}/sobjects/{object}",
    "/services/data/{version}/sobjects/{object}/{id}",
    "/services/data/{version}/sobjects/{object}/{field}/{value}",
    "/services/data/{version}/composite",
    "/services/data/{version}/composite/batch",
    "/services/data/{version}/composite/tree/{object}",
    "/services/data/{version}/composite/sobjects",
    "/services/data/{version}/composite/sobjects/{object}",
    "/services/data/{version}/composite/sobjects/{object}/{field}",
];

/// Largest request body accepted. Salesforce does not publish one figure for REST; this
/// bound fits the largest well-formed call (a Composite request carrying five full
/// Collections of long text fields) while keeping a hostile upload from exhausting memory.
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// The REST routes, with full paths, for the server to merge.
pub fn router() -> Router<AppState> {
    PATHS
        .iter()
        .fold(Router::new(), |router, path| router.route(path, any(serve)))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// 413 for a body past [`MAX_BODY_BYTES`] (or one that could not be read), as an error list.
fn unreadable_body(rejection: BytesRejection) -> Response {
    let message =
        format!("The request body could not be read (at most {MAX_BODY_BYTES} bytes): {rejection}");
    ApiError::new(rejection.status(), "REQUEST_ENTITY_TOO_LARGE", message).into_response()
}

async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return unreadable_body(rejection),
    };
    let method = if method == Method::HEAD {
        Method::GET
    } else {
        method
    };
    let target = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    let call = match Call::from_target(method, target, headers, Body::Raw(body)) {
        Ok(call) => call,
        Err(error) => return error.into_response(),
    };
    let mut txn = Txn::new(&state.org);
    match dispatch(&mut txn, &call).await {
        Ok(reply) => {
            txn.commit();
            reply.into_response()
        }
        Err(error) => {
            txn.rollback();
            error.into_response()
        }
    }
}
