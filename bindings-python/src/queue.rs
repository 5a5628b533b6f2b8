//! `client.queue(path, ...)`: the core's durable write-behind queue, sync and async.
//!
//! `enqueue` returns once the write is journaled (a ticket, as an `int`); the core's workers
//! coalesce writes into Collections calls or Bulk jobs under the client's pipeline; `flush`
//! waits for every accepted write to settle; `close` flushes and stops. Outcomes reach
//! `on_outcome` callbacks through a dispatcher thread (see `observe`). Every promise (journal,
//! retries, dead letters, backpressure) is the core's; this file converts.

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sfscale::queue::{
    DeadLetter, Queue as CoreQueue, QueueConfig, QueueEvent, QueueStats, SyncMode, Ticket,
    WhenFull, WriteOp,
};

use crate::config::seconds;
use crate::convert::{record, serialized};
use crate::errors::core_err;
use crate::observe::Dispatcher;
use crate::ops::{self, pending, run_async, run_sync, Pending};
use crate::output::ToPython;
use crate::runtime::{call, ready};

impl ToPython for Ticket {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.0.into_pyobject(py)?.into_any().unbind())
    }
}

impl ToPython for bool {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(pyo3::types::PyBool::new(py, self)
            .to_owned()
            .into_any()
            .unbind())
    }
}

impl ToPython for Vec<DeadLetter> {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        serialized(py, &self)
    }
}

/// The queue's configuration from keywords (each one core knob).
pub fn config(path: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<QueueConfig> {
    let mut c = QueueConfig::new(path);
    for (key, value) in options.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        c = match key.as_str() {
            "sync" => c.sync(match value.extract::<String>()?.as_str() {
                "full" => SyncMode::Full,
                "normal" => SyncMode::Normal,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "sync: '{other}' (full, normal)"
                    )))
                }
            }),
            "batch_size" => c.batch_size(value.extract()?),
            "linger" => c.linger(seconds("linger", value.extract()?)?),
            "collapse_same_key" => c.collapse_same_key(value.extract()?),
            "bulk_threshold" if value.is_none() => c.no_bulk(),
            "bulk_threshold" => c.bulk_threshold(value.extract()?),
            "bulk_max_rows" => c.bulk_max_rows(value.extract()?),
            "bulk_dir" => c.bulk_dir(value.extract::<PathBuf>()?),
            "max_pending" => c.max_pending(value.extract()?),
            "when_full" => c.when_full(match value.extract::<String>()?.as_str() {
                "wait" => WhenFull::Wait,
                "fail" => WhenFull::FailFast,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "when_full: '{other}' (wait, fail)"
                    )))
                }
            }),
            "workers" => c.workers(value.extract()?),
            "retry_backoff" => {
                let (base, cap): (f64, f64) = value.extract()?;
                c.retry_backoff(seconds(&key, base)?, seconds(&key, cap)?)
            }
            "priority" => c.priority(ops::priority(&value.extract::<String>()?)?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "queue() got an unexpected keyword argument '{other}'"
                )))
            }
        };
    }
    Ok(c)
}

/// Opens the queue (a pending call resolving to the core queue).
pub fn open(
    client: &sfscale::Client,
    config: QueueConfig,
) -> impl std::future::Future<Output = Result<CoreQueue, sfscale::Error>> + Send + 'static {
    let client = client.clone();
    async move { client.queue(config).await }
}

fn enqueue(
    q: &CoreQueue,
    object: &str,
    operation: &str,
    fields: &Bound<'_, PyAny>,
    external_id: Option<&str>,
    key: Option<String>,
) -> PyResult<Pending> {
    let op = WriteOp::parse(operation, external_id).map_err(|e| core_err(fields.py(), e))?;
    let (q, object, fields) = (q.clone(), object.to_owned(), record(fields, None)?);
    Ok(pending(async move {
        q.enqueue(&object, op, fields, key.as_deref()).await
    }))
}

fn flush(q: &CoreQueue) -> Pending {
    let q = q.clone();
    pending(async move { q.flush().await })
}

fn close(q: &CoreQueue) -> Pending {
    let q = q.clone();
    pending(async move { q.close().await })
}

fn dead_letters(q: &CoreQueue, after: u64, limit: usize) -> Pending {
    let q = q.clone();
    pending(async move { q.dead_letters(Ticket(after), limit).await })
}

fn replay(q: &CoreQueue, ticket: u64, fixed: Option<&Bound<'_, PyAny>>) -> PyResult<Pending> {
    let fixed = fixed
        .filter(|f| !f.is_none())
        .map(|f| record(f, None))
        .transpose()?;
    let q = q.clone();
    Ok(pending(
        async move { q.replay(Ticket(ticket), fixed).await },
    ))
}

fn discard(q: &CoreQueue, ticket: u64) -> Pending {
    let q = q.clone();
    pending(async move { q.discard(Ticket(ticket)).await })
}

fn on_outcome(q: &CoreQueue, callback: Py<PyAny>) -> PyResult<()> {
    let dispatcher = Dispatcher::calling(callback, |py, e: QueueEvent| serialized(py, &e))?;
    q.on_outcome(move |event| dispatcher.send(event.clone()));
    Ok(())
}

fn stats(py: Python<'_>, q: &CoreQueue) -> PyResult<Py<PyAny>> {
    let stats: QueueStats = q.stats();
    serialized(py, &stats)
}

/// Opens a queue for the sync client.
pub fn open_sync(py: Python<'_>, client: &sfscale::Client, config: QueueConfig) -> PyResult<Queue> {
    Ok(Queue {
        inner: call(py, open(client, config))?,
    })
}

/// A durable write-behind queue for the sync client (`client.queue(path)`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct Queue {
    inner: CoreQueue,
}

#[pymethods]
impl Queue {
    #[pyo3(signature = (object, operation, record, *, external_id = None, key = None))]
    fn enqueue(
        &self,
        py: Python<'_>,
        object: &str,
        operation: &str,
        record: &Bound<'_, PyAny>,
        external_id: Option<&str>,
        key: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            enqueue(&self.inner, object, operation, record, external_id, key)?,
        )
    }

    fn flush(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run_sync(py, flush(&self.inner))
    }

    fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run_sync(py, close(&self.inner))
    }

    #[pyo3(signature = (after = 0, limit = 100))]
    fn dead_letters(&self, py: Python<'_>, after: u64, limit: usize) -> PyResult<Py<PyAny>> {
        run_sync(py, dead_letters(&self.inner, after, limit))
    }

    #[pyo3(signature = (ticket, fixed = None))]
    fn replay(
        &self,
        py: Python<'_>,
        ticket: u64,
        fixed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(py, replay(&self.inner, ticket, fixed)?)
    }

    fn discard(&self, py: Python<'_>, ticket: u64) -> PyResult<Py<PyAny>> {
        run_sync(py, discard(&self.inner, ticket))
    }

    fn on_outcome(&self, callback: Py<PyAny>) -> PyResult<()> {
        on_outcome(&self.inner, callback)
    }

    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        stats(py, &self.inner)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

/// The awaitable that opens a queue for the async client.
pub fn open_async<'py>(
    py: Python<'py>,
    client: &sfscale::Client,
    config: QueueConfig,
) -> PyResult<Bound<'py, PyAny>> {
    crate::runtime::awaitable(py, open(client, config), |py, q| {
        Ok(Py::new(py, AsyncQueue { inner: q })?.into_any())
    })
}

/// A durable write-behind queue for the async client (`await client.queue(path)`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct AsyncQueue {
    inner: CoreQueue,
}

#[pymethods]
impl AsyncQueue {
    #[pyo3(signature = (object, operation, record, *, external_id = None, key = None))]
    fn enqueue<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        operation: &str,
        record: &Bound<'py, PyAny>,
        external_id: Option<&str>,
        key: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            enqueue(&self.inner, object, operation, record, external_id, key)?,
        )
    }

    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, flush(&self.inner))
    }

    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, close(&self.inner))
    }

    #[pyo3(signature = (after = 0, limit = 100))]
    fn dead_letters<'py>(
        &self,
        py: Python<'py>,
        after: u64,
        limit: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, dead_letters(&self.inner, after, limit))
    }

    #[pyo3(signature = (ticket, fixed = None))]
    fn replay<'py>(
        &self,
        py: Python<'py>,
        ticket: u64,
        fixed: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, replay(&self.inner, ticket, fixed)?)
    }

    fn discard<'py>(&self, py: Python<'py>, ticket: u64) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, discard(&self.inner, ticket))
    }

    fn on_outcome(&self, callback: Py<PyAny>) -> PyResult<()> {
        on_outcome(&self.inner, callback)
    }

    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        stats(py, &self.inner)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        ready(py, slf.into_any().unbind())
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }
}
