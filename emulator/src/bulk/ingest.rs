//! Bulk API 2.0 ingest resources (wire doc 3.1–3.6): create a job, upload CSV while it is
//! `Open`, close or abort it, read its JobInfo and its three result files.
//!
//! Uploads are streamed and counted against `max_upload_bytes` per job as they arrive, so
//! an oversized upload is refused without first being held whole in memory; accepted
//! uploads are kept as bytes until the job is deleted, because the result files echo the
//! original rows. Choices where Salesforce is not documented (wire doc [UNCERTAIN]):
//! uploading to a job that is not `Open` answers 409 `INVALIDJOBSTATE`; going over the
//! size limit answers 400 `API_ERROR`; result files of a job that has not ended answer 400
//! `INVALIDJOBSTATE`.

use super::csv_io::{Delimiter, Dialect, LineEnding};
use super::job::{Actor, Job, JobKind, JobSpec, JobState};
use super::results::{self, Outcome, ResultKind};
use super::{invalid_state, processor, requested_state, Entry};
use crate::error::ApiError;
use crate::state::{ApiVersion, AppState};
use crate::values;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Largest CSV accepted in the `content` part of a multipart create.
const MULTIPART_CONTENT_MAX: usize = 100_000;

/// An ingest job and its data.
#[derive(Debug)]
pub struct IngestJob {
    pub job: Job,
    pub data: IngestData,
}

/// Uploaded bytes and per-row outcomes of one ingest job.
#[derive(Debug, Default)]
pub struct IngestData {
    uploads: Mutex<Vec<Bytes>>,
    /// Bytes accepted or being received, checked against `max_upload_bytes`.
    reserved: AtomicU64,
    /// One outcome per row in upload order, sized when processing starts.
    pub outcomes: Mutex<Vec<Outcome>>,
    /// Batches not finished yet.
    pub pending: AtomicUsize,
}

impl IngestData {
    /// Every accepted upload (cheap clones of shared bytes).
    pub fn uploads(&self) -> Vec<Bytes> {
        self.uploads.lock().clone()
    }

    pub fn upload(&self, index: usize) -> Option<Bytes> {
        self.uploads.lock().get(index).cloned()
    }

    /// Counts `n` more bytes against `limit`; false (and nothing counted) when over it.
    fn reserve(&self, n: usize, limit: u64) -> bool {
        let n = n as u64;
        self.reserved
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|total| *total <= limit)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.reserved.fetch_sub(n as u64, Ordering::SeqCst);
    }

    /// Keeps an upload if the job is still `Open`; otherwise returns its state.
    fn push(&self, job: &Job, data: Bytes) -> Result<(), JobState> {
        let mut uploads = self.uploads.lock();
        match job.state() {
            JobState::Open => {
                if !data.is_empty() {
                    uploads.push(data);
                }
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// The create request body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    object: Option<String>,
    operation: Option<String>,
    external_id_field_name: Option<String>,
    content_type: Option<String>,
    column_delimiter: Option<String>,
    line_ending: Option<String>,
}

const OPERATIONS: [&str; 5] = ["insert", "update", "upsert", "delete", "hardDelete"];

fn invalid_job(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALIDJOB", message)
}

/// Checks a create request against the schema; the errors name what is wrong.
fn validate(
    state: &AppState,
    request: CreateRequest,
    api_version: String,
) -> Result<JobSpec, ApiError> {
    let object_name = request
        .object
        .filter(|o| !o.is_empty())
        .ok_or_else(|| invalid_job("InvalidJob : Object name is required"))?;
    let object =
        state.store.schema().object(&object_name).ok_or_else(|| {
            invalid_job(format!("InvalidJob : Unable to find object: {object_name}"))
        })?;
    let operation = request.operation.unwrap_or_default();
    if !OPERATIONS.contains(&operation.as_str()) {
        return Err(invalid_job(format!(
            "InvalidJob : Invalid operation: {operation}"
        )));
    }
    let external_id_field = match (operation.as_str(), request.external_id_field_name) {
        ("upsert", None) => {
            let message = format!("InvalidJob : External ID was blank for {}. An External ID must be specified for upsert.", object.name);
            return Err(invalid_job(message));
        }
        ("upsert", Some(name)) => {
            let field = object.field(&name).filter(|f| f.external_id || f.id_lookup).ok_or_else(|| {
                invalid_job(format!("InvalidJob : Field name provided, {name} does not match an External ID, Salesforce Id, or indexed field for {}", object.name))
            })?;
            Some(field.name.clone())
        }
        _ => None,
    };
    if request.content_type.as_deref().is_some_and(|c| c != "CSV") {
        return Err(invalid_job("InvalidJob : contentType must be CSV"));
    }
    let delimiter = Delimiter::parse(request.column_delimiter.as_deref())
        .ok_or_else(|| invalid_job("InvalidJob : Invalid columnDelimiter"))?;
    let line_ending = LineEnding::parse(request.line_ending.as_deref())
        .ok_or_else(|| invalid_job("InvalidJob : Invalid lineEnding"))?;
    Ok(JobSpec {
        id: state.bulk.next_id(),
        kind: JobKind::Ingest,
        operation,
        object: object.name.clone(),
        external_id_field,
        dialect: Dialect {
            delimiter,
            line_ending,
        },
        api_version,
        created_by: state.user_id.clone(),
        created_date: values::now(),
    })
}

/// `POST /jobs/ingest`: JSON job, or multipart job + CSV content (born `UploadComplete`).
pub async fn create(
    State(state): State<AppState>,
    ApiVersion(version): ApiVersion,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (request, content) = match multipart_boundary(&headers) {
        Some(boundary) => multipart_request(&body, &boundary)?,
        None => (
            serde_json::from_slice(&body).map_err(ApiError::json_parse)?,
            None,
        ),
    };
    let spec = validate(&state, request, version)?;
    let job = Arc::new(IngestJob {
        job: Job::new(spec, JobState::Open),
        data: IngestData::default(),
    });
    state.bulk.insert(Entry::Ingest(job.clone()));
    if let Some(content) = content {
        let limit = state.limits.read().max_upload_bytes;
        if !job.data.reserve(content.len(), limit) {
            state.bulk.remove(&job.job.spec.id);
            return Err(too_large(limit));
        }
        job.data.push(&job.job, content).map_err(not_open)?;
        state.stats.count_bulk_upload();
        job.job
            .transition(JobState::UploadComplete, Actor::Client)
            .map_err(|s| invalid_state(format!("Job is {}", s.as_str())))?;
        processor::start(state.clone(), job.clone());
    }
    Ok(Json(job.job.info()))
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "API_ERROR",
        format!("The data uploaded for this job exceeds the maximum of {limit} bytes"),
    )
}

fn not_open(state: JobState) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "INVALIDJOBSTATE",
        format!(
            "Data can only be uploaded to an Open job; this job is {}",
            state.as_str()
        ),
    )
}

/// `PUT /jobs/ingest/{id}/batches`: one CSV upload, streamed and size-checked.
pub async fn upload(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let job = state.bulk.ingest(&id)?;
    if job.job.state() != JobState::Open {
        return Err(not_open(job.job.state()));
    }
    let limit = state.limits.read().max_upload_bytes;
    let mut stream = request.into_body().into_data_stream();
    let mut buffer = BytesMut::new();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            job.data.release(buffer.len());
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "API_ERROR",
                format!("The upload could not be read: {e}"),
            )
        })?;
        if !job.data.reserve(piece.len(), limit) {
            job.data.release(buffer.len());
            return Err(too_large(limit));
        }
        buffer.extend_from_slice(&piece);
    }
    let size = buffer.len();
    job.data.push(&job.job, buffer.freeze()).map_err(|s| {
        job.data.release(size);
        not_open(s)
    })?;
    state.stats.count_bulk_upload();
    Ok(StatusCode::CREATED)
}

/// `PATCH /jobs/ingest/{id}`: `UploadComplete` (starts processing) or `Aborted`.
pub async fn patch(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let job = state.bulk.ingest(&id)?;
    let target = requested_state(&body, &[JobState::UploadComplete, JobState::Aborted])?;
    job.job
        .transition(target, Actor::Client)
        .map_err(|current| {
            invalid_state(format!(
                "Cannot change the state of a job from {} to {}",
                current.as_str(),
                target.as_str()
            ))
        })?;
    if target == JobState::UploadComplete {
        processor::start(state.clone(), job.clone());
    }
    Ok(Json(job.job.info()))
}

/// `GET /jobs/ingest/{id}`.
pub async fn info(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.bulk.ingest(&id)?.job.detailed_info()))
}

async fn results(state: AppState, id: &str, kind: ResultKind) -> Result<Response, ApiError> {
    let job = state.bulk.ingest(id)?;
    let current = job.job.state();
    if !current.is_terminal() {
        return Err(invalid_state(format!(
            "Results are available once the job has ended; this job is {}",
            current.as_str()
        )));
    }
    let body = Body::from_stream(results::stream(job, kind));
    Ok(([(header::CONTENT_TYPE, "text/csv")], body).into_response())
}

/// `GET /jobs/ingest/{id}/successfulResults/`.
pub async fn successful(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    results(state, &id, ResultKind::Successful).await
}

/// `GET /jobs/ingest/{id}/failedResults/`.
pub async fn failed(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    results(state, &id, ResultKind::Failed).await
}

/// `GET /jobs/ingest/{id}/unprocessedrecords/`.
pub async fn unprocessed(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    results(state, &id, ResultKind::Unprocessed).await
}

/// The boundary of a `multipart/form-data` request, if it is one.
fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
}

/// The `job` JSON part and the `content` CSV part of a multipart create.
fn multipart_request(
    body: &[u8],
    boundary: &str,
) -> Result<(CreateRequest, Option<Bytes>), ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALIDJOB",
            format!("InvalidJob : Invalid multipart request: {why}"),
        )
    };
    let delimiter = format!("--{boundary}");
    let mut job = None;
    let mut content = None;
    for part in split_on(body, delimiter.as_bytes()).skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split_at = find(part, b"\r\n\r\n").ok_or_else(|| bad("a part has no headers"))?;
        let (headers, data) = (
            String::from_utf8_lossy(&part[..split_at]).to_ascii_lowercase(),
            &part[split_at + 4..],
        );
        if headers.contains("name=\"job\"") {
            job =
                Some(serde_json::from_slice::<CreateRequest>(data).map_err(ApiError::json_parse)?);
        } else if headers.contains("name=\"content\"") {
            if data.len() > MULTIPART_CONTENT_MAX {
                return Err(bad("the content part is over 100,000 characters"));
            }
            content = Some(Bytes::copy_from_slice(data));
        }
    }
    let job = job.ok_or_else(|| bad("the job part is missing"))?;
    Ok((
        job,
        Some(content.ok_or_else(|| bad("the content part is missing"))?),
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits `data` on every occurrence of `separator`.
fn split_on<'a>(mut data: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match find(data, separator) {
            Some(at) => {
                let piece = &data[..at];
                data = &data[at + separator.len()..];
                Some(piece)
            }
            None => {
                done = true;
                Some(data)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_create_yields_the_job_and_its_content() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"job\"\r\nContent-Type: application/json\r\n\r\n{\"object\":\"Account\",\"operation\":\"insert\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\nContent-Type: text/csv\r\n\r\nName\nAcme\n\r\n--XyZ--\r\n";
        let (job, content) = multipart_request(body, "XyZ").unwrap();
        assert_eq!(job.object.as_deref(), Some("Account"));
        assert_eq!(content.unwrap().as_ref(), b"Name\nAcme\n");
        assert_eq!(
            multipart_request(b"--XyZ--\r\n", "XyZ").unwrap_err().code(),
            "INVALIDJOB"
        );
    }

    #[test]
    fn reservations_stop_at_the_limit_and_can_be_released() {
        let data = IngestData::default();
        assert!(data.reserve(60, 100));
        assert!(!data.reserve(41, 100));
        assert!(data.reserve(40, 100));
        data.release(50);
        assert!(data.reserve(50, 100));
    }
}
