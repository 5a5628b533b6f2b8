//! `sfscale.soql(...)`: the core's SOQL builder, whose bound values are always escaped.
//!
//! Each method returns a new builder (the Python object is immutable, like `str`), and
//! `build()` (or `str(...)`) renders the query or raises `InvalidInputError` naming the first
//! bad identifier or value. Python values map to SOQL literals as in `convert`: `None`, `bool`,
//! `int`, `float`, `str`, aware `datetime` (UTC), `date`, `Decimal`.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDate, PyDateTime, PyFloat, PyInt, PyString};
use sfscale::soql::{Cond, Op, Order, Soql as CoreSoql, SoqlValue};

use crate::convert::{to_json, At};
use crate::errors::core_err;

/// A SOQL `SELECT` being built. Make one with `sfscale.soql(object, fields)`.
#[pyclass(module = "sfscale._sfscale", frozen, name = "Soql")]
#[derive(Clone)]
pub struct Soql {
    inner: CoreSoql,
}

/// `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`.
#[pyfunction]
#[pyo3(signature = (object, fields = None))]
pub fn soql(object: &str, fields: Option<Vec<String>>) -> Soql {
    let select = match fields {
        Some(fields) => CoreSoql::select(fields),
        None => CoreSoql::count(),
    };
    Soql {
        inner: select.from(object),
    }
}

fn op(name: &str) -> PyResult<Op> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "=" | "==" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "LIKE" => Op::Like,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown operator '{name}' (=, !=, <, <=, >, >=, LIKE)"
            )))
        }
    })
}

/// A Python value as a SOQL literal value.
fn literal(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<SoqlValue> {
    if obj.is_none() {
        return Ok(SoqlValue::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(SoqlValue::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        return Ok(SoqlValue::Int(obj.extract()?));
    }
    if obj.cast::<PyFloat>().is_ok() {
        return Ok(SoqlValue::Float(obj.extract()?));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(SoqlValue::Str(s.to_cow()?.into_owned()));
    }
    let text = || -> PyResult<String> {
        match to_json(obj, At { field, row: None })? {
            serde_json::Value::String(s) => Ok(s),
            other => Ok(other.to_string()),
        }
    };
    if obj.cast::<PyDateTime>().is_ok() {
        let parsed = DateTime::parse_from_rfc3339(&text()?)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        return Ok(SoqlValue::DateTime(parsed.with_timezone(&Utc)));
    }
    if obj.cast::<PyDate>().is_ok() {
        let parsed = NaiveDate::parse_from_str(&text()?, "%Y-%m-%d")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        return Ok(SoqlValue::Date(parsed));
    }
    match to_json(obj, At { field, row: None })? {
        serde_json::Value::Number(n) => Ok(SoqlValue::Float(n.as_f64().unwrap_or(f64::NAN))),
        _ => Err(PyTypeError::new_err(format!(
            "field '{field}': a SOQL value must be a scalar"
        ))),
    }
}

fn literals(items: &Bound<'_, PyAny>, field: &str) -> PyResult<Vec<SoqlValue>> {
    items.try_iter()?.map(|v| literal(&v?, field)).collect()
}

/// `(field, op, value)` as a condition.
fn condition(triple: &Bound<'_, PyAny>) -> PyResult<Cond> {
    let (field, operator, v): (String, String, Bound<'_, PyAny>) = triple.extract()?;
    Ok(Cond::cmp(&field, op(&operator)?, literal(&v, &field)?))
}

impl Soql {
    fn with(&self, cond: Cond) -> Soql {
        Soql {
            inner: self.inner.clone().and(cond),
        }
    }
}

#[pymethods]
impl Soql {
    /// `AND field = value`.
    fn where_eq(&self, field: &str, value: &Bound<'_, PyAny>) -> PyResult<Soql> {
        Ok(self.with(Cond::eq(field, literal(value, field)?)))
    }

    /// `AND field <op> value`.
    fn where_cmp(&self, field: &str, operator: &str, value: &Bound<'_, PyAny>) -> PyResult<Soql> {
        Ok(self.with(Cond::cmp(field, op(operator)?, literal(value, field)?)))
    }

    /// `AND field IN (values)`.
    fn where_in(&self, field: &str, values: &Bound<'_, PyAny>) -> PyResult<Soql> {
        Ok(self.with(Cond::is_in(field, literals(values, field)?)))
    }

    /// `AND field NOT IN (values)`.
    fn where_not_in(&self, field: &str, values: &Bound<'_, PyAny>) -> PyResult<Soql> {
        Ok(self.with(Cond::not_in(field, literals(values, field)?)))
    }

    /// `AND field = null`.
    fn where_null(&self, field: &str) -> Soql {
        self.with(Cond::is_null(field))
    }

    /// `AND (a OR b ...)` from `(field, op, value)` triples.
    fn where_any(&self, conditions: &Bound<'_, PyAny>) -> PyResult<Soql> {
        let conds = conditions
            .try_iter()?
            .map(|c| condition(&c?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(self.with(Cond::any(conds)))
    }

    /// `ORDER BY field ASC|DESC` (repeatable).
    #[pyo3(signature = (field, descending = false))]
    fn order_by(&self, field: &str, descending: bool) -> Soql {
        let dir = if descending { Order::Desc } else { Order::Asc };
        Soql {
            inner: self.inner.clone().order_by(field, dir),
        }
    }

    /// `LIMIT n`.
    fn limit(&self, n: u64) -> Soql {
        Soql {
            inner: self.inner.clone().limit(n),
        }
    }

    /// `OFFSET n`.
    fn offset(&self, n: u64) -> Soql {
        Soql {
            inner: self.inner.clone().offset(n),
        }
    }

    /// The query text.
    fn build(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.build().map_err(|e| core_err(py, e))
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.build(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.inner.build() {
            Ok(text) => format!("Soql({text:?})"),
            Err(e) => format!("Soql(<invalid: {}>)", core_err(py, e)),
        }
    }
}
