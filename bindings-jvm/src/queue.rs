//! `NativeQueue`: the core's durable write-behind queue.
//!
//! `enqueue` returns once the write is journaled (a ticket); the core's workers coalesce
//! writes into Collections calls or Bulk jobs under the client's pipeline; `flush` waits for
//! every accepted write to settle; `close` flushes and stops. Every promise (journal,
//! retries, dead letters, backpressure) is the core's; this file converts.

use std::sync::Arc;

use sfscale::queue::{Queue as CoreQueue, QueueConfig, SyncMode, Ticket, WhenFull, WriteOp};

use crate::client::{millis, natural, priority};
use crate::errors::{setting, FfiError};
use crate::json;
use crate::listen::{Dispatcher, JsonListener};
use crate::task::on_core;

/// The queue's knobs; `None` keeps the core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct QueueOptions {
    /// Journal durability: `full` or `normal`.
    pub sync: Option<String>,
    /// Records per Collections call.
    pub batch_size: Option<i64>,
    /// How long a partial batch waits for more, milliseconds.
    pub linger_ms: Option<i64>,
    /// Whether writes with one key collapse into the latest.
    pub collapse_same_key: Option<bool>,
    /// Pending writes from which a Bulk job is used.
    pub bulk_threshold: Option<i64>,
    /// Never use Bulk.
    pub no_bulk: bool,
    /// Rows per Bulk job.
    pub bulk_max_rows: Option<i64>,
    /// Bulk work directory.
    pub bulk_dir: Option<String>,
    /// Accepted writes not yet settled, at most.
    pub max_pending: Option<i64>,
    /// When full: `wait` or `fail`.
    pub when_full: Option<String>,
    /// Worker tasks.
    pub workers: Option<i64>,
    /// Retry backoff base, milliseconds (with the cap).
    pub retry_backoff_base_ms: Option<i64>,
    /// Retry backoff cap, milliseconds.
    pub retry_backoff_cap_ms: Option<i64>,
    /// Priority of the queue's calls.
    pub priority: Option<String>,
}

/// The core configuration for `path` and `o`.
pub fn config(path: String, o: QueueOptions) -> Result<QueueConfig, FfiError> {
    let mut c = QueueConfig::new(path);
    if let Some(mode) = o.sync.as_deref() {
        c = c.sync(match mode {
            "full" => SyncMode::Full,
            "normal" => SyncMode::Normal,
            other => return Err(setting("sync", format!("'{other}' (full, normal)"))),
        });
    }
    if let Some(n) = o.batch_size {
        c = c.batch_size(natural("batch_size", n)?);
    }
    if let Some(ms) = o.linger_ms {
        c = c.linger(millis("linger", ms)?);
    }
    if let Some(collapse) = o.collapse_same_key {
        c = c.collapse_same_key(collapse);
    }
    if o.no_bulk {
        c = c.no_bulk();
    } else if let Some(n) = o.bulk_threshold {
        c = c.bulk_threshold(natural("bulk_threshold", n)?);
    }
    if let Some(n) = o.bulk_max_rows {
        c = c.bulk_max_rows(natural("bulk_max_rows", n)?);
    }
    if let Some(dir) = o.bulk_dir {
        c = c.bulk_dir(dir);
    }
    if let Some(n) = o.max_pending {
        c = c.max_pending(natural("max_pending", n)?);
    }
    if let Some(mode) = o.when_full.as_deref() {
        c = c.when_full(match mode {
            "wait" => WhenFull::Wait,
            "fail" => WhenFull::FailFast,
            other => return Err(setting("when_full", format!("'{other}' (wait, fail)"))),
        });
    }
    if let Some(n) = o.workers {
        c = c.workers(natural("workers", n)?);
    }
    if let (Some(base), Some(cap)) = (o.retry_backoff_base_ms, o.retry_backoff_cap_ms) {
        c = c.retry_backoff(
            millis("retry_backoff", base)?,
            millis("retry_backoff", cap)?,
        );
    }
    if let Some(name) = o.priority.as_deref() {
        c = c.priority(priority(name)?);
    }
    Ok(c)
}

fn ticket(t: i64) -> Result<Ticket, FfiError> {
    Ok(Ticket(natural("ticket", t)?))
}

/// A durable write-behind queue.
#[derive(uniffi::Object)]
pub struct NativeQueue {
    inner: CoreQueue,
}

impl NativeQueue {
    /// Wraps an opened core queue.
    pub fn new(inner: CoreQueue) -> Arc<Self> {
        Arc::new(NativeQueue { inner })
    }
}

#[uniffi::export]
impl NativeQueue {
    /// Accepts one write once journaled; its ticket.
    pub async fn enqueue(
        &self,
        object: String,
        operation: String,
        record_json: String,
        external_id: Option<String>,
        key: Option<String>,
    ) -> Result<i64, FfiError> {
        let op = WriteOp::parse(&operation, external_id.as_deref())?;
        let (q, record) = (self.inner.clone(), json::record(&record_json)?);
        let t =
            on_core(async move { q.enqueue(&object, op, record, key.as_deref()).await }).await?;
        Ok(i64::try_from(t.0).unwrap_or(i64::MAX))
    }

    /// Waits until every write accepted before the call has settled.
    pub async fn flush(&self) -> Result<(), FfiError> {
        let q = self.inner.clone();
        on_core(async move { q.flush().await }).await
    }

    /// Flushes, then stops the workers. Not `close`: uniffi objects are `AutoCloseable`.
    pub async fn shutdown(&self) -> Result<(), FfiError> {
        let q = self.inner.clone();
        on_core(async move { q.close().await }).await
    }

    /// Dead letters after ticket `after`, at most `limit` (JSON array).
    pub async fn dead_letters(&self, after: i64, limit: i64) -> Result<String, FfiError> {
        let (q, after, limit) = (self.inner.clone(), ticket(after)?, natural("limit", limit)?);
        on_core(async move { json::text(&q.dead_letters(after, limit).await?) }).await
    }

    /// Sends a dead letter again (with `fixed_json` replacing its record); the new ticket.
    pub async fn replay(
        &self,
        ticket_no: i64,
        fixed_json: Option<String>,
    ) -> Result<i64, FfiError> {
        let fixed = fixed_json.as_deref().map(json::record).transpose()?;
        let (q, t) = (self.inner.clone(), ticket(ticket_no)?);
        let t = on_core(async move { q.replay(t, fixed).await }).await?;
        Ok(i64::try_from(t.0).unwrap_or(i64::MAX))
    }

    /// Drops a dead letter; whether it existed.
    pub async fn discard(&self, ticket_no: i64) -> Result<bool, FfiError> {
        let (q, t) = (self.inner.clone(), ticket(ticket_no)?);
        on_core(async move { q.discard(t).await }).await
    }

    /// Calls `listener` with each write's outcome (JSON) from a thread of its own.
    pub fn on_outcome(&self, listener: Arc<dyn JsonListener>) -> Result<(), FfiError> {
        let dispatcher = Dispatcher::new(listener)?;
        self.inner.on_outcome(move |event| dispatcher.send(event));
        Ok(())
    }

    /// Counters (JSON).
    pub fn stats(&self) -> Result<String, FfiError> {
        Ok(json::text(&self.inner.stats())?)
    }
}
