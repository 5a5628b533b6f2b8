//! Bulk API 2.0 at millions of rows: lock-aware, resumable, in bounded memory.
//!
//! ```text
//! input (records | CSV file | CSV bytes)
//!   └─ encode: rows → CSV fields, grouped into shapes (one header per job)
//!       └─ plan: chunk files on disk, one per job, cut below the byte and row caps; with a
//!          parent column, one parent's rows share one chunk (lock-aware)
//!           └─ run: rounds of parallel jobs (ingest: create → upload → close → poll →
//!              results), every step journaled; lock failures go to a smaller later round
//!               └─ results: mapped back to input rows; success.csv / error.csv
//! ```
//!
//! Memory stays flat whatever the input size: rows are spooled to files as they are read,
//! and at most `max_parallel_jobs` chunks (each below the upload cap) are in memory at once.
//! Every request goes through the client's pipeline (limits guard — uploads also count
//! against `DailyBulkApiBatches` — scheduler, token, retry, observe).
//!
//! ```no_run
//! use sfscale::bulk::{IngestInput, Operation};
//!
//! # async fn nightly(client: sfscale::Client) -> Result<(), sfscale::Error> {
//! let result = client
//!     .bulk()
//!     .ingest("Contact", Operation::Upsert)
//!     .external_id("External_Id__c")
//!     .on_progress(|p| eprintln!("{} of {} rows processed", p.rows_processed, p.rows_read))
//!     .run(IngestInput::csv_file("contacts.csv"))
//!     .await?;
//! println!(
//!     "{} loaded, {} failed (rows and errors in {}), {} jobs, {} API calls; resume with run {}",
//!     result.rows_succeeded,
//!     result.rows_failed,
//!     result.error_file.display(),
//!     result.jobs_used,
//!     result.api_calls,
//!     result.run_id
//! );
//! let rows = client.bulk().query("SELECT Id, Name FROM Account").to_csv("accounts.csv").await?;
//! println!("{} accounts exported in {} pages", rows.rows, rows.pages);
//! # Ok(()) }
//! ```
//!
//! - [`api`]: [`Client::bulk`](crate::Client::bulk), builders, input and result types.
//! - [`codes`]: the error codes the engine itself produces.
//! - [`options`]: the operation, the grouping and the knobs of a run.
//! - [`encode`]: records → CSV fields with Salesforce's value rules; shapes.
//! - [`plan`]: rows → chunk files; lock-aware grouping.
//! - [`infer`]: the parent column inferred from describe when none is given.
//! - [`journal`]: the SQLite record of a run that `resume` continues from.
//! - [`lease`]: one process at a time per run.
//! - [`ingest`]: one chunk's job lifecycle (the state table) and polling.
//! - [`results`]: result CSVs mapped back to input rows; outcome files.
//! - [`progress`]: counters for progress bars.
//! - [`query`]: Bulk 2.0 query jobs streamed by locator.
//! - [`auto`]: `write()` choosing single calls, collections or bulk by volume.
//! - `run`: the orchestration of a run (rounds, deadline, resume).

pub mod api;
pub mod auto;
pub mod codes;
pub mod encode;
pub mod infer;
pub mod ingest;
pub mod journal;
pub mod lease;
pub mod options;
pub mod plan;
pub mod progress;
pub mod query;
pub mod results;
mod run;
pub mod wire;

pub use api::{Bulk, BulkResult, IngestBuilder, IngestInput, ResumeBuilder};
pub use auto::{WriteMethod, WriteReport};
pub use encode::Record;
pub use options::{GroupBy, IngestSettings, Operation};
pub use progress::Progress;
pub use query::QueryBuilder;
pub use results::{RowError, RowOutcome};
