//! Listeners: core events, bulk progress and queue outcomes delivered to JVM code.
//!
//! The core emits these from inside its stages, sometimes while a stage holds a lock; a
//! listener that blocked (or called back into the client) there would stall or deadlock the
//! pipeline. So each listener gets a [`Dispatcher`]: the core's side only sends JSON text into
//! a channel, and a thread of the dispatcher's own calls the JVM, in order. The thread ends
//! when every clone of the dispatcher is dropped.

use std::sync::mpsc;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;

use crate::errors::{invalid, FfiError};

/// JVM code that receives JSON documents (an event, a progress report, a queue outcome).
/// Implemented by the Kotlin layer, which decodes the text and calls the user's `Consumer`.
#[uniffi::export(with_foreign)]
pub trait JsonListener: Send + Sync {
    /// One document; exceptions are the Kotlin layer's to catch.
    fn on_json(&self, json: String);
}

enum Message {
    Item(String),
    Flush(oneshot::Sender<()>),
}

/// Hands JSON documents to a listener from a thread of its own.
#[derive(Clone)]
pub struct Dispatcher {
    sender: mpsc::Sender<Message>,
}

impl Dispatcher {
    /// Starts the delivery thread.
    pub fn new(listener: Arc<dyn JsonListener>) -> Result<Dispatcher, FfiError> {
        let (sender, receiver) = mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("sfscale-listener".into())
            .spawn(move || {
                for message in receiver {
                    match message {
                        Message::Item(json) => listener.on_json(json),
                        Message::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })
            .map_err(|e| invalid(format!("cannot start the listener thread: {e}")))?;
        Ok(Dispatcher { sender })
    }

    /// Queues a value as JSON (never blocks; dropped if the thread is gone).
    pub fn send<T: Serialize>(&self, value: &T) {
        if let Ok(json) = serde_json::to_string(value) {
            let _ = self.sender.send(Message::Item(json));
        }
    }

    /// Resolves once everything queued before it has been delivered.
    pub async fn flush(&self) {
        let (done, receiver) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = receiver.await;
        }
    }
}
