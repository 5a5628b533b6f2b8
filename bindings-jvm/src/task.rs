//! Running exported async functions on the core's one runtime.
//!
//! uniffi polls an exported future from the foreign side's threads, where no tokio runtime
//! is entered; the core's futures need one (reqwest, timers). So each export spawns its work
//! onto `sfscale::runtime::handle()` and awaits the task. The JoinHandle is wrapped in
//! [`Spawned`], which aborts the task when dropped: Kotlin cancelling the coroutine (or Java
//! cancelling the `CompletableFuture`) drops the uniffi future, which drops the guard, which
//! cancels the Rust work. Rejected alternative: uniffi's `async_runtime = "tokio"`, which
//! brings a second runtime next to the core's.

use std::future::Future;

use sfscale::Error;
use tokio::task::JoinHandle;

use crate::errors::FfiError;

/// A task on the core's runtime, aborted when dropped before it finished.
struct Spawned<T>(JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `work` on the core's runtime and returns its result; dropping the returned future
/// cancels `work`.
pub async fn on_core<T, F>(work: F) -> Result<T, FfiError>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let handle = sfscale::runtime::handle()?;
    let mut task = Spawned(handle.spawn(work));
    match (&mut task.0).await {
        Ok(result) => Ok(result?),
        Err(join) if join.is_panic() => Err(Error::new(
            sfscale::ErrorKind::Salesforce,
            "INTERNAL",
            format!("the sfscale task panicked: {join}"),
        )
        .into()),
        Err(_) => Err(Error::invalid_input("the call was cancelled").into()),
    }
}

/// Runs a blocking closure (a call into the JVM) on the core's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::invalid_input(format!("a callback into the JVM failed: {e}")))
}
