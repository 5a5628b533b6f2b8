//! Observability into JS: core events and bulk progress delivered to JS callbacks.
//!
//! The core emits from inside its stages, on its own tasks, sometimes while a stage holds a
//! lock; nothing there may wait for the JS thread. So each callback is a weak thread-safe
//! function called in non-blocking mode: the value is serialized to JSON text and queued for
//! the event loop, and the core's task carries on. Weak: a listener never keeps the process
//! alive on its own. The JS layer parses the text and emits it (`EventEmitter` semantics).
//!
//! Logs: a `tracing` layer forwards events of `sfscale*` targets at or above the level given
//! to [`set_log_listener`] the same way (the JS layer's `setLogListener`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use parking_lot::RwLock;
use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

use crate::errors::invalid;

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

/// The lowest level forwarded (`tracing`'s order: TRACE 0 ... ERROR 4).
static LOG_LEVEL: AtomicU8 = AtomicU8::new(2);

/// Where core log records go, once a listener is set.
static LOG_SINK: RwLock<Option<Sink>> = RwLock::new(None);

fn rank(level: &Level) -> u8 {
    match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        Level::ERROR => 4,
    }
}

/// One core log record for JS.
#[derive(Serialize)]
struct LogRecord<'a> {
    level: &'a str,
    target: &'a str,
    message: String,
}

/// The `tracing` layer that forwards `sfscale*` events to the log listener.
struct ToListener;

impl<S: Subscriber> Layer<S> for ToListener {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("sfscale")
            && rank(metadata.level()) >= LOG_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let Some(sink) = LOG_SINK.read().clone() else {
            return;
        };
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        sink.send(&LogRecord {
            level: meta.level().as_str(),
            target: meta.target(),
            message: text.0,
        });
    }
}

/// `message key=value key=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let sep = if self.0.is_empty() { "" } else { " " };
        if field.name() == "message" {
            self.0 = format!("{value:?}{sep}{}", self.0);
        } else {
            let _ = write!(self.0, "{sep}{}={value:?}", field.name());
        }
    }
}

/// Sends the core's log records at `level` (`trace`, `debug`, `info`, `warn`, `error`) and
/// above to `listener` as JSON text (`{level, target, message}`); `null` stops forwarding.
/// The forwarding layer becomes the process's `tracing` subscriber on first use (a subscriber
/// installed earlier by someone else is left in place).
#[napi(ts_args_type = "listener: ((record: string) => void) | null, level: string")]
pub fn set_log_listener(listener: Option<Callback>, level: String) -> Result<()> {
    let rank = match level.to_ascii_lowercase().as_str() {
        "trace" => 0,
        "debug" => 1,
        "info" => 2,
        "warn" => 3,
        "error" => 4,
        other => {
            return Err(invalid(format!(
                "unknown log level '{other}' (trace, debug, info, warn, error)"
            )))
        }
    };
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(ToListener),
        );
    });
    LOG_LEVEL.store(rank, Ordering::Relaxed);
    *LOG_SINK.write() = listener.map(sink);
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}
