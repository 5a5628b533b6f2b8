//! Bulk API 2.0: ingest and query jobs as asynchronous state machines (wire doc 3, 4).
//!
//! This file holds the org's job table ([`BulkJobs`]), the routes, and what ingest and
//! query share (delete, list, state requests, paging locators). The state machine is in
//! `job.rs`; ingest resources in `ingest.rs`; batch planning in `plan.rs`, batch
//! processing in `processor.rs` and row writes in `rows.rs`; result files in `results.rs`;
//! query jobs in `query.rs`; the CSV dialect in `csv_io.rs`.
//!
//! Handlers only do resource logic: authentication, API-call counting, the daily limit,
//! faults and latency are applied by the server's middleware on every data path.

mod csv_io;
mod ingest;
mod job;
mod plan;
mod processor;
mod query;
mod results;
mod rows;

use crate::error::ApiError;
use crate::ids;
use crate::state::{ApiVersion, AppState, POD};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use ingest::IngestJob;
use job::{JobKind, JobState};
use parking_lot::{Mutex, RwLock};
use query::QueryJob;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Jobs listed per page of `GET /jobs/{kind}`.
const LIST_PAGE: usize = 1_000;

/// A job in the table.
#[derive(Clone)]
enum Entry {
    Ingest(Arc<IngestJob>),
    Query(Arc<QueryJob>),
}

impl Entry {
    fn job(&self) -> &job::Job {
        match self {
            Entry::Ingest(j) => &j.job,
            Entry::Query(j) => &j.job,
        }
    }
}

/// Bulk ingest and query jobs of one org, and the worker pool their batches share.
pub struct BulkJobs {
    /// Keyed by 18-character id; ids are minted in order, so this is creation order.
    jobs: RwLock<BTreeMap<String, Entry>>,
    sequence: AtomicU64,
    /// At most `parallel_batches` batches run at once, across all jobs.
    pool: OnceLock<Arc<Semaphore>>,
    /// Makes "check the daily batch allocation, then count one" atomic.
    batch_gate: Mutex<()>,
}

impl Default for BulkJobs {
    fn default() -> Self {
        BulkJobs {
            jobs: RwLock::new(BTreeMap::new()),
            sequence: AtomicU64::new(0),
            pool: OnceLock::new(),
            batch_gate: Mutex::new(()),
        }
    }
}

impl BulkJobs {
    /// Number of jobs per state name, for `GET /__emulator/stats`.
    pub fn counts_by_state(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for entry in self.jobs.read().values() {
            *counts
                .entry(entry.job().state().as_str().to_string())
                .or_default() += 1;
        }
        counts
    }

    /// Forgets every job (`POST /__emulator/reset`); running batches stop at their next chunk.
    pub fn clear(&self) {
        let jobs = std::mem::take(&mut *self.jobs.write());
        for entry in jobs.values() {
            entry.job().mark_deleted();
        }
    }

    /// Waits until job `id` has ended (`JobComplete`, `Failed`, `Aborted`) and returns its
    /// state name; `None` for an unknown job. For tests and tools that drive the emulator
    /// in-process and would otherwise poll.
    pub async fn wait_ended(&self, id: &str) -> Option<&'static str> {
        let entry = self.jobs.read().get(&ids::normalize(id)?).cloned()?;
        Some(entry.job().ended().await.as_str())
    }

    fn next_id(&self) -> String {
        ids::mint(
            "750",
            POD,
            self.sequence.fetch_add(1, Ordering::Relaxed) + 1,
        )
    }

    fn insert(&self, entry: Entry) {
        self.jobs.write().insert(entry.job().spec.id.clone(), entry);
    }

    fn remove(&self, id: &str) -> Option<Entry> {
        let entry = self.jobs.write().remove(id)?;
        entry.job().mark_deleted();
        Some(entry)
    }

    /// The job `id` (15 or 18 characters) of `kind`, or 404 `NOT_FOUND`.
    fn find(&self, id: &str, kind: JobKind) -> Result<Entry, ApiError> {
        let id = ids::normalize(id).ok_or_else(ApiError::not_found)?;
        self.jobs
            .read()
            .get(&id)
            .filter(|e| e.job().spec.kind == kind)
            .cloned()
            .ok_or_else(ApiError::not_found)
    }

    fn ingest(&self, id: &str) -> Result<Arc<IngestJob>, ApiError> {
        match self.find(id, JobKind::Ingest)? {
            Entry::Ingest(job) => Ok(job),
            Entry::Query(_) => Err(ApiError::not_found()),
        }
    }

    fn query(&self, id: &str) -> Result<Arc<QueryJob>, ApiError> {
        match self.find(id, JobKind::Query)? {
            Entry::Query(job) => Ok(job),
            Entry::Ingest(_) => Err(ApiError::not_found()),
        }
    }

    /// The shared batch pool (sized by the first use).
    fn pool(&self, size: usize) -> Arc<Semaphore> {
        self.pool
            .get_or_init(|| Arc::new(Semaphore::new(size.max(1))))
            .clone()
    }

    /// Counts one query job against `DailyBulkV2QueryJobs`; false when none are left.
    fn count_query_job(&self, state: &AppState) -> bool {
        let _gate = self.batch_gate.lock();
        if state.stats.bulk_query_jobs() >= state.limits.read().daily_bulk_query_jobs {
            return false;
        }
        state.stats.count_bulk_query_job();
        true
    }

    /// Counts one batch of `rows` against `DailyBulkApiBatches`; false when none are left.
    fn count_batch(&self, state: &AppState, rows: u64) -> bool {
        let _gate = self.batch_gate.lock();
        if state.stats.bulk_batches() >= state.limits.read().daily_bulk_batches {
            return false;
        }
        state.stats.count_bulk_batch(rows);
        true
    }
}

/// 400 `INVALIDJOBSTATE`.
fn invalid_state(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALIDJOBSTATE", message)
}

/// The `{"state": ...}` of a PATCH body, if it is one of `allowed`.
fn requested_state(body: &[u8], allowed: &[JobState]) -> Result<JobState, ApiError> {
    let request: Value = serde_json::from_slice(body).map_err(ApiError::json_parse)?;
    let name = request
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or_default();
    JobState::parse(name)
        .filter(|s| allowed.contains(s))
        .ok_or_else(|| invalid_state(format!("Invalid job state requested: '{name}'")))
}

/// An opaque, stable paging token for an offset (base64 of its digits, like Salesforce's).
fn encode_locator(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(offset.to_string())
}

fn decode_locator(locator: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(locator.trim_end_matches('='))
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

async fn delete_job(state: &AppState, id: &str, kind: JobKind) -> Result<StatusCode, ApiError> {
    let entry = state.bulk.find(id, kind)?;
    let current = entry.job().state();
    if matches!(current, JobState::Open | JobState::InProgress) {
        return Err(invalid_state(format!(
            "A job cannot be deleted while it is {}",
            current.as_str()
        )));
    }
    state.bulk.remove(&entry.job().spec.id);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /jobs/{kind}`: pages of 1,000 jobs, oldest first, `queryLocator` to continue.
async fn list_jobs(
    state: &AppState,
    version: &str,
    kind: JobKind,
    params: &HashMap<String, String>,
) -> Result<Json<Value>, ApiError> {
    let start = match params.get("queryLocator") {
        Some(locator) => decode_locator(locator).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY_LOCATOR",
                "invalid query locator",
            )
        })?,
        None => 0,
    };
    let wanted_type = params.get("jobType").map(String::as_str);
    let jobs = state.bulk.jobs.read();
    let matching: Vec<&Entry> = jobs
        .values()
        .filter(|e| e.job().spec.kind == kind && wanted_type.is_none_or(|t| t == kind.job_type()))
        .filter(|_| {
            params
                .get("concurrencyMode")
                .is_none_or(|m| m == "Parallel")
        })
        .collect();
    let records: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(LIST_PAGE)
        .map(|e| e.job().detailed_info())
        .collect();
    let next = start + records.len();
    let done = next >= matching.len();
    let next_url = (!done).then(|| {
        format!(
            "/services/data/v{version}/jobs/{}?queryLocator={}",
            kind.segment(),
            encode_locator(next)
        )
    });
    Ok(Json(
        json!({"done": done, "records": records, "nextRecordsUrl": next_url}),
    ))
}

async fn list_ingest(
    State(state): State<AppState>,
    ApiVersion(version): ApiVersion,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    list_jobs(&state, &version, JobKind::Ingest, &params).await
}

async fn list_query(
    State(state): State<AppState>,
    ApiVersion(version): ApiVersion,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    list_jobs(&state, &version, JobKind::Query, &params).await
}

async fn delete_query(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete_job(&state, &id, JobKind::Query).await
}

async fn delete_ingest(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete_job(&state, &id, JobKind::Ingest).await
}

/// The Bulk API 2.0 routes (full paths).
pub fn router() -> Router<AppState> {
    const INGEST: &str = "/services/data/{version}/jobs/ingest";
    const QUERY: &str = "/services/data/{version}/jobs/query";
    let mut router = Router::new()
        .route(INGEST, get(list_ingest).post(ingest::create))
        .route(
            &format!("{INGEST}/{{id}}"),
            get(ingest::info).patch(ingest::patch).delete(delete_ingest),
        )
        .route(&format!("{INGEST}/{{id}}/batches"), put(ingest::upload))
        .route(QUERY, get(list_query).post(query::create))
        .route(
            &format!("{QUERY}/{{id}}"),
            get(query::info).patch(query::patch).delete(delete_query),
        )
        .route(&format!("{QUERY}/{{id}}/results"), get(query::results));
    let files = [
        ("successfulResults", get(ingest::successful)),
        ("failedResults", get(ingest::failed)),
        ("unprocessedrecords", get(ingest::unprocessed)),
        // simple-salesforce spells it with a capital R; Salesforce answers both.
        ("unprocessedRecords", get(ingest::unprocessed)),
    ];
    for (name, handler) in files {
        router = router.route(&format!("{INGEST}/{{id}}/{name}"), handler);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_round_trip_and_reject_garbage() {
        assert_eq!(encode_locator(10_000), "MTAwMDA");
        for offset in [0, 1, 2_000, 123_456_789] {
            assert_eq!(decode_locator(&encode_locator(offset)), Some(offset));
        }
        assert_eq!(decode_locator("not a locator!"), None);
        assert_eq!(decode_locator("YWJj"), None);
    }

    #[test]
    fn patch_bodies_may_only_ask_for_allowed_states() {
        let allowed = [JobState::UploadComplete, JobState::Aborted];
        assert_eq!(
            requested_state(br#"{"state":"Aborted"}"#, &allowed).unwrap(),
            JobState::Aborted
        );
        assert_eq!(
            requested_state(br#"{"state":"JobComplete"}"#, &allowed)
                .unwrap_err()
                .code(),
            "INVALIDJOBSTATE"
        );
        assert_eq!(
            requested_state(b"{", &allowed).unwrap_err().code(),
            "JSON_PARSER_ERROR"
        );
    }
}
