//! Core results as Python objects: one [`ToPython`] impl per result type, so the sync and
//! async clients share every conversion.
//!
//! Serialisable core types go through their JSON form (field names are the core's); the
//! rest are written out here, field for field. Per-record outcomes carry their failure as a
//! ready-made `SfscaleError` (`"error"`), with the input row set, so an ETL job can log or
//! raise it as is.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use sfscale::bulk::query::QueryResult;
use sfscale::bulk::{BulkResult, WriteReport};
use sfscale::rest::{OrgLimits, Record, RecordResult, SubResponse, UpsertResult};

use crate::convert::{dict, serialized, to_py};
use crate::errors::core_err;

/// A core result that becomes one Python object.
pub trait ToPython: Send {
    /// The Python object.
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl ToPython for () {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl ToPython for String {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.into_pyobject(py)?.into_any().unbind())
    }
}

impl ToPython for Record {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(dict(py, &self)?.into_any().unbind())
    }
}

impl ToPython for Arc<Value> {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self)
    }
}

impl ToPython for Arc<Vec<Record>> {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut keys = crate::convert::Keys::default();
        let records = self
            .iter()
            .map(|r| keys.dict(py, r))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(records.into_pyobject(py)?.into_any().unbind())
    }
}

impl ToPython for UpsertResult {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let out = PyDict::new(py);
        out.set_item("id", self.id)?;
        out.set_item("created", self.created)?;
        Ok(out.into_any().unbind())
    }
}

impl ToPython for Vec<RecordResult> {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let results = self
            .into_iter()
            .map(|r| record_result(py, r))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(results.into_pyobject(py)?.into_any().unbind())
    }
}

fn record_result(py: Python<'_>, r: RecordResult) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("index", r.index)?;
    out.set_item("id", r.id.clone())?;
    out.set_item("success", r.success)?;
    out.set_item("created", r.created)?;
    let errors = r
        .errors
        .iter()
        .map(|e| {
            let item = PyDict::new(py);
            item.set_item("status_code", &e.status_code)?;
            item.set_item("message", &e.message)?;
            item.set_item("fields", e.fields.clone())?;
            Ok(item)
        })
        .collect::<PyResult<Vec<_>>>()?;
    out.set_item("errors", errors)?;
    out.set_item("error", r.error().map(|e| core_err(py, e).into_value(py)))?;
    Ok(out)
}

impl ToPython for Vec<SubResponse> {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let out = self
            .into_iter()
            .map(|s| {
                let item = PyDict::new(py);
                item.set_item("reference_id", s.reference_id)?;
                item.set_item("status", s.http_status_code)?;
                item.set_item("body", to_py(py, &s.body)?)?;
                item.set_item("headers", dict(py, &s.http_headers)?)?;
                Ok(item)
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(out.into_pyobject(py)?.into_any().unbind())
    }
}

impl ToPython for OrgLimits {
    fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let out = PyDict::new(py);
        for (name, limit) in self.0 {
            let item = PyDict::new(py);
            item.set_item("max", limit.max)?;
            item.set_item("remaining", limit.remaining)?;
            out.set_item(name, item)?;
        }
        Ok(out.into_any().unbind())
    }
}

macro_rules! via_serde {
    ($($t:ty),*) => {
        $(impl ToPython for $t {
            fn to_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                serialized(py, &self)
            }
        })*
    };
}

via_serde!(BulkResult, QueryResult, WriteReport);
