//! Asynchronous processing of ingest jobs, the way Salesforce does it (wire doc 3.7, 6.4):
//! a job's rows are cut into internal batches of `batch_size` rows; batches of every job
//! share one pool of `parallel_batches` workers; a batch runs its rows in transactions of
//! `chunk_size` rows, each holding the row locks of the records it writes and of their
//! parents (Contact → Account) for its processing time (`row_micros` per row).
//!
//! That is what makes `UNABLE_TO_LOCK_ROW` arise on its own: two batches whose rows share
//! a parent run at once and one waits for the other's lock. A chunk that cannot get its
//! locks within the org's lock wait sends the rest of its batch back to the queue (the
//! job's `retries` goes up); after `batch_retries` re-attempts the chunk's rows fail with
//! `UNABLE_TO_LOCK_ROW` and the batch goes on. Each batch counts once against
//! `DailyBulkApiBatches`; beyond it the job fails and its remaining rows stay unprocessed.
//!
//! Planning (headers, batch boundaries) is in `plan.rs`; what happens to each row is in
//! `rows.rs`; this file schedules batches and runs their chunks under the row locks.

use super::ingest::IngestJob;
use super::job::{Actor, JobState};
use super::plan::{self, Batch, Columns};
use super::results::Outcome;
use super::rows::{self, ChunkWork};
use crate::schema::{ObjectDef, Schema};
use crate::state::AppState;
use crate::values::FieldError;
use csv::ByteRecord;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// errorMessage of a job failed by an injected `bulk-fail` fault.
const INJECTED_FAILURE: &str =
    "InternalServerError : The job could not be completed because of an unexpected error";

/// Everything a batch worker needs.
pub(super) struct Context {
    pub(super) state: AppState,
    pub(super) job: Arc<IngestJob>,
    schema: Arc<Schema>,
    /// Position of the job's object in `schema.objects` (found once, not per row).
    object: usize,
    pub(super) columns: Columns,
    /// The batch at which an injected `bulk-fail` fault fails the job.
    fail_at: Option<usize>,
}

impl Context {
    pub(super) fn object(&self) -> &ObjectDef {
        &self.schema.objects[self.object]
    }
}
/// Starts processing a job that just reached `UploadComplete`.
pub fn start(state: AppState, job: Arc<IngestJob>) {
    tokio::spawn(async move {
        if job
            .job
            .transition(JobState::InProgress, Actor::Processor)
            .is_err()
        {
            return;
        }
        let planned = {
            let (state, job) = (state.clone(), job.clone());
            tokio::task::spawn_blocking(move || plan::plan(&state, &job)).await
        };
        match planned {
            Ok(Ok((columns, batches))) => dispatch(state, job, columns, batches),
            Ok(Err(message)) => job.job.fail(message),
            Err(panic) => job.job.fail(format!("InternalServerError : {panic}")),
        }
    });
}
/// Sizes the outcome table and queues every batch on the shared pool.
fn dispatch(state: AppState, job: Arc<IngestJob>, columns: Columns, batches: Vec<Batch>) {
    let total: usize = batches.iter().map(|b| b.rows).sum();
    job.data.outcomes.lock().resize(total, Outcome::Unprocessed);
    job.data.pending.store(batches.len(), Ordering::SeqCst);
    if batches.is_empty() {
        let _ = job.job.transition(JobState::JobComplete, Actor::Processor);
        return;
    }
    let schema = state.store.schema().clone();
    let object = schema
        .objects
        .iter()
        .position(|o| o.name == job.job.spec.object)
        .expect("validated at job creation");
    let fail_at = state.faults.bulk_job_fails().then_some(batches.len() / 2);
    if fail_at.is_some() {
        state.stats.count_fault("bulk-fail");
    }
    let context = Arc::new(Context {
        state,
        job,
        schema,
        object,
        columns,
        fail_at,
    });
    for batch in batches {
        tokio::spawn(run_batch(context.clone(), batch));
    }
}

/// Runs one batch to its end, going back to the queue after lock timeouts.
async fn run_batch(context: Arc<Context>, mut batch: Batch) {
    let pool = context
        .state
        .bulk
        .pool(context.state.config.bulk.parallel_batches);
    loop {
        let Ok(_permit) = pool.clone().acquire_owned().await else {
            break;
        };
        if !process(&context, &mut batch).await {
            break;
        }
    }
    let job = &context.job;
    if job.data.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
        let _ = job.job.transition(JobState::JobComplete, Actor::Processor);
    }
}

/// Processes what is left of a batch; true when it must be retried later.
async fn process(context: &Context, batch: &mut Batch) -> bool {
    let job = &context.job.job;
    if !job.is_running() {
        return false;
    }
    if context.fail_at == Some(batch.index) {
        job.fail(INJECTED_FAILURE);
        return false;
    }
    if !batch.counted {
        if !context
            .state
            .bulk
            .count_batch(&context.state, batch.rows as u64)
        {
            job.fail("ExceededQuota : The daily limit of Bulk API batches (DailyBulkApiBatches) is exhausted");
            return false;
        }
        batch.counted = true;
    }
    let started = Instant::now();
    let retry = process_chunks(context, batch).await;
    job.processing_ms
        .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    if retry {
        job.retries.fetch_add(1, Ordering::Relaxed);
        batch.attempt += 1;
    }
    retry
}

/// Runs the batch's remaining chunks; true when a chunk met a lock timeout and must retry.
async fn process_chunks(context: &Context, batch: &mut Batch) -> bool {
    let config = &context.state.config.bulk;
    let data = context
        .job
        .data
        .upload(batch.upload)
        .expect("batches come from uploads");
    let dialect = context.job.job.spec.dialect;
    let mut reader = dialect.reader(&data[batch.start..batch.end]);
    let mut record = ByteRecord::new();
    for _ in 0..batch.done {
        let _ = reader.read_byte_record(&mut record);
    }
    let last_attempt = batch.attempt >= config.batch_retries;
    while batch.done < batch.rows && context.job.job.is_running() {
        let size = config.chunk_size.max(1).min(batch.rows - batch.done);
        let first = batch.first_row + batch.done;
        let work = rows::read_chunk(context, &mut reader, &mut record, first, size);
        if !apply_chunk(context, work, last_attempt).await {
            return true;
        }
        batch.done += size;
        tokio::task::yield_now().await;
    }
    false
}
/// Locks, writes and records one chunk; false when the locks timed out and the batch
/// should be retried.
async fn apply_chunk(context: &Context, work: ChunkWork, last_attempt: bool) -> bool {
    let ChunkWork { ready, mut done } = work;
    let mut rows: Vec<String> = ready
        .iter()
        .flat_map(|r| r.parents.iter().cloned())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let count = ready.len() + done.len();
    let guard = if rows.is_empty() {
        None
    } else {
        match context
            .state
            .locks
            .acquire(rows, context.state.lock_wait())
            .await
        {
            Ok(guard) => Some(guard),
            Err(_) if !last_attempt => return false,
            Err(timeout) => {
                let error = FieldError::new("UNABLE_TO_LOCK_ROW", timeout.message(), &[]);
                done.extend(
                    ready
                        .iter()
                        .map(|r| (r.row, Outcome::failed(r.action.known_id(), &error))),
                );
                record(context, done);
                return true;
            }
        }
    };
    done.extend(
        ready
            .into_iter()
            .map(|r| (r.row, rows::apply(context, r.action))),
    );
    let micros = context.state.config.bulk.row_micros;
    if micros > 0 {
        tokio::time::sleep(Duration::from_micros(micros.saturating_mul(count as u64))).await;
    }
    drop(guard);
    record(context, done);
    true
}
/// Stores a chunk's outcomes and counts them.
fn record(context: &Context, outcomes: Vec<(usize, Outcome)>) {
    let job = &context.job;
    let mut codes: Vec<(&str, u64)> = Vec::new();
    let mut failed = 0;
    for (_, outcome) in &outcomes {
        if let Outcome::Failed { error, .. } = outcome {
            failed += 1;
            let code = error.split(':').next().unwrap_or_default();
            match codes.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => codes.push((code, 1)),
            }
        }
    }
    for (code, n) in codes {
        context.state.stats.count_errors(code, n);
    }
    job.job
        .processed
        .fetch_add(outcomes.len() as u64, Ordering::Relaxed);
    job.job.failed.fetch_add(failed, Ordering::Relaxed);
    let mut table = job.data.outcomes.lock();
    for (row, outcome) in outcomes {
        if let Some(slot) = table.get_mut(row) {
            *slot = outcome;
        }
    }
}
