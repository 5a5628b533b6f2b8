//! Record streams as Python iterators: `for r in client.query(...)` and
//! `async for r in async_client.query(...)`.
//!
//! The core streams a query page by page (the next page is fetched while the current one is
//! read). Crossing into Python one record at a time would cost a GIL round trip or an asyncio
//! future per record, so each step takes every record that is already in memory (up to
//! [`BATCH`]) in one go, converts them under the GIL, and serves them from a buffer. Memory
//! stays bounded by the core's look-ahead (two pages) plus this buffer; dropping the iterator
//! drops the stream, which stops fetching.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;

use crate::convert::Keys;
use sfscale::rest::{RecordBatches, RecordStream};

use crate::errors::core_err;
use crate::runtime::{awaitable, block_on, ready};

/// Most records converted per step.
const BATCH: usize = 2000;

fn to_dicts(py: Python<'_>, batch: Vec<sfscale::rest::Record>) -> PyResult<VecDeque<Py<PyAny>>> {
    let mut keys = Keys::default();
    batch
        .iter()
        .map(|r| Ok(keys.dict(py, r)?.into_any().unbind()))
        .collect()
}

/// Records of a query, for `for` loops. Returned by `Client.query` and `Bulk.query`.
#[pyclass(module = "sfscale._sfscale")]
pub struct QueryIterator {
    source: Mutex<RecordBatches>,
    buffer: VecDeque<Py<PyAny>>,
}

impl QueryIterator {
    pub fn new(stream: RecordStream) -> Self {
        QueryIterator {
            source: Mutex::new(RecordBatches::new(stream)),
            buffer: VecDeque::new(),
        }
    }
}

#[pymethods]
impl QueryIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.buffer.is_empty() {
            let batch = block_on(py, self.source.get_mut().next_batch(BATCH))?;
            self.buffer = to_dicts(py, batch.map_err(|e| core_err(py, e))?)?;
        }
        self.buffer
            .pop_front()
            .ok_or_else(|| PyStopIteration::new_err(()))
    }
}

/// Records of a query, for `async for` loops. Returned by `AsyncClient.query` and
/// `AsyncBulk.query`.
#[pyclass(module = "sfscale._sfscale")]
pub struct AsyncQueryIterator {
    source: Arc<tokio::sync::Mutex<RecordBatches>>,
    buffer: Arc<Mutex<VecDeque<Py<PyAny>>>>,
}

impl AsyncQueryIterator {
    pub fn new(stream: RecordStream) -> Self {
        AsyncQueryIterator {
            source: Arc::new(tokio::sync::Mutex::new(RecordBatches::new(stream))),
            buffer: Arc::default(),
        }
    }
}

#[pymethods]
impl AsyncQueryIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(record) = self.buffer.lock().pop_front() {
            return ready(py, record);
        }
        let (source, buffer) = (Arc::clone(&self.source), Arc::clone(&self.buffer));
        let fetch = async move {
            let mut source = source.lock().await;
            // Another `__anext__` may have filled the buffer while this one waited for the lock.
            if !buffer.lock().is_empty() {
                return Ok(Vec::new());
            }
            source.next_batch(BATCH).await
        };
        let buffer = Arc::clone(&self.buffer);
        awaitable(py, fetch, move |py, batch| {
            let mut buffer = buffer.lock();
            buffer.extend(to_dicts(py, batch)?);
            buffer
                .pop_front()
                .ok_or_else(|| PyStopAsyncIteration::new_err(()))
        })
    }
}
