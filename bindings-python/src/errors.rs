//! The core's [`sfscale::Error`] as a Python exception.
//!
//! The exception classes live in Python (`sfscale/errors.py`): one class per core
//! [`ErrorKind`], picked by the kind's stable name, so they are ordinary, picklable Python
//! classes with docstrings. This file only hands over the error's fields; the table from
//! kind name to class is `sfscale.errors._CLASSES`, and a test proves it covers every name
//! [`error_kinds`] reports.
//!
//! The orphan rule forbids `impl From<sfscale::Error> for PyErr`, hence [`core_err`].

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use sfscale::{Error, ErrorKind};

/// A core call's result.
pub type CoreResult<T> = Result<T, Error>;

/// The Python exception for a core error (an instance of a `sfscale.SfscaleError` subclass).
pub fn core_err(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(exception) => PyErr::from_value(exception),
        // Only a broken installation (sfscale.errors missing) gets here; keep the message.
        Err(import_failure) => {
            let err = PyRuntimeError::new_err(error.to_string());
            err.set_cause(py, Some(import_failure));
            err
        }
    }
}

fn build<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let from_core = FROM_CORE.import(py, "sfscale.errors", "_from_core")?;
    let fields = PyDict::new(py);
    fields.set_item("kind", error.kind().name())?;
    fields.set_item("code", error.code())?;
    fields.set_item("message", error.message())?;
    fields.set_item("status", error.status())?;
    fields.set_item("fields", error.fields().to_vec())?;
    fields.set_item("row", error.row())?;
    fields.set_item("retryable", error.is_retryable())?;
    fields.set_item("operation", error.context().map(|c| c.operation.clone()))?;
    fields.set_item("object", error.context().and_then(|c| c.object.clone()))?;
    fields.set_item("text", error.to_string())?;
    from_core.call((), Some(&fields))
}

/// The stable names of every core error kind, for the binding's exhaustiveness test.
#[pyfunction]
pub fn error_kinds() -> Vec<&'static str> {
    ErrorKind::all().iter().map(|k| k.name()).collect()
}

/// Builds the exception the core would raise for `kind` and `code` (tests and users who wrap
/// other failures in sfscale's hierarchy).
#[pyfunction]
#[pyo3(signature = (kind, code, message))]
pub fn make_error(py: Python<'_>, kind: &str, code: &str, message: &str) -> PyResult<Py<PyAny>> {
    let kind = ErrorKind::all()
        .iter()
        .copied()
        .find(|k| k.name() == kind)
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("unknown error kind '{kind}'"))
        })?;
    Ok(core_err(py, Error::new(kind, code, message))
        .into_value(py)
        .into_any())
}
