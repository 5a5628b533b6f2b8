//! Promises settled from the core's one process-wide runtime (`sfscale::runtime`), and
//! cancellation through [`Cancel`].
//!
//! [`promise`] creates a JS Promise on the calling (JS) thread, spawns the core future on
//! the core's runtime and settles the Promise from there through napi's thread-safe
//! deferred: the event loop never waits for Rust. Results leave as JSON text (see `lib.rs`).
//!
//! Rejected alternative: napi's `async fn` support. It runs futures on a tokio runtime of
//! napi's own (`create_custom_tokio_runtime` takes a runtime by value, and the core's is
//! shared by every client and never handed over), which would make two runtimes per
//! process; and its rejections cannot carry the core's error fields.
//!
//! A Promise cannot be cancelled, so the JS layer turns an `AbortSignal` into
//! [`Cancel::cancel`]: the call's future is dropped, which closes its request.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::Notify;

use crate::errors::{core_err, CoreResult};
use crate::output::ToJson;

/// The core's runtime handle.
pub fn handle() -> Result<tokio::runtime::Handle> {
    sfscale::runtime::handle().map_err(core_err)
}

/// A Promise of `fut`'s output as JSON text, the future running on the core's runtime and
/// dropped when `cancel` fires.
pub fn promise<'e, T, F>(env: &'e Env, cancel: Option<&Cancel>, fut: F) -> Result<Object<'e>>
where
    T: ToJson,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<String, _>()?;
    let cancelled = cancel.map(|c| Arc::clone(&c.state));
    handle()?.spawn(async move {
        let outcome = match cancelled {
            Some(state) => tokio::select! {
                out = fut => Some(out),
                () = state.wait() => None,
            },
            None => Some(fut.await),
        };
        match outcome {
            Some(Ok(value)) => {
                let text = value.to_json().to_string();
                deferred.resolve(move |_| Ok(text))
            }
            Some(Err(error)) => deferred.reject(core_err(error)),
            None => deferred.reject(Error::from_reason("aborted")),
        }
    });
    Ok(promise)
}

#[derive(Default)]
struct CancelState {
    fired: AtomicBool,
    notify: Notify,
}

impl CancelState {
    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.fired.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A cancellation flag shared between a JS `AbortSignal` and the calls it governs.
#[napi]
#[derive(Default)]
pub struct Cancel {
    state: Arc<CancelState>,
}

#[napi]
impl Cancel {
    #[napi(constructor)]
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Drops every call started with this flag (and any started later).
    #[napi]
    pub fn cancel(&self) {
        self.state.fired.store(true, Ordering::Release);
        self.state.notify.notify_waiters();
    }
}
