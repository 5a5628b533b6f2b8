//! Values across the boundary: Python objects to Salesforce JSON values and back.
//!
//! Python → Salesforce (records you write, values you bind into SOQL):
//!
//! | Python | Salesforce |
//! |---|---|
//! | `None` | `null` (clears the field on update/upsert) |
//! | `bool`, `int`, `float`, `str` | JSON boolean, number, number, string |
//! | `float('nan')` | `null`: pandas' missing value (infinities are refused) |
//! | aware `datetime` | `2024-05-01T12:30:00.000Z` (converted to UTC) |
//! | naive `datetime` | `TypeError`: Salesforce stores instants, and a naive one has no zone |
//! | `date` | `2024-05-01` |
//! | `Decimal` | JSON number, when exact in 15 significant digits; else `ValueError` |
//! | `dict`, `list` | JSON object, array (relationship references like `{"Account": {"Ext__c": "A1"}}`) |
//! | numpy scalars | via `.item()` |
//!
//! Anything else is a `TypeError` naming the field and, for many-record calls, the row.
//!
//! Salesforce → Python: JSON as is (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
//! Date and datetime fields stay the strings Salesforce sent (`"2024-05-01"`,
//! `"2024-05-01T12:30:00.000+0000"`): a record carries no field types, and guessing from a
//! string's shape would turn a text field that happens to look like a date into a `date`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use sfscale::bulk::encode::Fields;

/// Where a value sits, for error messages: the field and, in many-record calls, the row.
#[derive(Clone, Copy)]
pub struct At<'a> {
    /// Field name (or the SOQL binding's field).
    pub field: &'a str,
    /// Input row, 0-based.
    pub row: Option<usize>,
}

impl At<'_> {
    fn describe(&self) -> String {
        match self.row {
            Some(row) => format!("field '{}' of row {row}", self.field),
            None => format!("field '{}'", self.field),
        }
    }
}

/// Significant digits an `f64` carries exactly.
const EXACT_DIGITS: usize = 15;

/// A Python mapping as a Salesforce record.
pub fn record(obj: &Bound<'_, PyAny>, row: Option<usize>) -> PyResult<Map<String, Value>> {
    let dict = as_dict(obj, row)?;
    let mut out = Map::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let field = field_name(&key, row)?;
        let value = to_json(&value, At { field: &field, row })?;
        out.insert(field, value);
    }
    Ok(out)
}

/// A Python mapping as the core's `(field, value)` list, for a stream of many records: no
/// JSON object is built, and field names come from `names` when the keys are the previous
/// record's.
pub fn fields(obj: &Bound<'_, PyAny>, row: usize, names: &mut FieldNames) -> PyResult<Fields> {
    let dict = as_dict(obj, Some(row))?;
    let mut out = Vec::with_capacity(dict.len());
    for (i, (key, value)) in dict.iter().enumerate() {
        let field = names.name(i, &key, row)?;
        let value = to_json(
            &value,
            At {
                field: &field,
                row: Some(row),
            },
        )?;
        out.push((field, value));
    }
    Ok(out)
}

/// The field names of the previous record, by position, with the key objects they came
/// from. A stream's dicts nearly always share their key strings (literals, interned names),
/// so a name is read out of Python once per stream rather than once per record; a key that
/// is not the same object is read again.
#[derive(Default)]
pub struct FieldNames {
    seen: Vec<(Py<PyAny>, String)>,
}

impl FieldNames {
    fn name(&mut self, i: usize, key: &Bound<'_, PyAny>, row: usize) -> PyResult<String> {
        if let Some((known, name)) = self.seen.get(i) {
            if known.is(key) {
                return Ok(name.clone());
            }
        }
        let name = field_name(key, Some(row))?;
        let entry = (key.clone().unbind(), name.clone());
        match self.seen.get_mut(i) {
            Some(slot) => *slot = entry,
            None => self.seen.push(entry),
        }
        Ok(name)
    }
}

fn as_dict<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    row: Option<usize>,
) -> PyResult<&'a Bound<'py, PyDict>> {
    obj.cast::<PyDict>().map_err(|_| {
        let at = row.map_or(String::new(), |r| format!(" (row {r})"));
        PyTypeError::new_err(format!(
            "a record must be a dict of field name to value{at}, got {}",
            type_name(obj)
        ))
    })
}

fn field_name(key: &Bound<'_, PyAny>, row: Option<usize>) -> PyResult<String> {
    key.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "field names must be str, got {} in row {row:?}",
            type_name(key)
        ))
    })
}

/// Records from a Python iterable of dicts.
pub fn records(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Map<String, Value>>> {
    obj.try_iter()?
        .enumerate()
        .map(|(row, item)| record(&item?, Some(row)))
        .collect()
}

/// One Python value as JSON, following the table in the module docs.
pub fn to_json(obj: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<Value> {
    // Most common first; type checks, not failed casts (a failed cast builds an error value).
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(
            obj.cast::<PyString>()?.to_cow()?.into_owned(),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.is_truthy()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return int(obj.cast::<PyInt>()?, at);
    }
    if obj.is_instance_of::<PyFloat>() {
        return float(obj.cast::<PyFloat>()?.value(), at);
    }
    if let Ok(dt) = obj.cast::<PyDateTime>() {
        return datetime(dt, at);
    }
    if let Ok(d) = obj.cast::<PyDate>() {
        return Ok(Value::String(d.call_method0("isoformat")?.extract()?));
    }
    if obj.is_instance(decimal_type(obj.py())?)? {
        return decimal(obj, at);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        return nested(dict, at);
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        return obj
            .try_iter()?
            .map(|item| to_json(&item?, at))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if obj.hasattr("item")? && obj.hasattr("dtype")? {
        return to_json(&obj.call_method0("item")?, at);
    }
    Err(PyTypeError::new_err(format!(
        "{}: unsupported type {} (use str, int, float, bool, None, datetime, date, Decimal, dict or list)",
        at.describe(),
        type_name(obj)
    )))
}

fn int(i: &Bound<'_, PyInt>, at: At<'_>) -> PyResult<Value> {
    if let Ok(v) = i.extract::<i64>() {
        return Ok(Value::from(v));
    }
    i.extract::<u64>().map(Value::from).map_err(|_| {
        PyValueError::new_err(format!(
            "{}: integer {i} is too large for Salesforce",
            at.describe()
        ))
    })
}

fn float(v: f64, at: At<'_>) -> PyResult<Value> {
    if v.is_nan() {
        return Ok(Value::Null);
    }
    Number::from_f64(v).map(Value::Number).ok_or_else(|| {
        PyValueError::new_err(format!("{}: {v} is not a finite number", at.describe()))
    })
}

fn datetime(dt: &Bound<'_, PyDateTime>, at: At<'_>) -> PyResult<Value> {
    let py = dt.py();
    if dt.call_method0("utcoffset")?.is_none() {
        return Err(PyTypeError::new_err(format!(
            "{}: naive datetime {dt}; attach a timezone (e.g. datetime.timezone.utc) so the instant is unambiguous",
            at.describe()
        )));
    }
    static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let utc = UTC.import(py, "datetime", "timezone")?.getattr("utc")?;
    let text: String = dt
        .call_method1("astimezone", (utc,))?
        .call_method1("isoformat", ("T", "milliseconds"))?
        .extract()?;
    Ok(Value::String(text.replace("+00:00", "Z")))
}

fn decimal(obj: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<Value> {
    let text: String = obj.str()?.extract()?;
    let inexact = || {
        PyValueError::new_err(format!(
            "{}: Decimal {text} cannot be sent exactly",
            at.describe()
        ))
    };
    if !obj.call_method0("is_finite")?.extract::<bool>()? {
        return Err(inexact());
    }
    let digits = obj
        .call_method0("normalize")?
        .call_method0("as_tuple")?
        .getattr("digits")?
        .len()?;
    if digits > EXACT_DIGITS {
        return Err(inexact());
    }
    let value: f64 = text.parse().map_err(|_| inexact())?;
    float(value, at)
}

fn nested(dict: &Bound<'_, PyDict>, at: At<'_>) -> PyResult<Value> {
    let mut out = Map::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        out.insert(key.extract::<String>()?, to_json(&value, at)?);
    }
    Ok(Value::Object(out))
}

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, pyo3::types::PyType>> {
    static DECIMAL: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A JSON value as a Python object.
pub fn to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Keys::default().value(py, value)
}

/// A JSON object as a Python dict.
pub fn dict<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    Keys::default().dict(py, map)
}

/// Converts JSON to Python, creating each distinct key string once: the records of a page
/// share their field names, so a batch of 2,000 records needs a handful of key objects, not
/// one per field per record.
#[derive(Default)]
pub struct Keys {
    seen: std::collections::HashMap<String, Py<PyString>>,
}

impl Keys {
    fn key<'py>(&mut self, py: Python<'py>, name: &str) -> Bound<'py, PyString> {
        if let Some(key) = self.seen.get(name) {
            return key.bind(py).clone();
        }
        let key = PyString::new(py, name);
        self.seen.insert(name.to_owned(), key.clone().unbind());
        key
    }

    /// A JSON value as a Python object.
    pub fn value(&mut self, py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
        Ok(match value {
            Value::Null => py.None(),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
                (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
                _ => n
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            },
            Value::String(s) => PyString::new(py, s).into_any().unbind(),
            Value::Array(items) => {
                let list = PyList::empty(py);
                for item in items {
                    list.append(self.value(py, item)?)?;
                }
                list.into_any().unbind()
            }
            Value::Object(map) => self.dict(py, map)?.into_any().unbind(),
        })
    }

    /// A JSON object as a Python dict.
    pub fn dict<'py>(
        &mut self,
        py: Python<'py>,
        map: &Map<String, Value>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (k, v) in map {
            out.set_item(self.key(py, k), self.value(py, v)?)?;
        }
        Ok(out)
    }
}

/// Anything serialisable (core result types) as Python, through its JSON form.
pub fn serialized<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| PyValueError::new_err(format!("cannot convert a result: {e}")))?;
    to_py(py, &json)
}
