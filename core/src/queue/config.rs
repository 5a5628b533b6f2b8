//! The queue's knobs, their defaults, and their validation (once, at [`Queue::open`], naming
//! the setting).
//!
//! Defaults favour "never lose a write" over raw speed (an accepted write survives a killed
//! process, waiting backpressure, background priority so the queue stops at the limits
//! reserve rather than eating it) and "few calls" over latency (a 200 ms linger fills
//! collections calls). The journal's default is [`SyncMode::Normal`], not `Full`: a caller
//! that enqueues one write at a time waits for every commit, and an fsync per write (about
//! 0.6 ms here) cost more than sending each write in its own REST call; `Full` adds survival
//! of a power loss for those who need it, and concurrent enqueues share its fsync.
//!
//! [`Queue::open`]: super::Queue::open

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::retry::Backoff;
use crate::scheduler::Priority;

/// Records per sObject Collections call (Salesforce's maximum).
pub const MAX_BATCH: usize = 200;

/// Largest `max_pending` (the backpressure semaphore's bound, far above any sane backlog).
pub const MAX_PENDING_LIMIT: u64 = 1 << 32;

/// How hard a journal commit pushes to disk (SQLite `PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Every commit is fsynced: an accepted write survives a killed process and a power loss
    /// (or an operating system crash).
    Full,
    /// The default. A commit is written to the WAL file (the operating system holds it) before
    /// `enqueue` returns, and the WAL is fsynced at checkpoints: an accepted write survives a
    /// killed or crashed process; a power loss or an OS crash may roll back the last commits
    /// (the journal stays consistent).
    Normal,
}

impl SyncMode {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            SyncMode::Full => "FULL",
            SyncMode::Normal => "NORMAL",
        }
    }
}

/// What `enqueue` does when `max_pending` writes are already waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Wait until there is room (the caller slows down to the drain rate).
    Wait,
    /// Fail at once with `BACKPRESSURE`; the write is not accepted.
    FailFast,
}

/// Configuration of one queue. Build with [`QueueConfig::new`] and the `mut self` knobs.
#[derive(Debug, Clone)]
#[must_use]
pub struct QueueConfig {
    pub(crate) path: PathBuf,
    pub(crate) sync: SyncMode,
    pub(crate) batch_size: usize,
    pub(crate) linger: Duration,
    pub(crate) collapse: bool,
    pub(crate) bulk_threshold: Option<usize>,
    pub(crate) bulk_max_rows: usize,
    pub(crate) bulk_dir: Option<PathBuf>,
    pub(crate) max_pending: u64,
    pub(crate) when_full: WhenFull,
    pub(crate) workers: usize,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
    pub(crate) priority: Priority,
}

impl QueueConfig {
    /// A queue journaled in the SQLite file at `path` (created if absent), every other knob
    /// at its default.
    pub fn new(path: impl Into<PathBuf>) -> QueueConfig {
        QueueConfig {
            path: path.into(),
            sync: SyncMode::Normal,
            batch_size: MAX_BATCH,
            linger: Duration::from_millis(200),
            collapse: true,
            bulk_threshold: Some(2_000),
            bulk_max_rows: 100_000,
            bulk_dir: None,
            max_pending: 100_000,
            when_full: WhenFull::Wait,
            workers: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            priority: Priority::Background,
        }
    }

    /// Journal durability. Default: [`SyncMode::Normal`] (see the module docs).
    pub fn sync(mut self, mode: SyncMode) -> Self {
        self.sync = mode;
        self
    }

    /// Records per collections call, 1 to 200. Default: 200.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// How long a write may wait for others to fill its call: a group is sent when it has a
    /// full batch or its oldest write has waited this long. Default: 200 ms.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Whether pending writes to the same key collapse to the latest before they are sent.
    /// Default: true.
    pub fn collapse_same_key(mut self, collapse: bool) -> Self {
        self.collapse = collapse;
        self
    }

    /// A group with at least `rows` ready writes is sent as one Bulk API 2.0 job instead of
    /// collections calls. Default: 2 000 (Salesforce's own guidance).
    pub fn bulk_threshold(mut self, rows: usize) -> Self {
        self.bulk_threshold = Some(rows);
        self
    }

    /// Never use the Bulk API; always collections calls.
    pub fn no_bulk(mut self) -> Self {
        self.bulk_threshold = None;
        self
    }

    /// Most writes one bulk job takes. Default: 100 000.
    pub fn bulk_max_rows(mut self, rows: usize) -> Self {
        self.bulk_max_rows = rows;
        self
    }

    /// Work directory of the bulk engine. Default: `<journal path>.bulk`.
    pub fn bulk_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bulk_dir = Some(dir.into());
        self
    }

    /// Writes accepted but without an outcome, at most. Default: 100 000.
    pub fn max_pending(mut self, n: u64) -> Self {
        self.max_pending = n;
        self
    }

    /// What `enqueue` does beyond `max_pending`. Default: [`WhenFull::Wait`].
    pub fn when_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
        self
    }

    /// Calls (or bulk jobs) the queue has in flight at once; the client's scheduler still
    /// bounds the total. Default: 4.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Delay before a write whose call failed is sent again: full jitter up to
    /// `min(cap, base × 2^attempt)`. Default: 500 ms, 60 s.
    pub fn retry_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap;
        self
    }

    /// Priority of the queue's calls. Default: [`Priority::Background`] (waits at the
    /// limits reserve instead of spending it).
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks every knob; the error names the setting.
    pub(crate) fn validate(&self) -> Result<Backoff, Error> {
        if self.path.as_os_str().is_empty() {
            return Err(Error::config("queue_path", "must name a file"));
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(Error::config(
                "queue_batch_size",
                format!("{} is not between 1 and {MAX_BATCH}", self.batch_size),
            ));
        }
        if self.max_pending == 0 || self.max_pending > MAX_PENDING_LIMIT {
            return Err(Error::config(
                "queue_max_pending",
                format!(
                    "{} is not between 1 and {MAX_PENDING_LIMIT}",
                    self.max_pending
                ),
            ));
        }
        if self.workers == 0 {
            return Err(Error::config("queue_workers", "must be at least 1"));
        }
        if self.bulk_threshold == Some(0) {
            return Err(Error::config(
                "queue_bulk_threshold",
                "must be at least 1 (or no_bulk())",
            ));
        }
        if self.bulk_max_rows == 0 {
            return Err(Error::config("queue_bulk_max_rows", "must be at least 1"));
        }
        Backoff::new(self.backoff_base, self.backoff_cap)
            .map_err(|e| Error::config("queue_retry_backoff", e.message()))
    }

    /// The bulk engine's work directory.
    pub(crate) fn bulk_work_dir(&self) -> PathBuf {
        self.bulk_dir.clone().unwrap_or_else(|| {
            let mut name = self.path.as_os_str().to_owned();
            name.push(".bulk");
            PathBuf::from(name)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_knobs_name_their_setting() {
        assert!(QueueConfig::new("/tmp/q.sqlite").validate().is_ok());
        let cases = [
            (QueueConfig::new("q").batch_size(201), "queue_batch_size"),
            (QueueConfig::new("q").batch_size(0), "queue_batch_size"),
            (QueueConfig::new("q").max_pending(0), "queue_max_pending"),
            (
                QueueConfig::new("q").max_pending(u64::MAX),
                "queue_max_pending",
            ),
            (QueueConfig::new("q").workers(0), "queue_workers"),
            (
                QueueConfig::new("q").bulk_threshold(0),
                "queue_bulk_threshold",
            ),
            (
                QueueConfig::new("q").bulk_max_rows(0),
                "queue_bulk_max_rows",
            ),
            (
                QueueConfig::new("q").retry_backoff(Duration::ZERO, Duration::from_secs(1)),
                "queue_retry_backoff",
            ),
            (QueueConfig::new(""), "queue_path"),
        ];
        for (config, setting) in cases {
            let err = config.validate().expect_err(setting);
            assert!(err.to_string().contains(setting), "{err} names {setting}");
        }
    }

    #[test]
    fn the_bulk_directory_sits_beside_the_journal_by_default() {
        assert_eq!(
            QueueConfig::new("/data/q.sqlite").bulk_work_dir(),
            PathBuf::from("/data/q.sqlite.bulk")
        );
        assert_eq!(
            QueueConfig::new("q").bulk_dir("/b").bulk_work_dir(),
            PathBuf::from("/b")
        );
    }
}
