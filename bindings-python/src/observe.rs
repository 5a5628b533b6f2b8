//! Observability into Python: event and progress callbacks, and the core's `tracing` events
//! forwarded to the standard `logging` module.
//!
//! Nothing here calls Python from the core's own tasks. The core emits events and progress
//! from inside its stages, sometimes while a stage holds a lock; if that task then waited for
//! the GIL while a Python thread holding the GIL waited for the same lock (reading metrics,
//! say), both would hang. So each callback gets a [`Dispatcher`]: the core's side only sends
//! into a channel, and a thread of the dispatcher's own takes the GIL and calls Python. A
//! callback that raises is reported through `sys.unraisablehook` and does not stop delivery.
//!
//! Logging: a `tracing` layer turns each event of an `sfscale*` target at or above the level
//! set by `set_log_level` (default `logging.INFO`) into a record for the logger named after
//! the target (`sfscale::limits::guard` → `sfscale.limits.guard`), delivered the same way.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::sync::oneshot;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

enum Message<T> {
    Item(T),
    Flush(oneshot::Sender<()>),
}

/// Hands values to a Python callable from a thread of its own, in order.
pub struct Dispatcher<T> {
    sender: mpsc::Sender<Message<T>>,
}

impl<T> Clone for Dispatcher<T> {
    fn clone(&self) -> Self {
        Dispatcher {
            sender: self.sender.clone(),
        }
    }
}

/// How a value becomes the callback's argument.
pub type Convert<T> = fn(Python<'_>, T) -> PyResult<Py<PyAny>>;

impl<T: Send + 'static> Dispatcher<T> {
    /// Starts a delivery thread running `handle` for each value; it ends when every clone of
    /// the dispatcher is dropped.
    pub fn new(handle: impl Fn(Python<'_>, T) -> PyResult<()> + Send + 'static) -> PyResult<Self> {
        let (sender, receiver) = mpsc::channel::<Message<T>>();
        std::thread::Builder::new()
            .name("sfscale-callbacks".into())
            .spawn(move || deliver(&receiver, handle))
            .map_err(|e| {
                pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "cannot start the callback thread: {e}"
                ))
            })?;
        Ok(Dispatcher { sender })
    }

    /// Calls `callback(convert(value))` for each value.
    pub fn calling(callback: Py<PyAny>, convert: Convert<T>) -> PyResult<Self> {
        Dispatcher::new(move |py, value| callback.call1(py, (convert(py, value)?,)).map(drop))
    }

    /// Queues a value (never blocks; dropped if the delivery thread is gone).
    pub fn send(&self, value: T) {
        let _ = self.sender.send(Message::Item(value));
    }

    /// Resolves once every value queued before it has been delivered.
    pub fn flush(&self) -> oneshot::Receiver<()> {
        let (done, receiver) = oneshot::channel();
        let _ = self.sender.send(Message::Flush(done));
        receiver
    }
}

fn deliver<T>(
    receiver: &mpsc::Receiver<Message<T>>,
    handle: impl Fn(Python<'_>, T) -> PyResult<()>,
) {
    for message in receiver {
        match message {
            Message::Item(value) => Python::attach(|py| {
                if let Err(err) = handle(py, value) {
                    err.write_unraisable(py, None);
                }
            }),
            Message::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// The lowest `logging` level forwarded (Python's numbers: 10 debug ... 40 error).
static LOG_LEVEL: AtomicU8 = AtomicU8::new(20);

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// One log record on its way to `logging`.
struct LogRecord {
    logger: String,
    level: u8,
    message: String,
}

fn log_to_python(py: Python<'_>, record: LogRecord) -> PyResult<()> {
    static GET_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let logger = GET_LOGGER
        .import(py, "logging", "getLogger")?
        .call1((record.logger,))?;
    logger
        .call_method1("log", (record.level, record.message))
        .map(drop)
}

/// The `tracing` layer that feeds the logging dispatcher. The dispatcher's thread does not
/// survive `fork()`, so a forked child starts its own on its first event.
struct ToLogging {
    current: parking_lot::Mutex<(u32, Option<Dispatcher<LogRecord>>)>,
}

impl ToLogging {
    fn dispatcher(&self) -> Option<Dispatcher<LogRecord>> {
        let pid = std::process::id();
        let mut current = self.current.lock();
        if current.0 != pid {
            *current = (pid, Dispatcher::new(log_to_python).ok());
        }
        current.1.clone()
    }
}

impl<S: Subscriber> Layer<S> for ToLogging {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("sfscale")
            && python_level(metadata.level()) >= LOG_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        let Some(dispatcher) = self.dispatcher() else {
            return;
        };
        dispatcher.send(LogRecord {
            logger: meta.target().replace("::", "."),
            level: python_level(meta.level()),
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

/// Installs the forwarding layer as the process's `tracing` subscriber (once; a subscriber
/// installed earlier by someone else is left in place).
pub fn install_logging() -> PyResult<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let dispatcher = Dispatcher::new(log_to_python)?;
    let layer = ToLogging {
        current: parking_lot::Mutex::new((std::process::id(), Some(dispatcher))),
    };
    let subscriber = tracing_subscriber::registry().with(layer);
    let _ = tracing::subscriber::set_global_default(subscriber);
    let _ = INSTALLED.set(());
    Ok(())
}

/// Forwards core log events at `level` (a `logging` level number) and above.
#[pyfunction]
pub fn set_log_level(level: u8) {
    LOG_LEVEL.store(level, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}
