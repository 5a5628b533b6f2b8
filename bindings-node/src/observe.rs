//! Observability into JS: core events and bulk progress delivered to JS callbacks.
//!
//! The core emits from inside its stages, on its own tasks, sometimes while a stage holds a
//! lock; nothing there may wait for the JS thread. So each callback is a weak thread-safe
//! function called in non-blocking mode: the value is serialized to JSON text and queued for
//! the event loop, and the core's task carries on. Weak: a listener never keeps the process
//! alive on its own. The JS layer parses the text and emits it (`EventEmitter` semantics).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use serde::Serialize;

/// A JS function taking one string, callable from any thread, not keeping Node alive.
pub type Callback = ThreadsafeFunction<String, Unknown<'static>, String, Status, false, true>;

/// Sends values to a JS callback as JSON text.
#[derive(Clone)]
pub struct Sink(Arc<Callback>);

/// The sink of `callback`.
pub fn sink(callback: Callback) -> Sink {
    Sink(Arc::new(callback))
}

impl Sink {
    /// Queues `value` for the callback (never blocks the caller).
    pub fn send(&self, value: &impl Serialize) {
        if let Ok(text) = serde_json::to_string(value) {
            self.0.call(text, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// Resolves once every value queued before it has reached the callback (an empty
    /// string, which the JS layer ignores, makes the round trip).
    pub async fn delivered(&self) {
        let (done, called) = tokio::sync::oneshot::channel::<()>();
        let mode = ThreadsafeFunctionCallMode::NonBlocking;
        let status = self
            .0
            .call_with_return_value(String::new(), mode, move |_, _| {
                let _ = done.send(());
                Ok(())
            });
        if status == Status::Ok {
            let _ = called.await;
        }
    }
}
