//! `client.bulk`: Bulk API 2.0 ingest, resume, `write` (auto) and query.
//!
//! Inputs are translated, never collected here: [`IngestSource::csv_file`] is the core's CSV
//! file input, [`IngestSource::csv_bytes`] its bytes input, and [`IngestSource::rows`] a
//! bounded channel the JS layer feeds batch by batch from an array or an (async) iterable:
//! `send()` resolves only when the channel has room, so a generator of a million rows is
//! pulled as fast as the core plans them and never held in memory. When the caller's
//! iterable throws, the JS layer calls `fail()` (the run stops with an `InvalidInput` error
//! naming the row) and re-throws the caller's own exception.
//!
//! Progress reaches JS through a weak thread-safe function (see `observe`); before the run's
//! Promise settles, one last call through it waits for the event loop, so every report made
//! during the run has been delivered before `await ingest(...)` returns.

use std::path::PathBuf;

use futures::stream::{self, StreamExt as _};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use sfscale::bulk::{Bulk as CoreBulk, IngestBuilder, IngestInput, Operation};
use sfscale::rest::Record;
use sfscale::Error as CoreError;
use tokio::sync::mpsc;

use crate::client::{record, records};
use crate::config::{count, millis, number};
use crate::errors::{core_err, invalid, CoreResult};
use crate::observe::{sink, Callback, Sink};
use crate::query::NativeQuery;
use crate::runtime::{promise, Cancel};

/// Batches of rows the channel holds before `send()` waits.
const IN_FLIGHT: usize = 4;

type Batch = CoreResult<Vec<Record>>;

/// What an ingest reads: a CSV file, CSV bytes, or rows sent from JS.
#[napi]
pub struct IngestSource {
    input: Mutex<Option<IngestInput>>,
    rows: Mutex<Option<mpsc::Sender<Batch>>>,
}

impl IngestSource {
    fn of(input: IngestInput, rows: Option<mpsc::Sender<Batch>>) -> Self {
        IngestSource {
            input: Mutex::new(Some(input)),
            rows: Mutex::new(rows),
        }
    }

    fn take(&self) -> Result<IngestInput> {
        self.input
            .lock()
            .take()
            .ok_or_else(|| invalid("this ingest source was already used"))
    }

    fn sender(&self) -> Option<mpsc::Sender<Batch>> {
        self.rows.lock().clone()
    }
}

#[napi]
impl IngestSource {
    #[napi(factory)]
    pub fn csv_file(path: String) -> Self {
        IngestSource::of(IngestInput::csv_file(path), None)
    }

    #[napi(factory)]
    pub fn csv_bytes(bytes: Buffer) -> Self {
        IngestSource::of(IngestInput::csv_bytes(bytes.to_vec()), None)
    }

    /// Rows sent with `send`, ended with `end` or `fail`.
    #[napi(factory)]
    pub fn rows() -> Self {
        let (sender, receiver) = mpsc::channel::<Batch>(IN_FLIGHT);
        let stream = stream::unfold(receiver, |mut rx| async move {
            rx.recv().await.map(|b| (b, rx))
        })
        .flat_map(|batch| match batch {
            Ok(rows) => stream::iter(rows.into_iter().map(Ok)).boxed(),
            Err(error) => stream::iter([Err(error)]).boxed(),
        });
        IngestSource::of(IngestInput::records(stream), Some(sender))
    }

    /// Queues rows (`firstRow` is the first one's index, for errors); resolves `true` once
    /// there is room for more, `false` when the run stopped reading (it failed: its own
    /// Promise says why).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn send<'e>(&self, env: &'e Env, rows: Vec<Value>, first_row: u32) -> Result<Object<'e>> {
        let first = first_row as usize;
        let batch = rows
            .into_iter()
            .enumerate()
            .map(|(i, v)| record(v, Some(first + i)))
            .collect::<Result<Vec<Map<String, Value>>>>()?;
        let sender = self
            .sender()
            .ok_or_else(|| invalid("this ingest source takes no rows (or has ended)"))?;
        promise(env, None, async move {
            Ok(sender.send(Ok(batch)).await.is_ok())
        })
    }

    /// No more rows.
    #[napi]
    pub fn end(&self) {
        self.rows.lock().take();
    }

    /// The caller's rows failed at `row`: the run stops with an error naming it.
    #[napi]
    pub fn fail(&self, message: String, row: u32) {
        if let Some(sender) = self.rows.lock().take() {
            let error = CoreError::invalid_input(format!(
                "the records input failed at row {row}: {message}"
            ))
            .with_row(row.into());
            let _ = sender.try_send(Err(error));
        }
    }
}

/// Applies the ingest options (`externalId`, `groupBy` (a column, or `false`), `runId`,
/// `maxParallelJobs`, `maxRowsPerJob`, `maxUploadBytes`, `lockRetryRounds`, `pollInterval`
/// `[firstMs, maxMs]`, `deadline` ms) to the core builder.
fn configure(mut b: IngestBuilder, options: &Map<String, Value>) -> CoreResult<IngestBuilder> {
    for (key, v) in options.iter().filter(|(_, v)| !v.is_null()) {
        let text = || {
            v.as_str().ok_or_else(|| {
                CoreError::invalid_input(format!("{key}: expected a string, got {v}"))
            })
        };
        b = match key.as_str() {
            "externalId" => b.external_id(text()?),
            "groupBy" if v == &Value::Bool(false) => b.no_grouping(),
            "groupBy" => b.group_by(text()?),
            "runId" => b.run_id(text()?),
            "maxParallelJobs" => b.max_parallel_jobs(count(key, v)? as usize),
            "maxRowsPerJob" => b.max_rows_per_job(count(key, v)?.into()),
            "maxUploadBytes" => b.max_upload_bytes(number(key, v)? as u64),
            "lockRetryRounds" => b.lock_retry_rounds(count(key, v)?),
            "pollInterval" => {
                let pair = v.as_array().filter(|a| a.len() == 2);
                let pair = pair.ok_or_else(|| {
                    CoreError::invalid_input(format!("{key}: expected [firstMs, maxMs]"))
                })?;
                b.poll_interval(
                    millis(key, number(key, &pair[0])?)?,
                    millis(key, number(key, &pair[1])?)?,
                )
            }
            "deadline" => b.deadline(millis(key, number(key, v)?)?),
            other => {
                return Err(CoreError::invalid_input(format!(
                    "unknown ingest option '{other}'"
                )))
            }
        };
    }
    Ok(b)
}

/// Reports progress to `sink`, if any.
fn reporting<B>(b: B, sink: &Option<Sink>, on_progress: fn(B, Sink) -> B) -> B {
    match sink {
        Some(s) => on_progress(b, s.clone()),
        None => b,
    }
}

/// The run, settling only once every progress report it made has reached JS.
async fn flushed<T>(
    run: impl std::future::Future<Output = CoreResult<T>>,
    sink: Option<Sink>,
) -> CoreResult<T> {
    let out = run.await;
    if let Some(s) = sink {
        s.delivered().await;
    }
    out
}

/// Bulk API 2.0 on a client's pipeline. Wrapped by `Bulk` in `lib/bulk.js`.
#[napi]
pub struct NativeBulk {
    inner: CoreBulk,
}

impl NativeBulk {
    pub fn new(inner: CoreBulk) -> Self {
        NativeBulk { inner }
    }
}

#[napi]
impl NativeBulk {
    /// The work directory (journal and outcome files).
    #[napi(getter)]
    pub fn work_dir(&self) -> String {
        self.inner.dir().display().to_string()
    }

    #[napi(
        ts_return_type = "Promise<string>",
        ts_args_type = "object: string, operation: string, options: Record<string, unknown>, source: IngestSource, progress: ((progress: string) => void) | null | undefined, cancel?: Cancel | null"
    )]
    // The parameters are the JS call's arguments, one each.
    #[allow(clippy::too_many_arguments)]
    pub fn ingest<'e>(
        &self,
        env: &'e Env,
        object: String,
        operation: String,
        options: Map<String, Value>,
        source: &IngestSource,
        progress: Option<Callback>,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let op = Operation::parse(&operation).map_err(core_err)?;
        let builder = configure(self.inner.ingest(&object, op), &options).map_err(core_err)?;
        let sink = progress.map(sink);
        let builder = reporting(builder, &sink, |b, s| b.on_progress(move |p| s.send(&p)));
        let input = source.take()?;
        promise(env, cancel, flushed(builder.run(input), sink))
    }

    #[napi(
        ts_return_type = "Promise<string>",
        ts_args_type = "runId: string, deadlineMs: number | null | undefined, progress: ((progress: string) => void) | null | undefined, cancel?: Cancel | null"
    )]
    pub fn resume<'e>(
        &self,
        env: &'e Env,
        run_id: String,
        deadline_ms: Option<f64>,
        progress: Option<Callback>,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let mut b = self.inner.resume(&run_id);
        if let Some(ms) = deadline_ms {
            b = b.deadline(millis("deadline", ms).map_err(core_err)?);
        }
        let sink = progress.map(sink);
        let b = reporting(b, &sink, |b, s| b.on_progress(move |p| s.send(&p)));
        promise(env, cancel, flushed(b.run(), sink))
    }

    /// Writes records the cheapest way (single calls, Collections or Bulk: the core decides).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn write<'e>(
        &self,
        env: &'e Env,
        object: String,
        operation: String,
        rows: Vec<Value>,
        external_id: Option<String>,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let op = Operation::parse(&operation).map_err(core_err)?;
        let mut b = self.inner.write(&object, op, records(rows)?);
        if let Some(field) = &external_id {
            b = b.external_id(field);
        }
        promise(env, cancel, b.run())
    }

    /// Runs a Bulk query into a CSV file at `path`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn query_to_csv<'e>(
        &self,
        env: &'e Env,
        soql: String,
        path: String,
        include_deleted: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let q = self.inner.query(&soql);
        let q = if include_deleted { q.query_all() } else { q };
        let path = PathBuf::from(path);
        promise(env, cancel, async move { q.to_csv(path).await })
    }

    /// A Bulk query's records, streamed.
    #[napi]
    pub fn query(&self, soql: String, include_deleted: bool) -> NativeQuery {
        let q = self.inner.query(&soql);
        NativeQuery::new(if include_deleted { q.query_all() } else { q }.stream())
    }
}
