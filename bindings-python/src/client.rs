//! `sfscale.Client` (blocking, GIL released while Rust works) and `sfscale.AsyncClient`
//! (asyncio awaitables): two faces of one core client.
//!
//! Every method body is one line: convert with `ops`, run with `run_sync` or `run_async`. The
//! shared state (the core client, cheap to clone) sits behind [`Handle`], which `close()`
//! empties so later calls fail clearly; calls already running keep their own clone.

use std::path::PathBuf;

use parking_lot::RwLock;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::bulk::{write_call, AsyncBulk, Bulk};
use crate::config::{build, seconds};
use crate::convert::serialized;
use crate::errors::core_err;
use crate::observe::Dispatcher;
use crate::ops::{self, run_async, run_sync};
use crate::query::{AsyncQueryIterator, QueryIterator};
use crate::queue::{self, Queue};
use crate::runtime::ready;

/// The core client of a Python client, until closed.
struct Handle(RwLock<Option<sfscale::Client>>);

impl Handle {
    fn new(client: sfscale::Client) -> Self {
        Handle(RwLock::new(Some(client)))
    }

    fn get(&self, py: Python<'_>) -> PyResult<sfscale::Client> {
        self.0
            .read()
            .clone()
            .ok_or_else(|| core_err(py, ops::closed()))
    }

    fn close(&self) {
        self.0.write().take();
    }

    /// `metrics()` as a dict (read with the GIL released: gauges may wait for stage locks).
    fn metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let client = self.get(py)?;
        let snapshot = py.detach(move || client.metrics());
        serialized(py, &snapshot)
    }

    fn prometheus(&self, py: Python<'_>) -> PyResult<String> {
        let client = self.get(py)?;
        Ok(py.detach(move || client.metrics_prometheus()))
    }

    /// `<sfscale.Client https://... grant=client_credentials api=62.0>` (no secrets), or closed.
    fn repr(&self, class: &str) -> String {
        match self.0.read().as_ref() {
            Some(client) => {
                let config = client.config();
                let url = config.instance_url.as_ref().unwrap_or(&config.login_url);
                format!(
                    "<sfscale.{class} {url} grant={} api={}>",
                    config.grant.kind(),
                    config.api_version
                )
            }
            None => format!("<sfscale.{class} closed>"),
        }
    }

    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        let dispatcher = Dispatcher::calling(callback, |py, e: sfscale::Event| serialized(py, &e))?;
        self.get(py)?
            .on_event(move |event| dispatcher.send(event.clone()));
        Ok(())
    }
}

/// A blocking Salesforce client. See the package docs (`sfscale/__init__.pyi`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct Client {
    handle: Handle,
}

impl Client {
    fn wrap(client: sfscale::Client) -> Self {
        Client {
            handle: Handle::new(client),
        }
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(Client::wrap(build(py, options, false)?))
    }

    #[classmethod]
    #[pyo3(signature = (**options))]
    fn from_env(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Ok(Client::wrap(build(py, options, true)?))
    }

    fn with_priority(&self, py: Python<'_>, priority: &str) -> PyResult<Client> {
        Ok(Client::wrap(
            self.handle.get(py)?.with_priority(ops::priority(priority)?),
        ))
    }

    fn long_running(&self, py: Python<'_>) -> PyResult<Client> {
        Ok(Client::wrap(self.handle.get(py)?.long_running()))
    }

    #[pyo3(signature = (soql, *, include_deleted = false))]
    fn query(
        &self,
        py: Python<'_>,
        soql: String,
        include_deleted: bool,
    ) -> PyResult<QueryIterator> {
        Ok(QueryIterator::new(ops::query(
            &self.handle.get(py)?,
            soql,
            include_deleted,
        )))
    }

    fn query_cached(&self, py: Python<'_>, soql: String, ttl: f64) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::query_cached(&self.handle.get(py)?, soql, seconds("ttl", ttl)?)?,
        )
    }

    fn create(
        &self,
        py: Python<'_>,
        object: &str,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::create(&self.handle.get(py)?, object, record)?)
    }

    #[pyo3(signature = (object, id, fields = None))]
    fn get(
        &self,
        py: Python<'_>,
        object: &str,
        id: &str,
        fields: Option<Vec<String>>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::get(&self.handle.get(py)?, object, id, fields)?)
    }

    fn update(
        &self,
        py: Python<'_>,
        object: &str,
        id: &str,
        fields: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::update(&self.handle.get(py)?, object, id, fields)?)
    }

    fn delete(&self, py: Python<'_>, object: &str, id: &str) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::delete(&self.handle.get(py)?, object, id)?)
    }

    fn upsert(
        &self,
        py: Python<'_>,
        object: &str,
        external_id_field: &str,
        value: &Bound<'_, PyAny>,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::upsert(
                &self.handle.get(py)?,
                object,
                external_id_field,
                value,
                record,
            )?,
        )
    }

    #[pyo3(signature = (object, records, *, all_or_none = false))]
    fn create_many(
        &self,
        py: Python<'_>,
        object: &str,
        records: &Bound<'_, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::create_many(&self.handle.get(py)?, object, records, all_or_none)?,
        )
    }

    #[pyo3(signature = (object, records, *, all_or_none = false))]
    fn update_many(
        &self,
        py: Python<'_>,
        object: &str,
        records: &Bound<'_, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::update_many(&self.handle.get(py)?, object, records, all_or_none)?,
        )
    }

    #[pyo3(signature = (object, external_id_field, records, *, all_or_none = false))]
    fn upsert_many(
        &self,
        py: Python<'_>,
        object: &str,
        external_id_field: &str,
        records: &Bound<'_, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::upsert_many(
                &self.handle.get(py)?,
                object,
                external_id_field,
                records,
                all_or_none,
            )?,
        )
    }

    #[pyo3(signature = (ids, *, all_or_none = false))]
    fn delete_many(
        &self,
        py: Python<'_>,
        ids: Vec<String>,
        all_or_none: bool,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::delete_many(&self.handle.get(py)?, ids, all_or_none)?,
        )
    }

    #[pyo3(signature = (subrequests, *, all_or_none = false))]
    fn composite(
        &self,
        py: Python<'_>,
        subrequests: &Bound<'_, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Py<PyAny>> {
        run_sync(
            py,
            ops::composite(&self.handle.get(py)?, subrequests, all_or_none)?,
        )
    }

    #[pyo3(signature = (object = None))]
    fn describe(&self, py: Python<'_>, object: Option<&str>) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::describe(&self.handle.get(py)?, object)?)
    }

    fn limits(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run_sync(py, ops::limits(&self.handle.get(py)?)?)
    }

    #[getter]
    fn bulk(&self, py: Python<'_>) -> PyResult<Bulk> {
        Ok(Bulk {
            inner: self.handle.get(py)?.bulk(),
        })
    }

    /// Writes records by whichever API suits their number (the core's choice, reported).
    #[pyo3(signature = (object, operation, records, *, external_id = None))]
    fn write(
        &self,
        py: Python<'_>,
        object: &str,
        operation: &str,
        records: &Bound<'_, PyAny>,
        external_id: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let bulk = self.handle.get(py)?.bulk();
        run_sync(
            py,
            write_call(py, &bulk, object, operation, records, external_id)?,
        )
    }

    #[pyo3(signature = (path, **options))]
    fn queue(
        &self,
        py: Python<'_>,
        path: PathBuf,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Queue> {
        queue::open_sync(py, &self.handle.get(py)?, queue::config(path, options)?)
    }

    fn metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.handle.metrics(py)
    }

    fn prometheus(&self, py: Python<'_>) -> PyResult<String> {
        self.handle.prometheus(py)
    }

    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        self.handle.on_event(py, callback)
    }

    #[getter]
    fn token_grants(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.handle.get(py)?.token_grants())
    }

    fn close(&self) {
        self.handle.close();
    }

    fn __repr__(&self) -> String {
        self.handle.repr("Client")
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }
}

/// An asyncio Salesforce client. See the package docs (`sfscale/__init__.pyi`).
#[pyclass(module = "sfscale._sfscale", frozen)]
pub struct AsyncClient {
    handle: Handle,
}

impl AsyncClient {
    fn wrap(client: sfscale::Client) -> Self {
        AsyncClient {
            handle: Handle::new(client),
        }
    }
}

#[pymethods]
impl AsyncClient {
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(AsyncClient::wrap(build(py, options, false)?))
    }

    #[classmethod]
    #[pyo3(signature = (**options))]
    fn from_env(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Ok(AsyncClient::wrap(build(py, options, true)?))
    }

    fn with_priority(&self, py: Python<'_>, priority: &str) -> PyResult<AsyncClient> {
        Ok(AsyncClient::wrap(
            self.handle.get(py)?.with_priority(ops::priority(priority)?),
        ))
    }

    fn long_running(&self, py: Python<'_>) -> PyResult<AsyncClient> {
        Ok(AsyncClient::wrap(self.handle.get(py)?.long_running()))
    }

    #[pyo3(signature = (soql, *, include_deleted = false))]
    fn query(
        &self,
        py: Python<'_>,
        soql: String,
        include_deleted: bool,
    ) -> PyResult<AsyncQueryIterator> {
        Ok(AsyncQueryIterator::new(ops::query(
            &self.handle.get(py)?,
            soql,
            include_deleted,
        )))
    }

    fn query_cached<'py>(
        &self,
        py: Python<'py>,
        soql: String,
        ttl: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::query_cached(&self.handle.get(py)?, soql, seconds("ttl", ttl)?)?,
        )
    }

    fn create<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::create(&self.handle.get(py)?, object, record)?)
    }

    #[pyo3(signature = (object, id, fields = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        id: &str,
        fields: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::get(&self.handle.get(py)?, object, id, fields)?)
    }

    fn update<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        id: &str,
        fields: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::update(&self.handle.get(py)?, object, id, fields)?)
    }

    fn delete<'py>(&self, py: Python<'py>, object: &str, id: &str) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::delete(&self.handle.get(py)?, object, id)?)
    }

    fn upsert<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        external_id_field: &str,
        value: &Bound<'py, PyAny>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::upsert(
                &self.handle.get(py)?,
                object,
                external_id_field,
                value,
                record,
            )?,
        )
    }

    #[pyo3(signature = (object, records, *, all_or_none = false))]
    fn create_many<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        records: &Bound<'py, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::create_many(&self.handle.get(py)?, object, records, all_or_none)?,
        )
    }

    #[pyo3(signature = (object, records, *, all_or_none = false))]
    fn update_many<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        records: &Bound<'py, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::update_many(&self.handle.get(py)?, object, records, all_or_none)?,
        )
    }

    #[pyo3(signature = (object, external_id_field, records, *, all_or_none = false))]
    fn upsert_many<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        external_id_field: &str,
        records: &Bound<'py, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::upsert_many(
                &self.handle.get(py)?,
                object,
                external_id_field,
                records,
                all_or_none,
            )?,
        )
    }

    #[pyo3(signature = (ids, *, all_or_none = false))]
    fn delete_many<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
        all_or_none: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::delete_many(&self.handle.get(py)?, ids, all_or_none)?,
        )
    }

    #[pyo3(signature = (subrequests, *, all_or_none = false))]
    fn composite<'py>(
        &self,
        py: Python<'py>,
        subrequests: &Bound<'py, PyAny>,
        all_or_none: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_async(
            py,
            ops::composite(&self.handle.get(py)?, subrequests, all_or_none)?,
        )
    }

    #[pyo3(signature = (object = None))]
    fn describe<'py>(&self, py: Python<'py>, object: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::describe(&self.handle.get(py)?, object)?)
    }

    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        run_async(py, ops::limits(&self.handle.get(py)?)?)
    }

    #[getter]
    fn bulk(&self, py: Python<'_>) -> PyResult<AsyncBulk> {
        Ok(AsyncBulk {
            inner: self.handle.get(py)?.bulk(),
        })
    }

    /// Writes records by whichever API suits their number (the core's choice, reported).
    #[pyo3(signature = (object, operation, records, *, external_id = None))]
    fn write<'py>(
        &self,
        py: Python<'py>,
        object: &str,
        operation: &str,
        records: &Bound<'py, PyAny>,
        external_id: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let bulk = self.handle.get(py)?.bulk();
        run_async(
            py,
            write_call(py, &bulk, object, operation, records, external_id)?,
        )
    }

    /// An awaitable of the opened `AsyncQueue`.
    #[pyo3(signature = (path, **options))]
    fn queue<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        queue::open_async(py, &self.handle.get(py)?, queue::config(path, options)?)
    }

    fn metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.handle.metrics(py)
    }

    fn prometheus(&self, py: Python<'_>) -> PyResult<String> {
        self.handle.prometheus(py)
    }

    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        self.handle.on_event(py, callback)
    }

    #[getter]
    fn token_grants(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.handle.get(py)?.token_grants())
    }

    fn __repr__(&self) -> String {
        self.handle.repr("AsyncClient")
    }

    /// Closes the client (an awaitable, for symmetry with `async with`).
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.close();
        ready(py, py.None())
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
        self.handle.close();
        ready(py, false.into_pyobject(py)?.to_owned().into_any().unbind())
    }
}
