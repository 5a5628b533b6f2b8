//! `query` and `queryAll` with paging (wire doc 2.4).
//!
//! A query runs once, through the SOQL engine (`crate::soql`); the first page is answered
//! at once and, when rows remain, the result is kept as a cursor whose `nextRecordsUrl`
//! (`/services/data/v{ver}/query/<locator>-<offset>`) serves the following pages. Pages
//! hold 2,000 rows unless `Sforce-Query-Options: batchSize=n` asks for fewer; values
//! outside 200..=2,000 are clamped into it, as Salesforce treats batchSize as a hint.
//! `COUNT()` answers `totalSize` with no records.

use super::call::{Call, Reply};
use super::cursors::Pages;
use crate::error::ApiError;
use crate::soql::{self, Prepared, Row};
use crate::state::Org;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::ops::Range;
use std::sync::Arc;

/// Default (and largest) page.
const MAX_BATCH: usize = 2000;
/// Smallest page a client may ask for.
const MIN_BATCH: usize = 200;

/// The rows of one executed query.
struct Results {
    prepared: Prepared,
    total_size: usize,
    rows: Vec<Row>,
}

impl Pages for Results {
    fn row_count(&self) -> usize {
        self.rows.len()
    }

    fn total_size(&self) -> usize {
        self.total_size
    }

    fn render(&self, range: Range<usize>, version: &str) -> Vec<Value> {
        self.rows[range]
            .iter()
            .map(|row| Value::Object(row.to_json(&self.prepared, version)))
            .collect()
    }
}

/// The page size a call asks for with `Sforce-Query-Options: batchSize=n`.
fn batch_size(call: &Call) -> Option<usize> {
    call.header("sforce-query-options")?
        .split([',', ';'])
        .filter_map(|option| option.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .map(|n| n.clamp(MIN_BATCH, MAX_BATCH))
}

fn invalid_locator() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY_LOCATOR",
        "invalid query locator",
    )
}

/// Runs a table scan (up to a few hundred milliseconds over 200 000 rows) without stalling
/// the other connections this worker thread serves: on the binary's multi-thread runtime the
/// worker hands its other tasks off for the duration; on a single-thread runtime (in-process
/// tests) there is no other worker to hand them to, so it runs inline.
fn off_the_reactor<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// `GET /query?q=` (and `queryAll`, which also returns deleted records).
pub fn run(org: &Org, call: &Call, include_deleted: bool) -> Result<Reply, ApiError> {
    let soql_text = call
        .param("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_QUERY",
                "A query string has to be specified",
            )
        })?;
    let prepared = soql::prepare(org.store.schema(), soql_text)?;
    let result = off_the_reactor(|| soql::execute(&org.store, &prepared, include_deleted))?;
    if prepared.is_count() {
        return Ok(Reply::ok(
            json!({"totalSize": result.total_size, "done": true, "records": []}),
        ));
    }
    let results = Results {
        prepared,
        total_size: result.total_size,
        rows: result.rows,
    };
    Ok(page(
        org,
        call,
        Arc::new(results),
        0,
        batch_size(call).unwrap_or(MAX_BATCH),
        None,
    ))
}

/// `GET /query/<locator>-<offset>`: a later page of an open cursor.
pub fn more(org: &Org, call: &Call, token: &str) -> Result<Reply, ApiError> {
    let (locator, offset) = token.rsplit_once('-').ok_or_else(invalid_locator)?;
    let offset: usize = offset.parse().map_err(|_| invalid_locator())?;
    let cursor = org.cursors.get(locator).ok_or_else(invalid_locator)?;
    if offset > cursor.pages.row_count() {
        return Err(invalid_locator());
    }
    let batch = batch_size(call).unwrap_or(cursor.batch_size);
    Ok(page(org, call, cursor.pages, offset, batch, Some(locator)))
}

/// One page from `offset`; opens a cursor when rows remain, closes it after the last page.
fn page(
    org: &Org,
    call: &Call,
    pages: Arc<dyn Pages>,
    offset: usize,
    batch: usize,
    locator: Option<&str>,
) -> Reply {
    let end = (offset + batch).min(pages.row_count());
    let records = pages.render(offset..end, &call.version);
    let mut body = json!({"totalSize": pages.total_size(), "done": end >= pages.row_count()});
    if end < pages.row_count() {
        let locator = locator
            .map(str::to_string)
            .unwrap_or_else(|| org.cursors.open(pages.clone(), batch));
        body["nextRecordsUrl"] = json!(format!(
            "/services/data/v{}/query/{locator}-{end}",
            call.version
        ));
    } else if let Some(locator) = locator {
        org.cursors.close(locator);
    }
    body["records"] = Value::Array(records);
    Reply::ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::call::Body;
    use axum::http::{HeaderMap, HeaderValue, Method};

    fn with_options(options: &str) -> Call {
        let mut headers = HeaderMap::new();
        headers.insert(
            "sforce-query-options",
            HeaderValue::from_str(options).unwrap(),
        );
        Call::from_target(
            Method::GET,
            "/services/data/v62.0/query?q=x",
            headers,
            Body::Raw(Default::default()),
        )
        .unwrap()
    }

    #[test]
    fn batch_size_is_read_case_insensitively_and_clamped_to_200_through_2000() {
        assert_eq!(batch_size(&with_options("batchSize=500")), Some(500));
        assert_eq!(
            batch_size(&with_options("foo=1, BATCHSIZE = 250")),
            Some(250)
        );
        assert_eq!(batch_size(&with_options("batchSize=1")), Some(MIN_BATCH));
        assert_eq!(
            batch_size(&with_options("batchSize=99999")),
            Some(MAX_BATCH)
        );
        assert_eq!(batch_size(&with_options("batchSize=lots")), None);
    }
}
