//! The public face of the bulk engine: [`Client::bulk`], the [`Bulk`] handle, the ingest
//! builder, its input ([`IngestInput`]) and its result ([`BulkResult`]).
//!
//! Builders follow the crate's style: `mut self` knobs, checked once when the run starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt as _;

use crate::bulk::encode::{Fields, Record};
use crate::bulk::options::{GroupBy, IngestSettings, Operation};
use crate::bulk::progress::{Progress, ProgressCallback};
use crate::bulk::results::{RowCallback, RowOutcome};
use crate::client::Client;
use crate::error::Error;

/// Environment variable naming the default bulk work directory.
pub const WORK_DIR_ENV: &str = "SFSCALE_BULK_DIR";

impl Client {
    /// The Bulk API 2.0 engine (ingest, resume, query) working in the default directory:
    /// `$SFSCALE_BULK_DIR`, else `<temp dir>/sfscale-bulk`.
    pub fn bulk(&self) -> Bulk {
        let work_dir = std::env::var_os(WORK_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("sfscale-bulk"));
        Bulk {
            client: self.clone(),
            work_dir,
        }
    }
}

/// The bulk engine of one client. Its work directory holds the journal (`journal.sqlite`) and
/// one folder per run (chunk files, outcome files); a run can be resumed from any process
/// that uses the same directory.
#[derive(Debug, Clone)]
#[must_use]
pub struct Bulk {
    pub(crate) client: Client,
    pub(crate) work_dir: PathBuf,
}

impl Bulk {
    /// Uses `dir` as the work directory.
    pub fn work_dir(mut self, dir: impl Into<PathBuf>) -> Bulk {
        self.work_dir = dir.into();
        self
    }

    /// The work directory.
    pub fn dir(&self) -> &Path {
        &self.work_dir
    }

    /// Starts describing an ingest run of `operation` on `object`.
    pub fn ingest(&self, object: &str, operation: Operation) -> IngestBuilder {
        IngestBuilder {
            bulk: self.clone(),
            object: object.to_owned(),
            operation,
            external_id: None,
            group_by: GroupBy::default(),
            settings: IngestSettings::default(),
            run_id: None,
            hooks: Hooks::default(),
        }
    }

    /// Continues a run after a crash, a kill or a deadline: finished jobs are not uploaded
    /// again, open ones are checked on the server.
    pub fn resume(&self, run_id: &str) -> ResumeBuilder {
        ResumeBuilder {
            bulk: self.clone(),
            run_id: run_id.to_owned(),
            hooks: Hooks::default(),
        }
    }
}

/// Callbacks and limits of one execution (not journaled: a resume passes its own).
#[derive(Clone, Default)]
pub struct Hooks {
    pub(crate) progress: Option<ProgressCallback>,
    pub(crate) on_row: Option<RowCallback>,
    pub(crate) deadline: Option<Duration>,
}

macro_rules! hook_methods {
    () => {
        /// Called with a [`Progress`] snapshot whenever a counter moves.
        pub fn on_progress(mut self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Self {
            self.hooks.progress = Some(Arc::new(callback));
            self
        }

        /// Called with each row's final outcome as results arrive (rows deferred to a lock-retry
        /// round are reported when that round settles them).
        pub fn on_row(mut self, callback: impl Fn(&RowOutcome) + Send + Sync + 'static) -> Self {
            self.hooks.on_row = Some(Arc::new(callback));
            self
        }

        /// Stops waiting after `deadline`: the result says `complete: false` and the run can be
        /// resumed (jobs already closed keep running on Salesforce). Default: none.
        pub fn deadline(mut self, deadline: Duration) -> Self {
            self.hooks.deadline = Some(deadline);
            self
        }
    };
}

/// An ingest run being described. Finish with [`IngestBuilder::run`].
#[must_use]
pub struct IngestBuilder {
    pub(crate) bulk: Bulk,
    pub(crate) object: String,
    pub(crate) operation: Operation,
    pub(crate) external_id: Option<String>,
    pub(crate) group_by: GroupBy,
    pub(crate) settings: IngestSettings,
    pub(crate) run_id: Option<String>,
    pub(crate) hooks: Hooks,
}

impl IngestBuilder {
    /// The external id field (required for upsert).
    pub fn external_id(mut self, field: &str) -> Self {
        self.external_id = Some(field.to_owned());
        self
    }

    /// Groups rows by this parent column (e.g. `AccountId`). Default: inferred from describe.
    pub fn group_by(mut self, column: &str) -> Self {
        self.group_by = GroupBy::Field(column.to_owned());
        self
    }

    /// No grouping: rows go to jobs in input order.
    pub fn no_grouping(mut self) -> Self {
        self.group_by = GroupBy::Off;
        self
    }

    /// Replaces every knob at once.
    pub fn settings(mut self, settings: IngestSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Jobs running at once. Default: 4.
    pub fn max_parallel_jobs(mut self, n: usize) -> Self {
        self.settings.max_parallel_jobs = n;
        self
    }

    /// Rows per job. Default: 100 000.
    pub fn max_rows_per_job(mut self, n: u64) -> Self {
        self.settings.max_rows_per_job = n;
        self
    }

    /// Raw CSV bytes per upload, at most Salesforce's 100 MB. Default: 100 000 000.
    pub fn max_upload_bytes(mut self, n: u64) -> Self {
        self.settings.max_upload_bytes = n;
        self
    }

    /// Later rounds for rows that failed on a lock. Default: 3.
    pub fn lock_retry_rounds(mut self, n: u32) -> Self {
        self.settings.lock_retry_rounds = n;
        self
    }

    /// Poll delays: first, and largest. Default: 500 ms, 10 s.
    pub fn poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.poll_initial = initial;
        self.settings.poll_max = max;
        self
    }

    /// Names the run (default: generated). Must be new in the work directory.
    pub fn run_id(mut self, run_id: &str) -> Self {
        self.run_id = Some(run_id.to_owned());
        self
    }

    hook_methods!();

    /// Plans, uploads and runs the jobs; returns when every row has an outcome or the
    /// deadline passed.
    pub async fn run(self, input: IngestInput) -> Result<BulkResult, Error> {
        crate::bulk::run::start(self, input).await
    }
}

/// A resume being described. Finish with [`ResumeBuilder::run`].
#[must_use]
pub struct ResumeBuilder {
    pub(crate) bulk: Bulk,
    pub(crate) run_id: String,
    pub(crate) hooks: Hooks,
}

impl ResumeBuilder {
    hook_methods!();

    /// Continues the run.
    pub async fn run(self) -> Result<BulkResult, Error> {
        crate::bulk::run::resume(self).await
    }
}

/// What an ingest run reads.
pub enum IngestInput {
    /// Records, as bindings feed them.
    Records(BoxStream<'static, Result<Record, Error>>),
    /// Records as `(field, value)` lists, as a binding builds them from its own mappings.
    Fields(BoxStream<'static, Result<Fields, Error>>),
    /// A CSV file with a header row of field API names.
    CsvFile(PathBuf),
    /// CSV text with a header row.
    CsvBytes(Bytes),
}

impl IngestInput {
    /// A stream of records.
    pub fn records(
        stream: impl futures::Stream<Item = Result<Record, Error>> + Send + 'static,
    ) -> IngestInput {
        IngestInput::Records(stream.boxed())
    }

    /// A stream of records as `(field, value)` lists.
    pub fn fields(
        stream: impl futures::Stream<Item = Result<Fields, Error>> + Send + 'static,
    ) -> IngestInput {
        IngestInput::Fields(stream.boxed())
    }

    /// Records already in memory.
    pub fn from_records(
        records: impl IntoIterator<Item = Record, IntoIter: Send + 'static>,
    ) -> IngestInput {
        IngestInput::Records(futures::stream::iter(records.into_iter().map(Ok)).boxed())
    }

    /// A CSV file.
    pub fn csv_file(path: impl Into<PathBuf>) -> IngestInput {
        IngestInput::CsvFile(path.into())
    }

    /// CSV bytes.
    pub fn csv_bytes(bytes: impl Into<Bytes>) -> IngestInput {
        IngestInput::CsvBytes(bytes.into())
    }
}

impl std::fmt::Debug for IngestInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IngestInput::Records(_) => f.write_str("IngestInput::Records(..)"),
            IngestInput::Fields(_) => f.write_str("IngestInput::Fields(..)"),
            IngestInput::CsvFile(p) => write!(f, "IngestInput::CsvFile({})", p.display()),
            IngestInput::CsvBytes(b) => write!(f, "IngestInput::CsvBytes({} bytes)", b.len()),
        }
    }
}

/// What an ingest run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BulkResult {
    /// The run id (for [`Bulk::resume`]).
    pub run_id: String,
    /// `false` when the deadline passed first; resume to finish.
    pub complete: bool,
    /// Target object.
    pub object: String,
    /// Operation.
    pub operation: Operation,
    /// Input rows read.
    pub rows_read: u64,
    /// Rows Salesforce processed successfully.
    pub rows_succeeded: u64,
    /// Rows that failed (Salesforce errors, rows refused before upload, unprocessed rows).
    pub rows_failed: u64,
    /// Rows without an outcome yet (only when not complete).
    pub rows_pending: u64,
    /// Jobs created.
    pub jobs_used: u64,
    /// Requests made by the engine (retries inside the pipeline not included).
    pub api_calls: u64,
    /// Lock-retry rounds run after the first pass.
    pub lock_retry_rounds: u32,
    /// Rows that failed with `UNABLE_TO_LOCK_ROW` and went to a later round.
    pub lock_retried_rows: u64,
    /// The parent column rows were grouped by, if any.
    pub group_by: Option<String>,
    /// Why that grouping (or none) was chosen.
    pub grouping_reason: String,
    /// Data Loader-style file of successes (`sfscale__Row`, `sf__Id`, `sf__Created`, columns).
    pub success_file: PathBuf,
    /// Data Loader-style file of failures (`sfscale__Row`, `sf__Id`, `sf__Error`, columns).
    pub error_file: PathBuf,
    /// The first failures (at most 100); all are in `error_file`.
    pub failures: Vec<RowOutcome>,
}
