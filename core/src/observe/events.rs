//! Events: the things an operator wants to hear about as they happen.
//!
//! Threshold crossings, throttling, an empty retry budget, token refreshes, lock contention and
//! backpressure are emitted once, at the moment they happen, to two kinds of listener: async
//! subscribers (`tokio::sync::broadcast`, for Rust and for bindings that pump a channel) and
//! plain callbacks (`on_event`, what bindings expose as `client.on_event(fn)`). Every event
//! serializes to JSON with a `kind` tag, so bindings pass it on without a parallel type.
//!
//! Rejected alternative: only logging these. Logs are for people reading later; an integration
//! needs to react now (pause a job at the reserve, page someone at 90 %), which needs values.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

/// Which daily allocation a limit event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// `DailyApiRequests` (every REST/SOAP/Bulk call).
    ApiRequests,
    /// `DailyBulkApiBatches` (Bulk ingest batches).
    BulkBatches,
}

impl Allocation {
    /// Stable label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            Allocation::ApiRequests => "api_requests",
            Allocation::BulkBatches => "bulk_batches",
        }
    }
}

/// Something worth reacting to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Usage crossed a configured fraction of the allocation (once per crossing).
    LimitThreshold {
        /// Which allocation.
        allocation: Allocation,
        /// The threshold crossed, e.g. 0.75.
        fraction: f64,
        /// Units used.
        used: u64,
        /// The allocation's maximum.
        max: u64,
    },
    /// Usage reached the reserve kept for other integrations: low-priority work now waits or fails.
    ReserveReached {
        /// Which allocation.
        allocation: Allocation,
        /// Units used.
        used: u64,
        /// The allocation's maximum.
        max: u64,
        /// The configured reserve fraction.
        reserve: f64,
    },
    /// The server pushed back (503, 429, concurrent-limit 403, timeout); concurrency was reduced.
    Throttled {
        /// The error code seen.
        code: String,
        /// The concurrency limit after the decrease.
        concurrency_limit: u32,
    },
    /// A retry was refused because the retry budget is empty.
    RetryBudgetExhausted {
        /// The error that would have been retried.
        code: String,
        /// Tokens left in the budget.
        available: u32,
    },
    /// A new access token was obtained.
    TokenRefreshed {
        /// The grant used (`jwt_bearer`, `client_credentials`, ...).
        grant: String,
    },
    /// A write hit `UNABLE_TO_LOCK_ROW`.
    LockContention {
        /// The object written.
        object: Option<String>,
        /// The attempt that failed.
        attempt: u32,
    },
    /// A caller waited for (or was refused) room in the scheduler's full queue.
    Backpressure {
        /// Callers queued at that moment.
        queued: usize,
        /// Whether the caller was refused (fail-fast) rather than made to wait.
        rejected: bool,
    },
}

type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Delivers events to subscribers and callbacks; clones share listeners.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    callbacks: Arc<Mutex<Arc<Vec<Callback>>>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("subscribers", &self.sender.receiver_count())
            .field("callbacks", &self.callbacks.lock().len())
            .finish()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new(256)
    }
}

impl EventBus {
    /// A bus whose slow subscribers lose the oldest events beyond `capacity` (default 256).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        EventBus {
            sender,
            callbacks: Arc::new(Mutex::new(Arc::new(Vec::new()))),
        }
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Calls `callback` for every event from now on, on the emitting task; keep it quick.
    pub fn on_event(&self, callback: Box<dyn Fn(&Event) + Send + Sync>) {
        let mut slot = self.callbacks.lock();
        let mut next = Vec::clone(&slot);
        next.push(Arc::from(callback));
        *slot = Arc::new(next);
    }

    /// Delivers `event`. A panicking callback is contained so it cannot break the call that emitted.
    pub fn emit(&self, event: Event) {
        let callbacks = Arc::clone(&self.callbacks.lock());
        for callback in callbacks.iter() {
            if catch_unwind(AssertUnwindSafe(|| callback(&event))).is_err() {
                tracing::warn!(kind = ?std::mem::discriminant(&event), "an event callback panicked");
            }
        }
        // No subscribers is normal; the event then only went to callbacks.
        let _ = self.sender.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn events_serialize_with_a_kind_tag() {
        let event = Event::LimitThreshold {
            allocation: Allocation::ApiRequests,
            fraction: 0.75,
            used: 750,
            max: 1000,
        };
        let json = serde_json::to_value(&event).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"kind": "limit_threshold", "allocation": "api_requests", "fraction": 0.75, "used": 750, "max": 1000})
        );
    }

    #[tokio::test]
    async fn subscribers_and_callbacks_both_receive_each_event() {
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        bus.on_event(Box::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        bus.emit(Event::TokenRefreshed {
            grant: "jwt_bearer".into(),
        });
        assert_eq!(
            rx.recv().await.expect("delivered"),
            Event::TokenRefreshed {
                grant: "jwt_bearer".into()
            }
        );
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_others() {
        let bus = EventBus::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        bus.on_event(Box::new(|_| panic!("listener bug")));
        bus.on_event(Box::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        bus.emit(Event::Backpressure {
            queued: 3,
            rejected: true,
        });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_callback_may_register_another_without_deadlock() {
        let bus = EventBus::default();
        let inner = bus.clone();
        bus.on_event(Box::new(move |_| inner.on_event(Box::new(|_| {}))));
        bus.emit(Event::TokenRefreshed {
            grant: "refresh_token".into(),
        });
        assert_eq!(bus.callbacks.lock().len(), 2);
    }
}
