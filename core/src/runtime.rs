//! The one tokio runtime of a process, for callers that have none: the language bindings.
//!
//! Rust users run the client on their own runtime. A binding (Python, Node, JVM) has no
//! runtime of its own, and must not create one per client: every client of a process shares
//! this one, created lazily on first use (a multi-thread runtime with I/O and timers, worker
//! threads named `sfscale-worker`).
//!
//! Fork safety: a tokio runtime does not survive `fork()` (its worker threads are not copied
//! into the child). [`handle`] remembers the process id the runtime was built in; in a forked
//! child it builds a fresh runtime and leaks the parent's copy, whose threads do not exist
//! there and which therefore cannot be shut down (joining them would hang). Clients created
//! before a fork hold connections registered with the parent's runtime and must be created
//! again in the child.
//!
//! Rejected alternative: a runtime per client. Each would bring its own worker threads and
//! connection reactor, and a script that builds a client per job would grow threads without
//! bound.

use std::sync::OnceLock;

use parking_lot::Mutex;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::Error;

/// The runtime and the process it was built in.
struct Current {
    pid: u32,
    runtime: &'static Runtime,
}

fn slot() -> &'static Mutex<Option<Current>> {
    static SLOT: OnceLock<Mutex<Option<Current>>> = OnceLock::new();
    SLOT.get_or_init(|| Mutex::new(None))
}

/// The process-wide runtime's handle, creating the runtime on first use and again after a
/// fork. Fails only if the operating system refuses the worker threads.
pub fn handle() -> Result<Handle, Error> {
    let pid = std::process::id();
    let mut current = slot().lock();
    if let Some(c) = current.as_ref().filter(|c| c.pid == pid) {
        return Ok(c.runtime.handle().clone());
    }
    let runtime = Builder::new_multi_thread()
        .enable_all()
        .thread_name("sfscale-worker")
        .build()
        .map_err(|e| {
            Error::new(
                crate::ErrorKind::Config,
                "RUNTIME",
                format!("cannot start the tokio runtime: {e}"),
            )
        })?;
    // Leaked on purpose: it lives for the process, and after a fork the parent's copy must
    // never be dropped (see the module docs).
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *current = Some(Current { pid, runtime });
    Ok(runtime.handle().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_the_shared_workers() {
        let spawned = handle()
            .unwrap()
            .spawn(async { std::thread::current().name().map(str::to_owned) });
        let name = handle().unwrap().block_on(spawned).unwrap();
        assert_eq!(name.as_deref(), Some("sfscale-worker"));
    }
}
