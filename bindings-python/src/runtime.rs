//! How Rust futures meet Python: blocking calls for `Client`, awaitables for `AsyncClient`,
//! both on the core's one process-wide runtime (`sfscale::runtime`).
//!
//! - [`block_on`] runs a future to completion with the GIL released, so other Python threads
//!   run meanwhile. It wakes every [`SIGNAL_CHECK`] to let Python handle signals: Ctrl-C
//!   raises `KeyboardInterrupt` and drops the future, which cancels the Rust work.
//! - [`awaitable`] turns a future into an asyncio awaitable with `pyo3-async-runtimes`,
//!   spawned on the core's runtime through [`CoreRuntime`] rather than on the runtime that
//!   crate would otherwise create; cancelling the asyncio task drops the Rust future.
//!
//! Rejected alternative: `pyo3_async_runtimes::tokio::init_with_runtime`. It keeps a
//! `&'static Runtime` set once per process, which after a `fork()` would point at a runtime
//! whose threads do not exist in the child; the core's accessor rebuilds it there.

use std::future::Future;
use std::pin::{pin, Pin};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};
use pyo3_async_runtimes::TaskLocals;
use tokio::runtime::Handle;

use crate::errors::{core_err, CoreResult};

/// How often a blocking call lets Python check for signals (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The core's runtime, or the core's error as a Python exception.
pub fn handle(py: Python<'_>) -> PyResult<Handle> {
    sfscale::runtime::handle().map_err(|e| core_err(py, e))
}

/// Runs `fut` with the GIL released and returns its output; Python signal handlers run
/// every [`SIGNAL_CHECK`], and an exception from one (Ctrl-C) drops the future.
pub fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = handle(py)?;
    let mut fut = pin!(fut);
    loop {
        let step = py.detach(|| {
            handle.block_on(async { tokio::time::timeout(SIGNAL_CHECK, fut.as_mut()).await })
        });
        match step {
            Ok(output) => return Ok(output),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}

/// Runs a core call to completion (see [`block_on`]) and maps its error.
pub fn call<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = CoreResult<T>> + Send,
    T: Send,
{
    block_on(py, fut)?.map_err(|e| core_err(py, e))
}

/// An asyncio awaitable resolving to what `finish` makes of the core call's output.
pub fn awaitable<'py, T, F, C>(py: Python<'py>, fut: F, finish: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = CoreResult<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    handle(py)?;
    pyo3_async_runtimes::generic::future_into_py::<CoreRuntime, _, _>(py, async move {
        let output = fut.await;
        Python::attach(|py| finish(py, output.map_err(|e| core_err(py, e))?))
    })
}

/// An awaitable that is already done with `value` (no task is spawned).
pub fn ready<'py>(py: Python<'py>, value: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let future = GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()?
        .call_method0("create_future")?;
    future.call_method1("set_result", (value,))?;
    Ok(future)
}

/// `pyo3-async-runtimes`' view of the core's runtime.
pub struct CoreRuntime;

/// A task's failure to complete (it panicked or was cancelled).
pub struct TaskError(tokio::task::JoinError);

impl JoinError for TaskError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

tokio::task_local! {
    static TASK_LOCALS: TaskLocals;
}

/// The core's handle. [`awaitable`] checked it moments before, so it exists; only a failure
/// to start threads in a freshly forked child could make it fail here.
fn spawn_handle() -> Handle {
    sfscale::runtime::handle().expect("the sfscale runtime was started by the calling method")
}

impl Runtime for CoreRuntime {
    type JoinError = TaskError;
    type JoinHandle = Pin<Box<dyn Future<Output = Result<(), TaskError>> + Send>>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let task = spawn_handle().spawn(fut);
        Box::pin(async move { task.await.map_err(TaskError) })
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let task = spawn_handle().spawn_blocking(f);
        Box::pin(async move { task.await.map_err(TaskError) })
    }
}

impl ContextExt for CoreRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(Clone::clone).ok()
    }
}
