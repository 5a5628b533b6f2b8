//! `client.bulk`: Bulk API 2.0 ingest, resume, query and `write` (auto), sync and async.
//!
//! Inputs are translated, never collected: a path (`str` / `os.PathLike`) is the core's CSV
//! file input, `bytes` its CSV bytes input, a pandas DataFrame is read row by row through
//! `itertuples`, and any other iterable of dicts is pulled lazily from a core task, a batch
//! of [`PULL`] rows per GIL acquisition, so a generator of a million rows is never in memory.
//! An exception raised by the caller's iterable (or a value that cannot be converted) stops
//! the run and is re-raised as is, instead of the core's error about the input.
//!
//! The progress and row callbacks are called from threads of their own (see
//! `observe::Dispatcher`), never from the engine's tasks, which must not wait for the GIL; a
//! call returns only after its callbacks have seen every report.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::{self, StreamExt as _};
use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyTuple};
use sfscale::bulk::encode::Fields;
use sfscale::bulk::{
    Bulk as CoreBulk, IngestBuilder, IngestInput, Operation, Progress, QueryBuilder, RowOutcome,
};
use sfscale::Error;

use crate::config::seconds;
use crate::convert::{fields, records, serialized, to_json, At, FieldNames};
use crate::errors::{core_err, CoreResult};
use crate::observe::Dispatcher;
use crate::ops::{pending, run_async, run_sync, Pending};
use crate::query::{AsyncQueryIterator, QueryIterator};

/// Rows pulled from a Python iterable per GIL acquisition.
const PULL: usize = 1000;

/// Where a Python exception raised while reading the caller's rows is kept for re-raising.
type Failure = Arc<Mutex<Option<PyErr>>>;

/// The keyword options of `ingest`, parsed once for both flavours.
#[derive(Default)]
struct IngestOptions {
    external_id: Option<String>,
    group_by: Option<Py<PyAny>>,
    run_id: Option<String>,
    max_parallel_jobs: Option<usize>,
    max_rows_per_job: Option<u64>,
    max_upload_bytes: Option<u64>,
    lock_retry_rounds: Option<u32>,
    poll_interval: Option<(f64, f64)>,
    deadline: Option<f64>,
    progress: Option<Py<PyAny>>,
    on_row: Option<Py<PyAny>>,
}

fn options(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<IngestOptions> {
    let mut o = IngestOptions::default();
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        if value.is_none() {
            continue;
        }
        match key.extract::<String>()?.as_str() {
            "external_id" => o.external_id = Some(value.extract()?),
            "group_by" => o.group_by = Some(value.unbind()),
            "run_id" => o.run_id = Some(value.extract()?),
            "max_parallel_jobs" => o.max_parallel_jobs = Some(value.extract()?),
            "max_rows_per_job" => o.max_rows_per_job = Some(value.extract()?),
            "max_upload_bytes" => o.max_upload_bytes = Some(value.extract()?),
            "lock_retry_rounds" => o.lock_retry_rounds = Some(value.extract()?),
            "poll_interval" => o.poll_interval = Some(value.extract()?),
            "deadline" => o.deadline = Some(value.extract()?),
            "progress" => o.progress = Some(value.unbind()),
            "on_row" => o.on_row = Some(value.unbind()),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "ingest() got an unexpected keyword argument '{other}'"
                )))
            }
        }
    }
    Ok(o)
}

/// The callbacks of one run (progress snapshots, row outcomes), each on a dispatcher thread.
#[derive(Default)]
struct Callbacks {
    progress: Option<Dispatcher<Progress>>,
    rows: Option<Dispatcher<RowOutcome>>,
}

impl Callbacks {
    fn new(progress: Option<Py<PyAny>>, on_row: Option<Py<PyAny>>) -> PyResult<Self> {
        Ok(Callbacks {
            progress: progress
                .map(|cb| Dispatcher::calling(cb, |py, p: Progress| serialized(py, &p)))
                .transpose()?,
            rows: on_row
                .map(|cb| Dispatcher::calling(cb, |py, r: RowOutcome| serialized(py, &r)))
                .transpose()?,
        })
    }

    /// The call, finishing only once every report it made has reached its callback.
    fn flushed(self, call: Pending) -> Pending {
        Box::pin(async move {
            let out = call.await;
            if let Some(progress) = self.progress {
                let _ = progress.flush().await;
            }
            if let Some(rows) = self.rows {
                let _ = rows.flush().await;
            }
            out
        })
    }
}

/// Registers the callbacks on an ingest or resume builder (two types with the same hooks).
macro_rules! hooked {
    ($builder:expr, $callbacks:expr) => {{
        let mut builder = $builder;
        if let Some(progress) = $callbacks.progress.clone() {
            builder = builder.on_progress(move |p| progress.send(p));
        }
        if let Some(rows) = $callbacks.rows.clone() {
            builder = builder.on_row(move |r| rows.send(r.clone()));
        }
        builder
    }};
}

/// Applies the options to the core builder.
fn configure(
    py: Python<'_>,
    mut b: IngestBuilder,
    o: IngestOptions,
) -> PyResult<(IngestBuilder, Callbacks)> {
    if let Some(field) = &o.external_id {
        b = b.external_id(field);
    }
    match o.group_by.as_ref().map(|g| g.bind(py)) {
        Some(g) if g.is_instance_of::<pyo3::types::PyBool>() && !g.is_truthy()? => {
            b = b.no_grouping()
        }
        Some(g) if !g.is_none() => b = b.group_by(&g.extract::<String>()?),
        _ => {}
    }
    if let Some(id) = &o.run_id {
        b = b.run_id(id);
    }
    if let Some(n) = o.max_parallel_jobs {
        b = b.max_parallel_jobs(n);
    }
    if let Some(n) = o.max_rows_per_job {
        b = b.max_rows_per_job(n);
    }
    if let Some(n) = o.max_upload_bytes {
        b = b.max_upload_bytes(n);
    }
    if let Some(n) = o.lock_retry_rounds {
        b = b.lock_retry_rounds(n);
    }
    if let Some((first, max)) = o.poll_interval {
        b = b.poll_interval(
            seconds("poll_interval", first)?,
            seconds("poll_interval", max)?,
        );
    }
    if let Some(d) = o.deadline {
        b = b.deadline(seconds("deadline", d)?);
    }
    let callbacks = Callbacks::new(o.progress, o.on_row)?;
    Ok((hooked!(b, callbacks), callbacks))
}

/// The core input for what the caller passed, and the slot for an exception from it.
fn input(records: &Bound<'_, PyAny>) -> PyResult<(IngestInput, Failure)> {
    let failure = Failure::default();
    if let Ok(bytes) = records.cast::<PyBytes>() {
        return Ok((IngestInput::csv_bytes(bytes.as_bytes().to_vec()), failure));
    }
    if let Ok(path) = records.extract::<PathBuf>() {
        return Ok((IngestInput::csv_file(path), failure));
    }
    let (rows, columns) = if records.hasattr("itertuples")? && records.hasattr("columns")? {
        let columns = records
            .getattr("columns")?
            .call_method0("tolist")?
            .extract::<Vec<String>>()?;
        let kwargs = PyDict::new(records.py());
        kwargs.set_item("index", false)?;
        kwargs.set_item("name", records.py().None())?;
        (
            records
                .call_method("itertuples", (), Some(&kwargs))?
                .try_iter()?,
            Some(columns),
        )
    } else {
        (records.try_iter()?, None)
    };
    let source = Rows {
        iter: rows.unbind(),
        columns,
        names: FieldNames::default(),
        next_row: 0,
        failure: Arc::clone(&failure),
    };
    Ok((IngestInput::fields(source.into_stream()), failure))
}

/// The caller's rows, pulled from a core task.
struct Rows {
    iter: Py<PyIterator>,
    /// DataFrame column names; rows are then tuples in column order.
    columns: Option<Vec<String>>,
    /// Dict keys already read, shared by the rows that use the same key objects.
    names: FieldNames,
    next_row: usize,
    failure: Failure,
}

impl Rows {
    fn into_stream(self) -> impl futures::Stream<Item = CoreResult<Fields>> + Send + 'static {
        stream::unfold(Some(self), |state| async move {
            let mut rows = state?;
            let batch = Python::attach(|py| rows.pull(py));
            match batch {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => Some((stream::iter(batch.into_iter().map(Ok)).boxed(), Some(rows))),
                Err(err) => {
                    let error = Error::invalid_input(format!(
                        "the records input failed at row {}",
                        rows.next_row
                    ))
                    .with_row(rows.next_row as u64);
                    *rows.failure.lock() = Some(err);
                    Some((stream::iter([Err(error)]).boxed(), None))
                }
            }
        })
        .flatten()
    }

    fn pull(&mut self, py: Python<'_>) -> PyResult<VecDeque<Fields>> {
        let iter = self.iter.bind(py).clone();
        let mut batch = VecDeque::with_capacity(PULL);
        for item in iter.take(PULL) {
            let item = item?;
            let row = self.next_row;
            batch.push_back(match &self.columns {
                Some(columns) => tuple_record(item.cast::<PyTuple>()?, columns, row)?,
                None => fields(&item, row, &mut self.names)?,
            });
            self.next_row += 1;
        }
        Ok(batch)
    }
}

fn tuple_record(values: &Bound<'_, PyTuple>, columns: &[String], row: usize) -> PyResult<Fields> {
    let mut out = Vec::with_capacity(columns.len());
    for (field, value) in columns.iter().zip(values.iter()) {
        out.push((
            field.clone(),
            to_json(
                &value,
                At {
                    field,
                    row: Some(row),
                },
            )?,
        ));
    }
    Ok(out)
}

/// The operations shared by both flavours, as pending calls.
fn ingest_call(
    py: Python<'_>,
    bulk: &CoreBulk,
    object: &str,
    operation: &str,
    records: &Bound<'_, PyAny>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Pending, Failure)> {
    let op = Operation::parse(operation).map_err(|e| core_err(py, e))?;
    let (builder, callbacks) = configure(py, bulk.ingest(object, op), options(kwargs)?)?;
    let (input, failure) = input(records)?;
    Ok((callbacks.flushed(pending(builder.run(input))), failure))
}

fn resume_call(
    bulk: &CoreBulk,
    run_id: &str,
    progress: Option<Py<PyAny>>,
    on_row: Option<Py<PyAny>>,
    deadline: Option<f64>,
) -> PyResult<Pending> {
    let callbacks = Callbacks::new(progress, on_row)?;
    let mut b = hooked!(bulk.resume(run_id), callbacks);
    if let Some(d) = deadline {
        b = b.deadline(seconds("deadline", d)?);
    }
    Ok(callbacks.flushed(pending(b.run())))
}

/// `write` (auto): shared by `Bulk.write` and `Client.write`.
pub fn write_call(
    py: Python<'_>,
    bulk: &CoreBulk,
    object: &str,
    operation: &str,
    rows: &Bound<'_, PyAny>,
    external_id: Option<&str>,
) -> PyResult<Pending> {
    let op = Operation::parse(operation).map_err(|e| core_err(py, e))?;
    let mut b = bulk.write(object, op, records(rows)?);
    if let Some(field) = external_id {
        b = b.external_id(field);
    }
    Ok(pending(b.run()))
}

/// A Bulk API 2.0 query with the caller's options.
fn query_builder(
    bulk: &CoreBulk,
    soql: &str,
    include_deleted: bool,
    page_size: Option<u64>,
) -> QueryBuilder {
    let mut q = bulk.query(soql);
    if include_deleted {
        q = q.query_all();
    }
    match page_size {
        Some(rows) => q.page_size(rows),
        None => q,
    }
}

/// The query's records (stream) or, with a path, its CSV file and a summary.
enum QueryTarget {
    Records(crate::ops::Records),
    File(Pending),
}

fn query_target(q: QueryBuilder, to: Option<PathBuf>) -> QueryTarget {
    match to {
        Some(path) => QueryTarget::File(pending(async move { q.to_csv(path).await })),
        None => QueryTarget::Records(q.stream()),
    }
}

/// Bulk API 2.0 for the sync client (`client.bulk`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct Bulk {
    pub(crate) inner: CoreBulk,
}

#[pymethods]
impl Bulk {
    /// The work directory (journal and outcome files).
    #[getter]
    fn work_dir(&self) -> PathBuf {
        self.inner.dir().to_path_buf()
    }

    fn with_work_dir(&self, path: PathBuf) -> Bulk {
        Bulk {
            inner: self.inner.clone().work_dir(path),
        }
    }

    #[pyo3(signature = (object, operation, records, **kwargs))]
    fn ingest(
        &self,
        py: Python<'_>,
        object: &str,
        operation: &str,
        records: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let (call, failure) = ingest_call(py, &self.inner, object, operation, records, kwargs)?;
        // The caller's own exception, when their input failed, rather than the core's error.
        run_sync(py, call).map_err(|e| failure.lock().take().unwrap_or(e))
    }

    #[pyo3(signature = (run_id, *, progress = None, on_row = None, deadline = None))]
    fn resume(
        &self,
        py: Python<'_>,
        run_id: &str,
        progress: Option<Py<PyAny>>,
        on_row: Option<Py<PyAny>>,
        deadline: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            resume_call(&self.inner, run_id, progress, on_row, deadline)?,
        )
    }

    #[pyo3(signature = (object, operation, records, *, external_id = None))]
    fn write(
        &self,
        py: Python<'_>,
        object: &str,
        operation: &str,
        records: &Bound<'_, PyAny>,
        external_id: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            write_call(py, &self.inner, object, operation, records, external_id)?,
        )
    }

    #[pyo3(signature = (soql, *, to = None, include_deleted = false, page_size = None))]
    fn query(
        &self,
        py: Python<'_>,
        soql: &str,
        to: Option<PathBuf>,
        include_deleted: bool,
        page_size: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        match query_target(
            query_builder(&self.inner, soql, include_deleted, page_size),
            to,
        ) {
            QueryTarget::File(call) => run_sync(py, call),
            QueryTarget::Records(records) => {
                Ok(Py::new(py, QueryIterator::new(records))?.into_any())
            }
        }
    }
}

/// Bulk API 2.0 for the async client (`async_client.bulk`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct AsyncBulk {
    pub(crate) inner: CoreBulk,
}

#[pymethods]
impl AsyncBulk {
    #[getter]
    fn work_dir(&self) -> PathBuf {
        self.inner.dir().to_path_buf()
    }

    fn with_work_dir(&self, path: PathBuf) -> AsyncBulk {
        AsyncBulk {
            inner: self.inner.clone().work_dir(path),
        }
    }

    #[pyo3(signature = (object, operation, records, **kwargs))]
    fn ingest<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        operation: &str,
        records: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (call, failure) = ingest_call(py, &self.inner, object, operation, records, kwargs)?;
        let call: Pending = Box::pin(async move {
            let out = call.await;
            match (out, failure.lock().take()) {
                (Err(_), Some(py_err)) => {
                    Ok(Box::new(move |_py: Python<'_>| Err(py_err)) as crate::ops::Finish)
                }
                (out, _) => out,
            }
        });
        run_async(py, call)
    }

    #[pyo3(signature = (run_id, *, progress = None, on_row = None, deadline = None))]
    fn resume<'py>(
        &self,
        py: Python<'py>,
        run_id: &str,
        progress: Option<Py<PyAny>>,
        on_row: Option<Py<PyAny>>,
        deadline: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            resume_call(&self.inner, run_id, progress, on_row, deadline)?,
        )
    }

    #[pyo3(signature = (object, operation, records, *, external_id = None))]
    fn write<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        operation: &str,
        records: &Bound<'py, PyAny>,
        external_id: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            write_call(py, &self.inner, object, operation, records, external_id)?,
        )
    }

    /// `to=path`: an awaitable of the written file's summary; without: an async iterator.
    #[pyo3(signature = (soql, *, to = None, include_deleted = false, page_size = None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        soql: &str,
        to: Option<PathBuf>,
        include_deleted: bool,
        page_size: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match query_target(
            query_builder(&self.inner, soql, include_deleted, page_size),
            to,
        ) {
            QueryTarget::File(call) => run_async(py, call),
            QueryTarget::Records(records) => {
                Ok(Bound::new(py, AsyncQueryIterator::new(records))?.into_any())
            }
        }
    }
}
