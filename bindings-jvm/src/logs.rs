//! The core's `tracing` events forwarded to JVM logging.
//!
//! A `tracing` layer (installed once, as this library's global subscriber) turns each event of
//! an `sfscale*` target at or above the chosen level into a JSON record
//! (`{"target": "sfscale.tokens", "level": "INFO", "message": "..."}`) for the listener given
//! to [`forward_logs`]; the Kotlin layer hands it to `System.Logger` (or the caller's consumer).
//! Delivery goes through a [`Dispatcher`] thread, never from the core's tasks. Nothing is
//! forwarded until asked: a library should not write to an application's logs uninvited.
//! Messages are the core's, which never contain tokens or secrets.

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

use crate::errors::{invalid, FfiError};
use crate::listen::{Dispatcher, JsonListener};

/// Where records go, and the most verbose level forwarded.
static SINK: Mutex<Option<(Dispatcher, Level)>> = Mutex::new(None);

/// Forwards core log events at `level` (`ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`) and above to
/// `listener`, replacing any earlier listener.
#[uniffi::export]
pub fn forward_logs(listener: Arc<dyn JsonListener>, level: String) -> Result<(), FfiError> {
    let level = Level::from_str(&level).map_err(|_| {
        invalid(format!(
            "unknown log level '{level}' (ERROR, WARN, INFO, DEBUG, TRACE)"
        ))
    })?;
    install();
    *SINK.lock() = Some((Dispatcher::new(listener)?, level));
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

/// Stops forwarding.
#[uniffi::export]
pub fn stop_forwarding_logs() {
    SINK.lock().take();
    tracing::callsite::rebuild_interest_cache();
}

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // A subscriber installed earlier in this library is left in place.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ToJvm));
    });
}

/// The layer feeding [`SINK`].
struct ToJvm;

impl<S: Subscriber> Layer<S> for ToJvm {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("sfscale")
            && SINK
                .lock()
                .as_ref()
                .is_some_and(|(_, max)| metadata.level() <= max)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let Some(dispatcher) = SINK.lock().as_ref().map(|(d, _)| d.clone()) else {
            return;
        };
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        dispatcher.send(&serde_json::json!({
            "target": meta.target().replace("::", "."),
            "level": meta.level().as_str(),
            "message": text.0,
        }));
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
