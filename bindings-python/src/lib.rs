//! `sfscale._sfscale`: the native half of the `sfscale` Python package.
//!
//! The binding translates and holds no policy: every decision (limits, scheduling, retries,
//! grant choice, bulk planning) is the core's. Users import `sfscale`, whose `__init__.py`
//! re-exports the classes below and defines the exception hierarchy; this module stays private.
//!
//! - [`client`]: `Client` and `AsyncClient`, one core client each, methods one line long.
//! - [`ops`]: each operation once (arguments in, a pending core call out) for both clients.
//! - [`query`]: record streams as `for` / `async for` iterators.
//! - [`bulk`]: `client.bulk` (ingest, resume, query, write).
//! - [`queue`]: `client.queue(path)`, the durable write-behind queue.
//! - [`soql`]: the core's SOQL builder.
//! - [`convert`] and [`output`]: values and results across the boundary.
//! - [`errors`]: the core's error as a `sfscale.SfscaleError` subclass.
//! - [`observe`]: event and progress callbacks, `tracing` → `logging`.
//! - [`runtime`]: blocking calls and awaitables on the core's one runtime.
//! - [`config`]: keyword arguments to the core's builder.

mod bulk;
mod client;
mod config;
mod convert;
mod errors;
mod observe;
mod ops;
mod output;
mod query;
mod queue;
mod runtime;
mod soql;

use pyo3::prelude::*;

#[pymodule]
fn _sfscale(m: &Bound<'_, PyModule>) -> PyResult<()> {
    observe::install_logging()?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::AsyncClient>()?;
    m.add_class::<bulk::Bulk>()?;
    m.add_class::<bulk::AsyncBulk>()?;
    m.add_class::<query::QueryIterator>()?;
    m.add_class::<query::AsyncQueryIterator>()?;
    m.add_class::<queue::Queue>()?;
    m.add_class::<queue::AsyncQueue>()?;
    m.add_class::<soql::Soql>()?;
    m.add_function(wrap_pyfunction!(soql::soql, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(errors::make_error, m)?)?;
    m.add_function(wrap_pyfunction!(observe::set_log_level, m)?)?;
    Ok(())
}
