//! Bulk API 2.0 query jobs (wire doc 4): create (the SOQL is checked at once, as
//! Salesforce rejects invalid SOQL with 400), run asynchronously, and page the results as
//! CSV by `Sforce-Locator` / `maxRecords`.
//!
//! A finished job keeps its result [`Row`]s (compact: only the selected values) and renders
//! each page when it is asked for, in pieces, so a large extract is never one string.
//! Locators are base64 of the row offset: opaque to clients, stable, and re-readable while
//! the job exists. Choices where Salesforce is not documented: results of a job that has
//! not completed answer 400 `INVALIDJOBSTATE`; a different API version than the creating
//! one answers 409 `API_VERSION_MISMATCH`; going over `DailyBulkV2QueryJobs` answers 403
//! `REQUEST_LIMIT_EXCEEDED` (`DailyBulkV2QueryJobs Limit exceeded.`).

use super::csv_io::{end_record, finish, Delimiter, Dialect, LineEnding};
use super::job::{Actor, Job, JobKind, JobSpec, JobState};
use super::{decode_locator, encode_locator, invalid_state, requested_state, Entry};
use crate::error::ApiError;
use crate::soql::{self, Prepared, Row};
use crate::state::{ApiVersion, AppState};
use crate::values;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Rows rendered per streamed piece of a results page.
const ROWS_PER_PIECE: usize = 2_000;

/// A query job, its compiled SOQL and (once complete) its rows.
pub struct QueryJob {
    pub job: Job,
    prepared: Prepared,
    rows: OnceLock<Vec<Row>>,
}

/// The create request body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    operation: Option<String>,
    query: Option<String>,
    content_type: Option<String>,
    column_delimiter: Option<String>,
    line_ending: Option<String>,
}

fn invalid_job(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALIDJOB", message)
}

/// `POST /jobs/query`.
pub async fn create(
    State(state): State<AppState>,
    ApiVersion(version): ApiVersion,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: CreateRequest = serde_json::from_slice(&body).map_err(ApiError::json_parse)?;
    let operation = request.operation.unwrap_or_default();
    if operation != "query" && operation != "queryAll" {
        return Err(invalid_job(format!(
            "InvalidJob : Invalid operation: {operation}"
        )));
    }
    let soql_text = request
        .query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| invalid_job("InvalidJob : A query is required"))?;
    let prepared =
        soql::prepare(state.store.schema(), &soql_text).map_err(ApiError::bad_request)?;
    soql::check_bulk_supported(&prepared).map_err(ApiError::bad_request)?;
    if request.content_type.as_deref().is_some_and(|c| c != "CSV") {
        return Err(invalid_job("InvalidJob : contentType must be CSV"));
    }
    let delimiter = Delimiter::parse(request.column_delimiter.as_deref())
        .ok_or_else(|| invalid_job("InvalidJob : Invalid columnDelimiter"))?;
    let line_ending = LineEnding::parse(request.line_ending.as_deref())
        .ok_or_else(|| invalid_job("InvalidJob : Invalid lineEnding"))?;
    if !state.bulk.count_query_job(&state) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "DailyBulkV2QueryJobs Limit exceeded.",
        ));
    }
    let spec = JobSpec {
        id: state.bulk.next_id(),
        kind: JobKind::Query,
        object: prepared.object_name().to_string(),
        operation,
        external_id_field: None,
        dialect: Dialect {
            delimiter,
            line_ending,
        },
        api_version: version,
        created_by: state.user_id.clone(),
        created_date: values::now(),
    };
    let job = Arc::new(QueryJob {
        job: Job::new(spec, JobState::UploadComplete),
        prepared,
        rows: OnceLock::new(),
    });
    state.bulk.insert(Entry::Query(job.clone()));
    tokio::spawn(run(state, job.clone()));
    Ok(Json(job.job.info()))
}

/// Runs the query off the async workers and completes (or fails) the job.
async fn run(state: AppState, job: Arc<QueryJob>) {
    if job
        .job
        .transition(JobState::InProgress, Actor::Processor)
        .is_err()
    {
        return;
    }
    let started = Instant::now();
    let include_deleted = job.job.spec.operation == "queryAll";
    let result = {
        let job = job.clone();
        tokio::task::spawn_blocking(move || {
            soql::execute(&state.store, &job.prepared, include_deleted)
        })
        .await
    };
    job.job
        .processing_ms
        .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    match result {
        Ok(Ok(result)) => {
            job.job
                .processed
                .store(result.rows.len() as u64, Ordering::Relaxed);
            let _ = job.rows.set(result.rows);
            let _ = job.job.transition(JobState::JobComplete, Actor::Processor);
        }
        Ok(Err(error)) => job.job.fail(format!("{} : {}", error.code, error.message)),
        Err(panic) => job.job.fail(format!("InternalServerError : {panic}")),
    }
}

/// `GET /jobs/query/{id}`.
pub async fn info(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.bulk.query(&id)?.job.detailed_info()))
}

/// `PATCH /jobs/query/{id}`: only `Aborted`.
pub async fn patch(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let job = state.bulk.query(&id)?;
    let target = requested_state(&body, &[JobState::Aborted])?;
    job.job
        .transition(target, Actor::Client)
        .map_err(|current| {
            invalid_state(format!(
                "Cannot change the state of a job from {} to {}",
                current.as_str(),
                target.as_str()
            ))
        })?;
    Ok(Json(job.job.info()))
}

/// A page request's bounds.
fn page_bounds(
    params: &HashMap<String, String>,
    default_size: usize,
    total: usize,
) -> Result<(usize, usize), ApiError> {
    let start = match params.get("locator").map(String::as_str) {
        None | Some("") => 0,
        Some(locator) => decode_locator(locator)
            .filter(|&offset| offset <= total)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_QUERY_LOCATOR",
                    format!("invalid query locator: {locator}"),
                )
            })?,
    };
    let size = match params.get("maxRecords") {
        None => default_size.max(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_PARAMETER_VALUE",
                    format!("maxRecords must be a positive integer, not '{text}'"),
                )
            })?,
    };
    Ok((start, (start.saturating_add(size)).min(total)))
}

/// `GET /jobs/query/{id}/results?locator=&maxRecords=`.
pub async fn results(
    State(state): State<AppState>,
    ApiVersion(version): ApiVersion,
    Path((_, id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let job = state.bulk.query(&id)?;
    if version != job.job.spec.api_version {
        let message = format!(
            "This job was created with API version {}; read its results with the same version",
            job.job.spec.api_version
        );
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "API_VERSION_MISMATCH",
            message,
        ));
    }
    let (current, rows) = (job.job.state(), job.rows.get());
    let Some(rows) = rows.filter(|_| current == JobState::JobComplete) else {
        return Err(invalid_state(format!(
            "Results are available once the job is JobComplete; this job is {}",
            current.as_str()
        )));
    };
    let (start, end) = page_bounds(&params, state.config.bulk.query_page_size, rows.len())?;
    let locator = if end < rows.len() {
        encode_locator(end)
    } else {
        "null".to_string()
    };
    let headers = [
        (header::CONTENT_TYPE, "text/csv".to_string()),
        (
            header::HeaderName::from_static("sforce-numberofrecords"),
            (end - start).to_string(),
        ),
        (header::HeaderName::from_static("sforce-locator"), locator),
    ];
    Ok((headers, Body::from_stream(page_stream(job, start, end))).into_response())
}

/// Rows `start..end` as CSV pieces, the header row first.
fn page_stream(
    job: Arc<QueryJob>,
    start: usize,
    end: usize,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let header = {
        let mut writer = job.job.spec.dialect.quoted_writer();
        writer
            .write_record(job.prepared.columns())
            .expect("writing to memory");
        Bytes::from(finish(writer))
    };
    let pieces = futures::stream::unfold((job, start), move |(job, at)| async move {
        if at >= end {
            return None;
        }
        let until = (at + ROWS_PER_PIECE).min(end);
        let piece = render_rows(&job, at, until);
        Some((Ok(piece), (job, until)))
    });
    futures::StreamExt::fuse(futures::StreamExt::chain(
        futures::stream::iter([Ok(header)]),
        pieces,
    ))
}

fn render_rows(job: &QueryJob, start: usize, end: usize) -> Bytes {
    let rows = job.rows.get().map(Vec::as_slice).unwrap_or_default();
    let mut writer = job.job.spec.dialect.quoted_writer();
    for row in &rows[start.min(rows.len())..end.min(rows.len())] {
        for cell in row.csv_cells(&job.prepared) {
            writer.write_field(cell).expect("writing to memory");
        }
        end_record(&mut writer);
    }
    Bytes::from(finish(writer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pages_follow_locators_and_max_records() {
        assert_eq!(page_bounds(&params(&[]), 50_000, 120).unwrap(), (0, 120));
        assert_eq!(
            page_bounds(&params(&[("maxRecords", "50")]), 50_000, 120).unwrap(),
            (0, 50)
        );
        let next = encode_locator(100);
        assert_eq!(
            page_bounds(
                &params(&[("locator", &next), ("maxRecords", "50")]),
                50_000,
                120
            )
            .unwrap(),
            (100, 120)
        );
        assert_eq!(
            page_bounds(&params(&[("maxRecords", "0")]), 10, 5)
                .unwrap_err()
                .code(),
            "INVALID_PARAMETER_VALUE"
        );
        assert_eq!(
            page_bounds(&params(&[("locator", "zz!")]), 10, 5)
                .unwrap_err()
                .code(),
            "INVALID_QUERY_LOCATOR"
        );
        assert_eq!(
            page_bounds(&params(&[("locator", &encode_locator(6))]), 10, 5)
                .unwrap_err()
                .code(),
            "INVALID_QUERY_LOCATOR"
        );
    }
}
