//! One chunk's job, from creation to mapped results, journaled at every step.
//!
//! Transitions (chunk state → next), each written to the journal before the next step runs:
//!
//! ```text
//! Pending  ─ batches admitted by the limits guard (DailyBulkApiBatches);
//!            POST /jobs/ingest, job id journaled ────────────────► Created
//! Created  ─ PUT batches ────────────────────────────────────────► Uploaded
//! Uploaded ─ PATCH UploadComplete ───────────────────────────────► Closed
//! Closed   ─ poll until JobComplete | Failed | Aborted; map the
//!            three result lists; outcome files synced ───────────► Done
//! Created | Uploaded, job still Open (a failed step, or a resume)
//!          ─ PATCH Aborted ───────────────────────────────────────► Pending   (a fresh job; nothing of the old one ran)
//! Created | Uploaded, job past Open (the close got through)
//!          ─ ─────────────────────────────────────────────────────► Closed    (polled, never re-uploaded)
//! Created | Uploaded, job gone (NOT_FOUND) ──────────────────────► Pending
//! ```
//!
//! Why this is safe after a kill at any instant: rows only run once a job is closed, a closed
//! job is never uploaded again, and an `Open` job is aborted before its chunk gets a new one.
//! So a row is inserted at most once, and a chunk is finished exactly once.
//!
//! Polling backs off from `poll_initial` by ×1.5 up to `poll_max`, brought forward to the
//! job's expected end once its progress gives a rate ([`PollSchedule`]), and never gives up on a
//! live job (jsforce's 30 s poll timeout abandons jobs that are still running); the run's
//! overall deadline is applied outside, by the runner, and leaves the journal resumable.

use std::time::Duration;

use tokio::time::Instant;

use crate::bulk::codes;
use crate::bulk::encode::Shapes;
use crate::bulk::journal::{ChunkCounts, ChunkRecord, ChunkState, Journal};
use crate::bulk::options::{IngestSettings, Operation};
use crate::bulk::plan::RunDir;
use crate::bulk::progress::ProgressTracker;
use crate::bulk::results::{ChunkContext, ChunkResults, ResultKind, RowCallback, RowError};
use crate::bulk::wire::{JobInfo, ResultList, Wire};
use crate::error::{Error, ErrorKind};
use crate::limits::Admission;

/// Rows per Salesforce internal batch, the unit `DailyBulkApiBatches` counts.
const SALESFORCE_BATCH_ROWS: u64 = 10_000;

/// Failed steps of a chunk's job (create/upload/close) before its rows are reported failed.
/// The pipeline has already retried what it safely could; these are the failures it could
/// not replay (a non-idempotent create or upload), each answered with a fresh job.
const CHUNK_ATTEMPTS: u32 = 5;

/// Pause before a chunk's next job after a failed step, times the failures so far.
const CHUNK_RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Poll delays: short first, growing ×1.5 to a cap, forever.
#[derive(Debug, Clone)]
pub struct PollBackoff {
    next: Duration,
    max: Duration,
}

impl PollBackoff {
    /// Starts at `initial`, capped at `max`.
    pub fn new(initial: Duration, max: Duration) -> PollBackoff {
        PollBackoff {
            next: initial.min(max),
            max,
        }
    }
}

impl Iterator for PollBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (self.next + self.next / 2).min(self.max);
        Some(now)
    }
}

/// When to look at an ingest job again: the backoff, brought forward to when the job's own
/// progress says it will be done (never sooner than the first delay). A job is then seen
/// finished about when it finishes, instead of up to one grown backoff step later, and
/// without more polls than the backoff alone would make.
#[derive(Debug, Clone)]
pub struct PollSchedule {
    backoff: PollBackoff,
    floor: Duration,
    rows: u64,
    first: Option<(Instant, u64)>,
}

impl PollSchedule {
    /// For a job of `rows` rows, polled from `initial` up to `max`.
    pub fn new(initial: Duration, max: Duration, rows: u64) -> PollSchedule {
        PollSchedule {
            backoff: PollBackoff::new(initial, max),
            floor: initial.min(max),
            rows,
            first: None,
        }
    }

    /// The pause after a look at `now` that found `processed` rows processed.
    pub fn after(&mut self, processed: u64, now: Instant) -> Duration {
        let backoff = self.next_backoff();
        let (since, base) = *self.first.get_or_insert((now, processed));
        let done = processed.saturating_sub(base);
        let elapsed = now.saturating_duration_since(since);
        if done == 0 || elapsed.is_zero() {
            // Still queued: the rate is measured from the last look without progress, so
            // time spent waiting for the server to start does not make the job look slow.
            self.first = Some((now, processed));
            return backoff;
        }
        let left = self.rows.saturating_sub(processed);
        let eta = elapsed.mul_f64(left as f64 / done as f64);
        eta.clamp(self.floor.min(backoff), backoff)
    }

    /// The pause after a look that failed: the backoff alone.
    pub fn after_failure(&mut self) -> Duration {
        self.next_backoff()
    }

    fn next_backoff(&mut self) -> Duration {
        self.backoff.next().unwrap_or(self.floor)
    }
}

/// What every chunk of a run shares.
pub struct RunContext {
    /// Bulk calls.
    pub wire: Wire,
    /// The journal.
    pub journal: Journal,
    /// Run id.
    pub run_id: String,
    /// Run files.
    pub dir: RunDir,
    /// Target object.
    pub object: String,
    /// Operation.
    pub operation: Operation,
    /// Upsert key.
    pub external_id: Option<String>,
    /// The parent column rows are grouped by.
    pub group_by: Option<String>,
    /// Settings of the run (round 0).
    pub settings: IngestSettings,
    /// Shapes.
    pub shapes: Shapes,
    /// Progress counters and callback.
    pub progress: ProgressTracker,
    /// Per-row outcome callback.
    pub on_row: Option<RowCallback>,
}

/// Errors that stop the whole run (it stays resumable) rather than one chunk.
fn stops_the_run(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Auth | ErrorKind::Limit | ErrorKind::Config | ErrorKind::Backpressure
    )
}

/// Whether a failed step is worth another job for the same chunk.
fn worth_another_job(error: &Error) -> bool {
    error.is_retryable()
        || matches!(
            error.kind(),
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::Lock
        )
}

impl RunContext {
    /// Drives one chunk to `Done`; returns its counts. `allow_lock_retry` sends lock failures
    /// to the next round. An `Err` stops the run (limits, auth): the chunk stays resumable.
    pub async fn drive(
        &self,
        mut chunk: ChunkRecord,
        allow_lock_retry: bool,
    ) -> Result<ChunkCounts, Error> {
        if matches!(chunk.state, ChunkState::Created | ChunkState::Uploaded) {
            self.reconcile(&mut chunk).await?;
        }
        let mut failures = 0;
        let mut admitted = None;
        loop {
            let step = match chunk.state {
                ChunkState::Pending => match self.admit(&chunk, &mut admitted).await {
                    Ok(()) => self.create(&mut chunk).await,
                    Err(e) => Err(e),
                },
                ChunkState::Created => self.upload(&mut chunk).await,
                ChunkState::Uploaded => self.close(&mut chunk).await,
                ChunkState::Closed => {
                    drop(admitted.take());
                    return self.finish(&chunk, allow_lock_retry).await;
                }
                ChunkState::Done => return Ok(chunk.counts),
            };
            let Err(error) = step else { continue };
            if stops_the_run(&error) {
                return Err(error);
            }
            failures += 1;
            tracing::warn!(chunk = chunk.plan.id, %error, "bulk job step failed");
            self.abandon(&mut chunk).await?;
            if chunk.state == ChunkState::Closed {
                continue;
            }
            if failures >= CHUNK_ATTEMPTS || !worth_another_job(&error) {
                return self.fail_chunk(&chunk, &error);
            }
            tokio::time::sleep(CHUNK_RETRY_PAUSE * failures).await;
        }
    }

    /// Admits the chunk's internal batches (one per 10 000 rows) against the org's
    /// `DailyBulkApiBatches` before its job is created, and holds them until the job is
    /// closed; a refusal stops the run before anything is created (resumable).
    async fn admit(
        &self,
        chunk: &ChunkRecord,
        admitted: &mut Option<Admission>,
    ) -> Result<(), Error> {
        if admitted.is_none() {
            let batches = chunk.plan.rows.div_ceil(SALESFORCE_BATCH_ROWS).max(1);
            self.wire.refresh_limits_if_stale().await;
            let client = self.wire.client();
            *admitted = Some(
                client
                    .pipeline
                    .guard()
                    .admit_bulk(client.priority(), batches)
                    .await?,
            );
        }
        Ok(())
    }

    async fn create(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        let info = self
            .wire
            .create_ingest(&self.object, self.operation, self.external_id.as_deref())
            .await?;
        self.journal
            .chunk_job(&self.run_id, chunk.plan.id, &info.id)?;
        chunk.job_id = Some(info.id);
        chunk.state = ChunkState::Created;
        self.save_calls()
    }

    async fn upload(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        let job = chunk.job_id.clone().unwrap_or_default();
        let path = self.dir.chunk_csv(chunk.plan.id);
        let body = tokio::fs::read(&path)
            .await
            .map_err(|e| crate::bulk::plan::io_error("cannot read", &path, e))?;
        self.wire.upload(&job, &self.object, body.into()).await?;
        self.journal
            .chunk_state(&self.run_id, chunk.plan.id, ChunkState::Uploaded, None)?;
        chunk.state = ChunkState::Uploaded;
        self.progress.uploaded(chunk.plan.rows);
        self.save_calls()
    }

    async fn close(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        let job = chunk.job_id.clone().unwrap_or_default();
        let info = self
            .wire
            .set_state("ingest", &job, "UploadComplete")
            .await?;
        self.journal.chunk_state(
            &self.run_id,
            chunk.plan.id,
            ChunkState::Closed,
            Some(&info.state),
        )?;
        chunk.state = ChunkState::Closed;
        self.save_calls()
    }

    /// A chunk found mid-way (a failed step, or a resumed run): ask Salesforce where its job is.
    async fn reconcile(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        let Some(job) = chunk.job_id.clone() else {
            return self.reset(chunk);
        };
        match self.wire.job_info("ingest", &job).await {
            Ok(info) if info.state == "Open" => {
                self.wire.set_state("ingest", &job, "Aborted").await?;
                self.reset(chunk)
            }
            Ok(info) => {
                self.journal.chunk_state(
                    &self.run_id,
                    chunk.plan.id,
                    ChunkState::Closed,
                    Some(&info.state),
                )?;
                chunk.state = ChunkState::Closed;
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::NotFound => self.reset(chunk),
            Err(e) => Err(e),
        }
    }

    /// After a failed step: a job still `Open` is aborted and the chunk starts over; a job
    /// that got past `Open` is kept and polled.
    async fn abandon(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        if chunk.job_id.is_none() {
            return Ok(());
        }
        match self.reconcile(chunk).await {
            Err(e) if stops_the_run(&e) => Err(e),
            Err(e) => {
                tracing::warn!(chunk = chunk.plan.id, error = %e, "could not check an abandoned bulk job");
                self.reset(chunk)
            }
            Ok(()) => Ok(()),
        }
    }

    fn reset(&self, chunk: &mut ChunkRecord) -> Result<(), Error> {
        self.journal.chunk_reset(&self.run_id, chunk.plan.id)?;
        chunk.state = ChunkState::Pending;
        chunk.job_id = None;
        Ok(())
    }

    async fn poll(&self, chunk: &ChunkRecord) -> Result<JobInfo, Error> {
        let job = chunk.job_id.clone().unwrap_or_default();
        let mut schedule = PollSchedule::new(
            self.settings.poll_initial,
            self.settings.poll_max,
            chunk.plan.rows,
        );
        let mut seen = 0;
        loop {
            let info = match self.wire.job_info("ingest", &job).await {
                Ok(info) => info,
                Err(error) if worth_another_job(&error) && !stops_the_run(&error) => {
                    // The job keeps running on the server whatever happened to this GET: a
                    // brownout that outlasts the pipeline's retries only delays the next look.
                    tracing::warn!(chunk = chunk.plan.id, %error, "polling a closed job failed; polling again");
                    tokio::time::sleep(schedule.after_failure()).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            self.progress
                .processing(info.number_records_processed.saturating_sub(seen));
            seen = seen.max(info.number_records_processed);
            if info.is_terminal() {
                self.progress
                    .processing(chunk.plan.rows.saturating_sub(seen));
                return Ok(info);
            }
            if chunk.server_state.as_deref() != Some(info.state.as_str()) {
                self.journal.chunk_state(
                    &self.run_id,
                    chunk.plan.id,
                    ChunkState::Closed,
                    Some(&info.state),
                )?;
            }
            let pause = schedule.after(info.number_records_processed, Instant::now());
            tokio::time::sleep(pause).await;
        }
    }

    async fn finish(
        &self,
        chunk: &ChunkRecord,
        allow_lock_retry: bool,
    ) -> Result<ChunkCounts, Error> {
        let info = self.poll(chunk).await?;
        let job_error = job_error(&info);
        let mut bodies = Vec::with_capacity(3);
        for (list, kind) in [
            (ResultList::Successful, ResultKind::Successful),
            (ResultList::Failed, ResultKind::Failed),
            (ResultList::Unprocessed, ResultKind::Unprocessed),
        ] {
            bodies.push((kind, self.results(chunk, &info.id, list).await?));
        }
        let mut results = ChunkResults::new(self.chunk_context(chunk, allow_lock_retry))?;
        for (kind, body) in &bodies {
            results.add(*kind, body, &job_error)?;
        }
        drop(bodies);
        let counts = results.finish(&missing_error())?;
        self.record_done(chunk, &info.state, counts, info.error_message.as_deref())
    }

    /// Downloads one result list of a finished job, trying again after transient failures
    /// like [`poll`](Self::poll) does: the results stay on the server, and a brownout that
    /// outlasts the pipeline's retries (or its retry budget) only delays the download.
    async fn results(
        &self,
        chunk: &ChunkRecord,
        job: &str,
        list: ResultList,
    ) -> Result<bytes::Bytes, Error> {
        let mut delays = PollBackoff::new(self.settings.poll_initial, self.settings.poll_max);
        loop {
            match self.wire.results(job, list).await {
                Err(error) if worth_another_job(&error) && !stops_the_run(&error) => {
                    tracing::warn!(chunk = chunk.plan.id, %error, "downloading bulk results failed; trying again");
                    tokio::time::sleep(delays.next().unwrap_or(self.settings.poll_max)).await;
                }
                done => return done,
            }
        }
    }

    fn chunk_context(&self, chunk: &ChunkRecord, allow_lock_retry: bool) -> ChunkContext<'_> {
        ChunkContext {
            dir: &self.dir,
            chunk: chunk.plan.id,
            shape: chunk.plan.shape,
            shapes: &self.shapes,
            operation: self.operation,
            external_id: self.external_id.as_deref(),
            allow_lock_retry,
            on_row: self.on_row.as_deref(),
        }
    }

    /// A chunk whose job could not be run: every row fails with the error.
    fn fail_chunk(&self, chunk: &ChunkRecord, error: &Error) -> Result<ChunkCounts, Error> {
        let results = ChunkResults::new(self.chunk_context(chunk, false))?;
        let row_error = RowError {
            code: error.code().to_owned(),
            message: error.message().to_owned(),
            fields: error.fields().to_vec(),
        };
        let counts = results.finish(&row_error)?;
        self.progress.processing(chunk.plan.rows);
        self.record_done(chunk, "NotRun", counts, Some(&error.to_string()))
    }

    fn record_done(
        &self,
        chunk: &ChunkRecord,
        state: &str,
        counts: ChunkCounts,
        error: Option<&str>,
    ) -> Result<ChunkCounts, Error> {
        self.journal
            .chunk_done(&self.run_id, chunk.plan.id, state, counts, error)?;
        self.save_calls()?;
        self.progress.failed(counts.failed);
        Ok(counts)
    }

    /// Persists the requests made since the last save.
    pub fn save_calls(&self) -> Result<(), Error> {
        let delta = self.progress.take_calls(self.wire.calls());
        if delta > 0 {
            self.journal.add_api_calls(&self.run_id, delta)?;
        }
        Ok(())
    }
}

fn job_error(info: &JobInfo) -> RowError {
    let (code, default) = match info.state.as_str() {
        "Aborted" => (
            codes::BULK_JOB_ABORTED,
            "the job was aborted before this row was processed",
        ),
        _ => (
            codes::BULK_JOB_FAILED,
            "the job failed before this row was processed",
        ),
    };
    RowError {
        code: code.to_owned(),
        message: info
            .error_message
            .clone()
            .unwrap_or_else(|| default.to_owned()),
        fields: Vec::new(),
    }
}

fn missing_error() -> RowError {
    RowError {
        code: codes::RESULT_MISSING.into(),
        message: "Salesforce returned no result for this row".into(),
        fields: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_starts_short_and_grows_to_the_cap_forever() {
        let delays: Vec<u128> =
            PollBackoff::new(Duration::from_millis(500), Duration::from_secs(10))
                .take(12)
                .map(|d| d.as_millis())
                .collect();
        assert_eq!(delays[..4], [500, 750, 1125, 1687]);
        assert_eq!(delays[11], 10_000);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(
            PollBackoff::new(Duration::from_secs(1), Duration::from_secs(1)).nth(1000),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn time_spent_queued_does_not_slow_the_estimate() {
        let ms = Duration::from_millis;
        let start = Instant::now();
        let mut schedule = PollSchedule::new(ms(500), Duration::from_secs(10), 100_000);
        for (i, at) in [0, 500, 1250, 2375].into_iter().enumerate() {
            let pause = schedule.after(0, start + ms(at));
            let backoff = [ms(500), ms(750), ms(1125), Duration::from_micros(1_687_500)][i];
            assert_eq!(pause, backoff, "queued: the backoff decides");
        }
        // Processing started after the look at 2.375 s: half done 1.7 s later, so ~1.7 s to
        // go (measured from the queue, the estimate would have said 4 s).
        let pause = schedule.after(50_000, start + ms(4062));
        assert_eq!(pause, ms(1687));
    }

    #[test]
    fn polling_comes_back_when_the_jobs_progress_says_it_ends() {
        let ms = Duration::from_millis;
        let start = Instant::now();
        let mut schedule = PollSchedule::new(ms(500), Duration::from_secs(10), 100_000);
        // First look: no rate yet, the backoff decides.
        assert_eq!(schedule.after(0, start), ms(500));
        // Half done in 2 s: 2 s to go, but the backoff (750 ms) is the cap.
        assert_eq!(schedule.after(50_000, start + ms(2000)), ms(750));
        // 90% done at 9 s: 1 s to go, sooner than the 1125 ms backoff step.
        assert_eq!(schedule.after(90_000, start + ms(9000)), ms(1000));
        let late = schedule.after(99_000, start + ms(9900));
        assert_eq!(late, ms(500), "never sooner than the first delay");
        // A failed look falls back to the backoff.
        assert!(schedule.after_failure() > ms(1000));
    }

    #[test]
    fn a_stalled_job_is_polled_on_the_backoff() {
        let ms = Duration::from_millis;
        let start = Instant::now();
        let mut schedule = PollSchedule::new(ms(500), ms(800), 10);
        let pauses: Vec<Duration> = (0..4)
            .map(|i| schedule.after(0, start + ms(i * 1000)))
            .collect();
        assert_eq!(pauses, [ms(500), ms(750), ms(800), ms(800)]);
    }

    #[test]
    fn failed_and_aborted_jobs_give_their_rows_a_job_level_error() {
        let info = |state: &str, msg: Option<&str>| JobInfo {
            id: "750".into(),
            state: state.into(),
            number_records_processed: 0,
            number_records_failed: 0,
            error_message: msg.map(str::to_owned),
        };
        assert_eq!(
            job_error(&info("Failed", Some("InvalidBatch : boom"))).message,
            "InvalidBatch : boom"
        );
        assert_eq!(job_error(&info("Aborted", None)).code, "BULK_JOB_ABORTED");
    }

    #[test]
    fn limits_and_auth_stop_the_run_while_transient_failures_get_another_job() {
        assert!(stops_the_run(&Error::limit_reserve_reached("reserve")));
        assert!(!stops_the_run(&Error::network("reset")));
        assert!(worth_another_job(&Error::network("reset")));
        assert!(!worth_another_job(&Error::invalid_input("bad column")));
    }
}
