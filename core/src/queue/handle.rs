//! [`Queue`]: the handle callers hold — open, enqueue, flush, close, dead letters, figures.
//!
//! Clones share one queue. Dropping the last handle stops the dispatcher (sends in flight
//! still settle); writes left pending stay in the journal for the next open. `close` is the
//! orderly way: it flushes first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{broadcast, oneshot, watch, Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::config::{QueueConfig, WhenFull};
use super::item::{NewWrite, WriteOp};
use super::journal::Journal;
use super::outcome::{DeadLetter, OutcomeBus, QueueEvent, Ticket};
use super::worker::{
    blocking, dispatch_loop, journal, now_ms, resume_bulk_runs, submit, Counters, Shared,
};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::rest::Record;

/// Outcome events kept for a slow subscriber.
const EVENT_CAPACITY: usize = 4_096;

/// A durable write-behind queue on one client. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// Set by `close`: later writes are refused.
    closed: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    _stop_on_drop: DropGuard,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.fmt(f)
    }
}

/// The queue's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Writes accepted without an outcome yet.
    pub depth: u64,
    /// Age of the oldest of them, in milliseconds (0 when none).
    pub oldest_pending_age_ms: u64,
    /// Dead letters waiting for replay or discard.
    pub dead_letters: u64,
    /// Collections calls and bulk jobs Salesforce answered (calls refused before they left,
    /// e.g. at the limits reserve, are not counted), in this process.
    pub calls: u64,
    /// Writes those carried.
    pub writes_sent: u64,
    /// Writes delivered by this process.
    pub delivered: u64,
    /// Writes replaced by a later write to their key.
    pub superseded: u64,
    /// Writes without an outcome found in the journal when this process opened it.
    pub resumed: u64,
}

impl Client {
    /// Opens (or resumes) the write-behind queue journaled at `config`'s path.
    pub async fn queue(&self, config: QueueConfig) -> Result<Queue, Error> {
        Queue::open(self, config).await
    }
}

impl Queue {
    /// Opens the journal (creating it if absent), puts writes a previous process left in
    /// flight back to pending, registers the metrics and starts the workers.
    pub async fn open(client: &Client, config: QueueConfig) -> Result<Queue, Error> {
        let backoff = config.validate()?;
        let (path, sync) = (config.path.clone(), config.sync);
        let journal = Arc::new(blocking(move || Journal::open(&path, sync)).await?);
        let recovered = {
            let journal = Arc::clone(&journal);
            blocking(move || journal.recover()).await?
        };
        let room = config.max_pending.saturating_sub(recovered.unresolved);
        let counters = Arc::new(Counters::default());
        counters.depth.store(recovered.unresolved, Ordering::SeqCst);
        counters.dead.store(recovered.dead, Ordering::SeqCst);
        counters
            .resumed
            .store(recovered.unresolved, Ordering::SeqCst);
        let stop = CancellationToken::new();
        let shared = Arc::new(Shared {
            client: client.with_priority(config.priority),
            bulk: client
                .with_priority(config.priority)
                .bulk()
                .work_dir(config.bulk_work_dir()),
            backoff,
            journal,
            inbox: Default::default(),
            bus: OutcomeBus::new(EVENT_CAPACITY),
            counters,
            wake: Notify::new(),
            next_pass_ms: Default::default(),
            headroom: Default::default(),
            fresh: Default::default(),
            settled: watch::channel(0).0,
            settling: Default::default(),
            flushing: Default::default(),
            room: Arc::new(Semaphore::new(room as usize)),
            owed: recovered
                .unresolved
                .saturating_sub(config.max_pending)
                .into(),
            busy: Default::default(),
            slots: Arc::new(Semaphore::new(config.workers)),
            stop: stop.clone(),
            failures: Default::default(),
            paused_until_ms: Default::default(),
            config,
        });
        register_metrics(client, &shared);
        let tasks = vec![
            tokio::spawn(dispatch_loop(Arc::clone(&shared))),
            tokio::spawn(resume_bulk_runs(
                Arc::clone(&shared),
                recovered.bulk_runs.clone(),
            )),
        ];
        if recovered.resumed_in_flight > 0 {
            tracing::info!(
                writes = recovered.resumed_in_flight,
                "queue resumed writes left in flight by a previous process"
            );
        }
        Ok(Queue {
            inner: Arc::new(Inner {
                shared,
                closed: AtomicBool::new(false),
                tasks: Mutex::new(tasks),
                _stop_on_drop: stop.drop_guard(),
            }),
        })
    }

    /// Accepts one write and returns once it is journaled. `key` names what later writes
    /// collapse onto (default: the external id value for upserts, the `Id` for update and
    /// delete; inserts have none). Beyond `max_pending` it waits or fails with `BACKPRESSURE`.
    pub async fn enqueue(
        &self,
        object: &str,
        op: WriteOp,
        record: Record,
        key: Option<&str>,
    ) -> Result<Ticket, Error> {
        let write = NewWrite::new(object, op, record, key)?;
        let shared = &self.inner.shared;
        let permit = match shared.config.when_full {
            WhenFull::Wait => Arc::clone(&shared.room)
                .acquire_owned()
                .await
                .map_err(|_| closed())?,
            WhenFull::FailFast => Arc::clone(&shared.room).try_acquire_owned().map_err(|_| {
                Error::backpressure(format!(
                    "the queue holds {} writes (max_pending)",
                    shared.config.max_pending
                ))
            })?,
        };
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(closed());
        }
        let (reply, answer) = oneshot::channel();
        submit(shared, (write, reply));
        let ticket = answer.await.map_err(|_| closed())??;
        // The room stays taken until the write settles (`Shared::release`).
        permit.forget();
        Ok(ticket)
    }

    /// Waits until every write accepted before this call has an outcome (delivered, dead
    /// letter or superseded). Linger is skipped meanwhile; backoff after failed calls is not,
    /// so during an outage this waits for the outage to end.
    pub async fn flush(&self) -> Result<(), Error> {
        let shared = &self.inner.shared;
        let mut settled = shared.settled.subscribe();
        let last = journal(shared, |j| j.last_ticket()).await?;
        let _flushing = Flushing::start(shared);
        loop {
            let unresolved = {
                let _gate = shared.settling.lock().await;
                journal(shared, move |j| j.unresolved_through(last)).await?
            };
            if unresolved == 0 {
                return Ok(());
            }
            settled.changed().await.map_err(|_| closed())?;
        }
    }

    /// Flushes, then stops the workers and refuses further writes.
    pub async fn close(self) -> Result<(), Error> {
        self.flush().await?;
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.shared.stop.cancel();
        let tasks = std::mem::take(&mut *self.inner.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
        Ok(())
    }

    /// Calls `callback` with every write's outcome from now on, after it is journaled.
    pub fn on_outcome(&self, callback: impl Fn(&QueueEvent) + Send + Sync + 'static) {
        self.inner.shared.bus.on_outcome(callback);
    }

    /// A receiver of every outcome from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<QueueEvent> {
        self.inner.shared.bus.subscribe()
    }

    /// Up to `limit` dead letters with tickets after `after` (`Ticket(0)` for the first page).
    pub async fn dead_letters(
        &self,
        after: Ticket,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, Error> {
        journal(&self.inner.shared, move |j| j.dead_letters(after, limit)).await
    }

    /// Sends a dead letter again, with `fixed` replacing its record when given; the write
    /// gets a new ticket (it is newer than writes accepted meanwhile).
    pub async fn replay(&self, ticket: Ticket, fixed: Option<Record>) -> Result<Ticket, Error> {
        let shared = &self.inner.shared;
        let letter = journal(shared, move |j| j.dead_letter(ticket))
            .await?
            .ok_or_else(|| not_dead(ticket))?;
        let record = fixed.unwrap_or(letter.record);
        let write = NewWrite::new(&letter.object, letter.op, record, letter.key.as_deref())?;
        let new = journal(shared, move |j| j.replay(ticket, &write, now_ms()))
            .await?
            .ok_or_else(|| not_dead(ticket))?;
        shared.counters.dead.fetch_sub(1, Ordering::SeqCst);
        shared.counters.depth.fetch_add(1, Ordering::SeqCst);
        shared.owed.fetch_add(1, Ordering::SeqCst);
        shared.wake.notify_one();
        Ok(new)
    }

    /// Deletes a dead letter for good; whether it existed.
    pub async fn discard(&self, ticket: Ticket) -> Result<bool, Error> {
        let gone = journal(&self.inner.shared, move |j| j.discard(ticket)).await?;
        if gone {
            self.inner
                .shared
                .counters
                .dead
                .fetch_sub(1, Ordering::SeqCst);
        }
        Ok(gone)
    }

    /// The queue's figures now.
    pub fn stats(&self) -> QueueStats {
        stats(&self.inner.shared.counters)
    }
}

fn stats(c: &Counters) -> QueueStats {
    let oldest = c.oldest_ms.load(Ordering::Relaxed);
    let depth = c.depth.load(Ordering::SeqCst);
    QueueStats {
        depth,
        oldest_pending_age_ms: if oldest == 0 || depth == 0 {
            0
        } else {
            now_ms().saturating_sub(oldest)
        },
        dead_letters: c.dead.load(Ordering::SeqCst),
        calls: c.calls.load(Ordering::Relaxed),
        writes_sent: c.writes_sent.load(Ordering::Relaxed),
        delivered: c.delivered.load(Ordering::Relaxed),
        superseded: c.superseded.load(Ordering::Relaxed),
        resumed: c.resumed.load(Ordering::Relaxed),
    }
}

/// Registers the queue's gauges on the client's registry (a later queue on the same client
/// replaces them). Sources hold only weak references.
fn register_metrics(client: &Client, shared: &Arc<Shared>) {
    let metrics = client.pipeline.metrics();
    let gauge = |name: &'static str, help: &'static str, read: fn(&QueueStats) -> u64| {
        let counters = Arc::downgrade(&shared.counters);
        metrics.register_gauge(
            name,
            help,
            Box::new(move || counters.upgrade().map(|c| read(&stats(&c)))),
        );
    };
    gauge(
        "queue_depth",
        "Writes accepted by the queue without an outcome yet",
        |s| s.depth,
    );
    gauge(
        "queue_oldest_pending_age_ms",
        "Age of the oldest write without an outcome, in milliseconds",
        |s| s.oldest_pending_age_ms,
    );
    gauge(
        "queue_dead_letters",
        "Writes Salesforce refused, waiting for replay or discard",
        |s| s.dead_letters,
    );
    gauge(
        "queue_calls",
        "Collections calls and bulk jobs of the queue that Salesforce answered",
        |s| s.calls,
    );
    gauge(
        "queue_writes_sent",
        "Writes carried by the queue's calls",
        |s| s.writes_sent,
    );
    gauge(
        "queue_writes_per_call",
        "Writes per call, rounded down",
        |s| s.writes_sent.checked_div(s.calls).unwrap_or(0),
    );
    gauge("queue_delivered", "Writes the queue delivered", |s| {
        s.delivered
    });
}

/// Marks a flush in progress for as long as it lives (also when the flush is cancelled).
struct Flushing<'a>(&'a Shared);

impl<'a> Flushing<'a> {
    fn start(shared: &'a Shared) -> Flushing<'a> {
        shared.flushing.fetch_add(1, Ordering::SeqCst);
        shared.wake.notify_one();
        Flushing(shared)
    }
}

impl Drop for Flushing<'_> {
    fn drop(&mut self) {
        self.0.flushing.fetch_sub(1, Ordering::SeqCst);
    }
}

fn closed() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "QUEUE_CLOSED",
        "the queue is closed",
    )
}

fn not_dead(ticket: Ticket) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "NOT_FOUND",
        format!("ticket {} is not a dead letter", ticket.0),
    )
}
