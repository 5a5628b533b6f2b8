//! Progress of a run, for progress bars: rows read, uploaded, processed, failed.
//!
//! Counters are atomics shared by every chunk task; each change calls the user's callback
//! with a [`Progress`] snapshot. The callback runs on the engine's task, so it must be quick
//! (bindings hand it to their own thread).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A snapshot of a run's progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Input rows read (planning).
    pub rows_read: u64,
    /// Rows uploaded to jobs (a row retried after a lock failure counts again).
    pub rows_uploaded: u64,
    /// Rows Salesforce has processed.
    pub rows_processed: u64,
    /// Rows that failed for good.
    pub rows_failed: u64,
}

/// The callback type.
pub type ProgressCallback = Arc<dyn Fn(Progress) + Send + Sync>;

/// Shared counters plus the callback.
#[derive(Clone, Default)]
pub struct ProgressTracker {
    inner: Arc<Counters>,
    callback: Option<ProgressCallback>,
}

#[derive(Default)]
struct Counters {
    read: AtomicU64,
    uploaded: AtomicU64,
    processed: AtomicU64,
    failed: AtomicU64,
    saved_calls: AtomicU64,
}

impl ProgressTracker {
    /// Counters reporting to `callback`.
    pub fn new(callback: Option<ProgressCallback>) -> ProgressTracker {
        ProgressTracker {
            inner: Arc::default(),
            callback,
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Progress {
        let c = &self.inner;
        Progress {
            rows_read: c.read.load(Ordering::Relaxed),
            rows_uploaded: c.uploaded.load(Ordering::Relaxed),
            rows_processed: c.processed.load(Ordering::Relaxed),
            rows_failed: c.failed.load(Ordering::Relaxed),
        }
    }

    fn bump(&self, counter: &AtomicU64, n: u64) {
        if n == 0 {
            return;
        }
        counter.fetch_add(n, Ordering::Relaxed);
        if let Some(cb) = &self.callback {
            cb(self.snapshot());
        }
    }

    /// Rows read from the input.
    pub fn read(&self, n: u64) {
        self.bump(&self.inner.read, n);
    }
    /// Rows uploaded.
    pub fn uploaded(&self, n: u64) {
        self.bump(&self.inner.uploaded, n);
    }
    /// Rows processed by Salesforce.
    pub fn processing(&self, n: u64) {
        self.bump(&self.inner.processed, n);
    }
    /// Rows failed for good.
    pub fn failed(&self, n: u64) {
        self.bump(&self.inner.failed, n);
    }

    /// Given the total requests made, returns how many are not yet saved, and marks them saved.
    pub fn take_calls(&self, total: u64) -> u64 {
        let before = self.inner.saved_calls.fetch_max(total, Ordering::Relaxed);
        total.saturating_sub(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_reaches_the_callback_with_a_full_snapshot() {
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let tracker = ProgressTracker::new(Some(Arc::new(move |p| sink.lock().push(p))));
        tracker.read(10);
        tracker.uploaded(10);
        tracker.processing(0);
        tracker.processing(7);
        tracker.failed(1);
        let seen = seen.lock();
        assert_eq!(seen.len(), 4, "zero changes are not reported");
        assert_eq!(
            *seen.last().unwrap(),
            Progress {
                rows_read: 10,
                rows_uploaded: 10,
                rows_processed: 7,
                rows_failed: 1
            }
        );
    }

    #[test]
    fn calls_are_saved_once() {
        let tracker = ProgressTracker::default();
        assert_eq!(tracker.take_calls(5), 5);
        assert_eq!(tracker.take_calls(5), 0);
        assert_eq!(tracker.take_calls(8), 3);
    }
}
