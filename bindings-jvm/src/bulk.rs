//! `NativeBulk`: Bulk API 2.0 ingest (rows or a CSV file), resume, `write` (auto) and query.
//!
//! Rows are pulled, never collected: the Kotlin layer implements [`RowSource`] over the
//! caller's `Iterable`/`Stream`, and a core task asks it for a JSON array of rows at a time
//! (on the blocking pool, since it calls into the JVM), so a stream of a million maps is never
//! in memory. When the caller's iterator throws, the source says so ([`RowBatch::failed`]),
//! the run stops with the core's `INVALID_INPUT` error naming the row, and the Kotlin layer
//! rethrows the caller's own exception. Every other decision (planning, grouping, journal,
//! lock retries) is the core's.

use std::sync::Arc;

use futures::stream::{self, StreamExt as _};
use sfscale::bulk::{Bulk as CoreBulk, IngestBuilder, IngestInput, Operation};
use sfscale::rest::Record;
use sfscale::Error;

use crate::client::{millis, natural};
use crate::errors::FfiError;
use crate::json;
use crate::listen::{Dispatcher, JsonListener};
use crate::records::NativeRecords;
use crate::task::{blocking, on_core};

/// One pull from the caller's rows.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RowBatch {
    /// Rows as a JSON array of objects; empty at the end.
    pub rows_json: String,
    /// No rows follow.
    pub done: bool,
    /// The caller's iterator threw (the Kotlin layer keeps the exception).
    pub failed: bool,
}

/// The caller's rows, implemented by the Kotlin layer.
#[uniffi::export(with_foreign)]
pub trait RowSource: Send + Sync {
    /// The next rows.
    fn next_batch(&self) -> RowBatch;
}

/// An ingest run's knobs; `None` keeps the core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct IngestOptions {
    /// External id field (upsert).
    pub external_id: Option<String>,
    /// Parent column to group rows by (lock-aware chunking).
    pub group_by: Option<String>,
    /// No grouping at all.
    pub no_grouping: bool,
    /// A run id of the caller's choosing (for resume).
    pub run_id: Option<String>,
    /// Jobs in flight at once.
    pub max_parallel_jobs: Option<i64>,
    /// Rows per job.
    pub max_rows_per_job: Option<i64>,
    /// Upload bytes per job.
    pub max_upload_bytes: Option<i64>,
    /// Lock-retry rounds.
    pub lock_retry_rounds: Option<i32>,
    /// Poll interval: first wait, milliseconds (with the max).
    pub poll_initial_ms: Option<i64>,
    /// Poll interval: longest wait, milliseconds.
    pub poll_max_ms: Option<i64>,
    /// Stop waiting after this long (resume later), milliseconds.
    pub deadline_ms: Option<i64>,
}

fn configure(mut b: IngestBuilder, o: IngestOptions) -> Result<IngestBuilder, FfiError> {
    if let Some(field) = &o.external_id {
        b = b.external_id(field);
    }
    if o.no_grouping {
        b = b.no_grouping();
    } else if let Some(column) = &o.group_by {
        b = b.group_by(column);
    }
    if let Some(id) = &o.run_id {
        b = b.run_id(id);
    }
    if let Some(n) = o.max_parallel_jobs {
        b = b.max_parallel_jobs(natural("max_parallel_jobs", n)?);
    }
    if let Some(n) = o.max_rows_per_job {
        b = b.max_rows_per_job(natural("max_rows_per_job", n)?);
    }
    if let Some(n) = o.max_upload_bytes {
        b = b.max_upload_bytes(natural("max_upload_bytes", n)?);
    }
    if let Some(n) = o.lock_retry_rounds {
        b = b.lock_retry_rounds(natural("lock_retry_rounds", n.into())?);
    }
    if let (Some(first), Some(max)) = (o.poll_initial_ms, o.poll_max_ms) {
        b = b.poll_interval(
            millis("poll_interval", first)?,
            millis("poll_interval", max)?,
        );
    }
    if let Some(ms) = o.deadline_ms {
        b = b.deadline(millis("deadline", ms)?);
    }
    Ok(b)
}

/// The caller's rows as the core's record stream.
fn rows(source: Arc<dyn RowSource>) -> IngestInput {
    let pulls = stream::unfold((Some(source), 0u64), |(source, read)| async move {
        let source = source?;
        let pulled = Arc::clone(&source);
        let batch = match blocking(move || pulled.next_batch()).await {
            Ok(batch) => batch,
            Err(error) => return Some((stream::iter(vec![Err(error)]), (None, read))),
        };
        if batch.failed {
            let error = Error::invalid_input(format!("the records input failed at row {read}"))
                .with_row(read);
            return Some((stream::iter(vec![Err(error)]), (None, read)));
        }
        let parsed: Vec<Result<Record, Error>> = match json::records(&batch.rows_json) {
            Ok(records) => records.into_iter().map(Ok).collect(),
            Err(_) => vec![Err(Error::invalid_input(format!(
                "the records input at row {read} is not a JSON array of objects"
            )))],
        };
        if parsed.is_empty() && batch.done {
            return None;
        }
        let read = read + parsed.len() as u64;
        let next = (!batch.done).then_some(source);
        Some((stream::iter(parsed), (next, read)))
    });
    IngestInput::records(pulls.flatten())
}

/// Runs an ingest with an optional progress listener, finishing once every progress report
/// has been delivered.
async fn ingest(
    builder: IngestBuilder,
    input: IngestInput,
    progress: Option<Arc<dyn JsonListener>>,
) -> Result<String, FfiError> {
    let dispatcher = progress.map(Dispatcher::new).transpose()?;
    let builder = match dispatcher.clone() {
        Some(d) => builder.on_progress(move |p| d.send(&p)),
        None => builder,
    };
    let result = on_core(async move { json::text(&builder.run(input).await?) }).await;
    if let Some(d) = dispatcher {
        d.flush().await;
    }
    result
}

/// Bulk API 2.0 through the client's pipeline.
#[derive(uniffi::Object)]
pub struct NativeBulk {
    inner: CoreBulk,
}

impl NativeBulk {
    /// Wraps the core's bulk handle.
    pub fn new(inner: CoreBulk) -> Arc<Self> {
        Arc::new(NativeBulk { inner })
    }

    fn builder(
        &self,
        object: &str,
        operation: &str,
        options: IngestOptions,
    ) -> Result<IngestBuilder, FfiError> {
        configure(
            self.inner.ingest(object, Operation::parse(operation)?),
            options,
        )
    }
}

#[uniffi::export]
impl NativeBulk {
    /// The work directory (journal and outcome files).
    pub fn work_dir(&self) -> String {
        self.inner.dir().display().to_string()
    }

    /// The same bulk handle with another work directory.
    pub fn with_work_dir(&self, path: String) -> Arc<Self> {
        NativeBulk::new(self.inner.clone().work_dir(path))
    }

    /// Ingests the caller's rows; the run's result as JSON.
    pub async fn ingest_rows(
        &self,
        object: String,
        operation: String,
        source: Arc<dyn RowSource>,
        options: IngestOptions,
        progress: Option<Arc<dyn JsonListener>>,
    ) -> Result<String, FfiError> {
        let builder = self.builder(&object, &operation, options)?;
        ingest(builder, rows(source), progress).await
    }

    /// Ingests a CSV file; the run's result as JSON.
    pub async fn ingest_csv(
        &self,
        object: String,
        operation: String,
        path: String,
        options: IngestOptions,
        progress: Option<Arc<dyn JsonListener>>,
    ) -> Result<String, FfiError> {
        let builder = self.builder(&object, &operation, options)?;
        ingest(builder, IngestInput::csv_file(path), progress).await
    }

    /// Continues a run from its journal; its result as JSON.
    pub async fn resume(
        &self,
        run_id: String,
        deadline_ms: Option<i64>,
        progress: Option<Arc<dyn JsonListener>>,
    ) -> Result<String, FfiError> {
        let mut b = self.inner.resume(&run_id);
        if let Some(ms) = deadline_ms {
            b = b.deadline(millis("deadline", ms)?);
        }
        let dispatcher = progress.map(Dispatcher::new).transpose()?;
        if let Some(d) = dispatcher.clone() {
            b = b.on_progress(move |p| d.send(&p));
        }
        let result = on_core(async move { json::text(&b.run().await?) }).await;
        if let Some(d) = dispatcher {
            d.flush().await;
        }
        result
    }

    /// Writes records by the method the core picks for their volume; the report as JSON.
    pub async fn write(
        &self,
        object: String,
        operation: String,
        records_json: String,
        external_id: Option<String>,
    ) -> Result<String, FfiError> {
        let rows = json::records(&records_json)?;
        let mut b = self
            .inner
            .write(&object, Operation::parse(&operation)?, rows);
        if let Some(field) = &external_id {
            b = b.external_id(field);
        }
        on_core(async move { json::text(&b.run().await?) }).await
    }

    /// A Bulk query written to a CSV file; the summary as JSON.
    pub async fn query_to_csv(
        &self,
        soql: String,
        path: String,
        include_deleted: bool,
    ) -> Result<String, FfiError> {
        let q = self.inner.query(&soql);
        let q = if include_deleted { q.query_all() } else { q };
        on_core(async move { json::text(&q.to_csv(path).await?) }).await
    }

    /// A Bulk query's records.
    pub fn query(&self, soql: String, include_deleted: bool) -> Arc<NativeRecords> {
        let q = self.inner.query(&soql);
        NativeRecords::new(if include_deleted { q.query_all() } else { q }.stream())
    }
}
