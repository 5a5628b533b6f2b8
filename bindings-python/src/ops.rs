//! Every client operation once: Python arguments in, a pending core call out.
//!
//! Each function converts its arguments while the GIL is held and returns a [`Pending`]: a
//! `'static` future of the core call whose output knows how to become Python. The sync client
//! runs it with [`run_sync`] (GIL released while it runs), the async client with
//! [`run_async`] (an asyncio awaitable), so the two clients cannot drift apart.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use sfscale::rest::Subrequest;
use sfscale::Error;

use crate::convert::{record, records, to_json, At};
use crate::errors::CoreResult;
use crate::output::ToPython;
use crate::runtime::{awaitable, call};

/// Turns a finished call's output into Python (needs the GIL, so runs after the call).
pub type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;
/// A core call not yet run.
pub type Pending = Pin<Box<dyn Future<Output = CoreResult<Finish>> + Send>>;
/// A stream of records (REST query, Bulk query).
pub type Records = sfscale::rest::RecordStream;

/// Wraps a core future whose output converts with [`ToPython`].
pub fn pending<T: ToPython + 'static>(
    fut: impl Future<Output = CoreResult<T>> + Send + 'static,
) -> Pending {
    Box::pin(async move {
        fut.await
            .map(|v| Box::new(move |py: Python<'_>| v.to_python(py)) as Finish)
    })
}

/// Runs a call with the GIL released and returns its Python result.
pub fn run_sync(py: Python<'_>, call_: Pending) -> PyResult<Py<PyAny>> {
    call(py, call_)?(py)
}

/// A call as an asyncio awaitable.
pub fn run_async(py: Python<'_>, call_: Pending) -> PyResult<Bound<'_, PyAny>> {
    awaitable(py, call_, |py, finish| finish(py))
}

pub fn create(c: &sfscale::Client, object: &str, fields: &Bound<'_, PyAny>) -> PyResult<Pending> {
    let (c, object, fields) = (c.clone(), object.to_owned(), record(fields, None)?);
    Ok(pending(async move { c.create(&object, &fields).await }))
}

pub fn get(
    c: &sfscale::Client,
    object: &str,
    id: &str,
    fields: Option<Vec<String>>,
) -> PyResult<Pending> {
    let (c, object, id, fields) = (
        c.clone(),
        object.to_owned(),
        id.to_owned(),
        fields.unwrap_or_default(),
    );
    Ok(pending(async move {
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        c.get(&object, &id, &fields).await
    }))
}

pub fn update(
    c: &sfscale::Client,
    object: &str,
    id: &str,
    fields: &Bound<'_, PyAny>,
) -> PyResult<Pending> {
    let (c, object, id, fields) = (
        c.clone(),
        object.to_owned(),
        id.to_owned(),
        record(fields, None)?,
    );
    Ok(pending(
        async move { c.update(&object, &id, &fields).await },
    ))
}

pub fn delete(c: &sfscale::Client, object: &str, id: &str) -> PyResult<Pending> {
    let (c, object, id) = (c.clone(), object.to_owned(), id.to_owned());
    Ok(pending(async move { c.delete(&object, &id).await }))
}

pub fn upsert(
    c: &sfscale::Client,
    object: &str,
    external_id_field: &str,
    value: &Bound<'_, PyAny>,
    fields: &Bound<'_, PyAny>,
) -> PyResult<Pending> {
    let value = match to_json(
        value,
        At {
            field: external_id_field,
            row: None,
        },
    )? {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let (c, object, ext, fields) = (
        c.clone(),
        object.to_owned(),
        external_id_field.to_owned(),
        record(fields, None)?,
    );
    Ok(pending(async move {
        c.upsert(&object, &ext, &value, &fields).await
    }))
}

pub fn create_many(
    c: &sfscale::Client,
    object: &str,
    rows: &Bound<'_, PyAny>,
    all_or_none: bool,
) -> PyResult<Pending> {
    let (c, object, rows) = (c.clone(), object.to_owned(), records(rows)?);
    Ok(pending(async move {
        c.create_many(&object, &rows, all_or_none).await
    }))
}

pub fn update_many(
    c: &sfscale::Client,
    object: &str,
    rows: &Bound<'_, PyAny>,
    all_or_none: bool,
) -> PyResult<Pending> {
    let (c, object, rows) = (c.clone(), object.to_owned(), records(rows)?);
    Ok(pending(async move {
        c.update_many(&object, &rows, all_or_none).await
    }))
}

pub fn upsert_many(
    c: &sfscale::Client,
    object: &str,
    external_id_field: &str,
    rows: &Bound<'_, PyAny>,
    all_or_none: bool,
) -> PyResult<Pending> {
    let (c, object, ext, rows) = (
        c.clone(),
        object.to_owned(),
        external_id_field.to_owned(),
        records(rows)?,
    );
    Ok(pending(async move {
        c.upsert_many(&object, &ext, &rows, all_or_none).await
    }))
}

pub fn delete_many(c: &sfscale::Client, ids: Vec<String>, all_or_none: bool) -> PyResult<Pending> {
    let c = c.clone();
    Ok(pending(async move {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        c.delete_many(&ids, all_or_none).await
    }))
}

pub fn composite(
    c: &sfscale::Client,
    subrequests: &Bound<'_, PyAny>,
    all_or_none: bool,
) -> PyResult<Pending> {
    let subs = subrequests
        .try_iter()?
        .enumerate()
        .map(|(row, item)| subrequest(&item?, row))
        .collect::<PyResult<Vec<_>>>()?;
    let c = c.clone();
    Ok(pending(async move { c.composite(all_or_none, subs).await }))
}

/// `{"method", "url", "reference_id", "body"?}` as a core subrequest.
fn subrequest(item: &Bound<'_, PyAny>, row: usize) -> PyResult<Subrequest> {
    let d = item.cast::<PyDict>()?;
    let text = |key: &str| -> PyResult<String> {
        d.get_item(key)?
            .ok_or_else(|| {
                pyo3::exceptions::PyKeyError::new_err(format!("subrequest {row} has no '{key}'"))
            })?
            .extract()
    };
    let sub = Subrequest::new(&text("method")?, text("url")?, text("reference_id")?);
    match d.get_item("body")? {
        Some(body) if !body.is_none() => Ok(sub.body(to_json(
            &body,
            At {
                field: "body",
                row: Some(row),
            },
        )?)),
        _ => Ok(sub),
    }
}

pub fn describe(c: &sfscale::Client, object: Option<&str>) -> PyResult<Pending> {
    let (c, object) = (c.clone(), object.map(str::to_owned));
    Ok(pending(async move {
        match object {
            Some(object) => c.describe(&object).await,
            None => c.describe_global().await,
        }
    }))
}

pub fn limits(c: &sfscale::Client) -> PyResult<Pending> {
    let c = c.clone();
    Ok(pending(async move { c.limits().await }))
}

pub fn query_cached(c: &sfscale::Client, soql: String, ttl: Duration) -> PyResult<Pending> {
    let c = c.clone();
    Ok(pending(async move { c.query_cached(soql, ttl).await }))
}

/// The record stream of a REST query (`queryAll` with `include_deleted`).
pub fn query(c: &sfscale::Client, soql: String, include_deleted: bool) -> Records {
    if include_deleted {
        c.query_all(soql)
    } else {
        c.query(soql)
    }
}

/// The `Priority` whose core name is `name`.
pub fn priority(name: &str) -> PyResult<sfscale::Priority> {
    let all = sfscale::Priority::ALL;
    all.into_iter().find(|p| p.name() == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|p| p.name()).collect();
        pyo3::exceptions::PyValueError::new_err(format!(
            "unknown priority '{name}' ({})",
            names.join(", ")
        ))
    })
}

/// An error as the core reports a closed client's use.
pub fn closed() -> Error {
    Error::invalid_input("the client is closed")
}
