//! What callers get back: a [`Ticket`] per accepted write, one [`QueueEvent`] per write when
//! it settles (to callbacks and subscribers), and [`DeadLetter`]s to list and replay.
//!
//! Events are delivered after the journal has recorded the outcome, so a callback never
//! announces something a crash could undo. A write settles exactly once per process; after a
//! crash between the send and the journal update the write is sent again and its event fires
//! again in the new process (at least once, like the send).
//!
//! Rejected alternative: a future per ticket. Writes outlive the process that enqueued them
//! (a restarted process delivers them), so a listener keyed by ticket number, not a future
//! held by the original caller, is what can report them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

use super::item::WriteOp;
use crate::rest::{Record, RecordError};

/// Salesforce's verdict on one write: its code, message and the fields it blames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WriteError {
    /// Salesforce's code, e.g. `REQUIRED_FIELD_MISSING`.
    pub code: String,
    /// Salesforce's message.
    pub message: String,
    /// Fields concerned.
    pub fields: Vec<String>,
}

impl From<crate::bulk::RowError> for WriteError {
    fn from(e: crate::bulk::RowError) -> WriteError {
        WriteError {
            code: e.code,
            message: e.message,
            fields: e.fields,
        }
    }
}

impl From<&RecordError> for WriteError {
    fn from(e: &RecordError) -> WriteError {
        WriteError {
            code: e.status_code.clone(),
            message: e.message.clone(),
            fields: e.fields.clone(),
        }
    }
}

/// The receipt for an accepted write: its journal sequence number, unique in its journal and
/// increasing in acceptance order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ticket(pub u64);

/// How a write settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Salesforce saved it.
    Delivered {
        /// The record's Salesforce id.
        id: Option<String>,
        /// Whether a record was created (inserts and upserts).
        created: Option<bool>,
    },
    /// Salesforce refused it; it is in the dead-letter table.
    DeadLettered {
        /// Salesforce's error.
        error: WriteError,
    },
    /// A later write to the same key replaced it before it was sent.
    Superseded {
        /// The write that replaced it.
        by: Ticket,
    },
}

/// One write's outcome, with what identifies the write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueEvent {
    /// The write's ticket.
    pub ticket: Ticket,
    /// The sObject.
    pub object: String,
    /// The operation (`insert`, `update`, `upsert`, `delete`).
    pub operation: &'static str,
    /// The collapse key, if any.
    pub key: Option<String>,
    /// How it settled.
    pub outcome: Outcome,
}

/// A write Salesforce refused, kept until it is replayed or discarded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// The write's ticket.
    pub ticket: Ticket,
    /// The sObject.
    pub object: String,
    /// The operation.
    #[serde(skip)]
    pub op: WriteOp,
    /// The collapse key, if any.
    pub key: Option<String>,
    /// The record as it was sent.
    pub record: Record,
    /// Salesforce's code, message and fields.
    pub error: WriteError,
    /// Sends made for it.
    pub attempts: u32,
    /// When it was accepted (Unix milliseconds).
    pub enqueued_at_ms: u64,
}

type Callback = Arc<dyn Fn(&QueueEvent) + Send + Sync>;

/// Delivers outcome events to callbacks (on the settling task) and subscribers.
#[derive(Clone)]
pub struct OutcomeBus {
    sender: broadcast::Sender<QueueEvent>,
    callbacks: Arc<Mutex<Vec<Callback>>>,
}

impl std::fmt::Debug for OutcomeBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeBus")
            .field("subscribers", &self.sender.receiver_count())
            .finish()
    }
}

impl OutcomeBus {
    /// A bus whose slow subscribers lose the oldest events beyond `capacity`.
    pub fn new(capacity: usize) -> OutcomeBus {
        let (sender, _) = broadcast::channel(capacity.max(1));
        OutcomeBus {
            sender,
            callbacks: Arc::default(),
        }
    }

    /// Calls `callback` for every outcome from now on; keep it quick.
    pub fn on_outcome(&self, callback: impl Fn(&QueueEvent) + Send + Sync + 'static) {
        self.callbacks.lock().push(Arc::new(callback));
    }

    /// A receiver of every outcome from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<QueueEvent> {
        self.sender.subscribe()
    }

    /// Delivers `event`; a panicking callback is contained.
    pub fn emit(&self, event: QueueEvent) {
        let callbacks = self.callbacks.lock().clone();
        for callback in &callbacks {
            if catch_unwind(AssertUnwindSafe(|| callback(&event))).is_err() {
                tracing::warn!(ticket = event.ticket.0, "a queue outcome callback panicked");
            }
        }
        // No subscriber is normal: the event then only went to callbacks.
        let _ = self.sender.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn event(n: u64) -> QueueEvent {
        QueueEvent {
            ticket: Ticket(n),
            object: "Account".into(),
            operation: "upsert",
            key: Some(format!("k{n}")),
            outcome: Outcome::Delivered {
                id: Some("001".into()),
                created: Some(true),
            },
        }
    }

    #[tokio::test]
    async fn callbacks_and_subscribers_both_see_each_outcome_even_past_a_panicking_callback() {
        let bus = OutcomeBus::new(8);
        let seen = Arc::new(AtomicU64::new(0));
        bus.on_outcome(|_| panic!("a broken callback"));
        let counter = Arc::clone(&seen);
        bus.on_outcome(move |e| {
            counter.fetch_add(e.ticket.0, Ordering::SeqCst);
        });
        let mut rx = bus.subscribe();
        bus.emit(event(3));
        bus.emit(event(4));
        assert_eq!(seen.load(Ordering::SeqCst), 7);
        assert_eq!(rx.recv().await.unwrap().ticket, Ticket(3));
        assert_eq!(rx.recv().await.unwrap().ticket, Ticket(4));
    }

    #[test]
    fn outcomes_serialise_with_a_kind_tag() {
        let json = serde_json::to_value(Outcome::Superseded { by: Ticket(9) }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "superseded", "by": 9}));
    }
}
