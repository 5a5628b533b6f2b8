//! The background side: a committer that journals enqueued writes in group commits, a
//! dispatcher that turns pending writes into calls, and the send tasks that settle them.
//!
//! ```text
//! enqueue ─► committer ─(one transaction per burst)─► journal ◄─ dispatcher ─► send task ─► pipeline
//!                                                       ▲          (pick)       (≤ workers)     │
//!                                                       └───────── settle ◄─────────────────────┘
//! ```
//!
//! - **Group commit**: `enqueue` leaves its write in an inbox; a committer on the blocking
//!   pool (started by the first write that finds none running) journals everything waiting
//!   in one transaction and answers each caller directly. Writes that arrive while a commit
//!   runs share the next one, so `synchronous=FULL` costs one fsync per burst, not per
//!   write, and a lone caller waits for two thread hand-offs, not four.
//! - **Dispatch**: a pass reads each group's ready count and sends a group when it has a full
//!   batch, its oldest write has lingered long enough, a flush is waiting, or its backlog
//!   crosses the bulk threshold. It sleeps until a call settles, a linger or backoff ends,
//!   the queue stops, or a commit needs it sooner than planned: a commit whose writes the
//!   next planned pass will see in time does not wake it, so a stream of enqueues costs one
//!   pass per batch, not one per write. At most `workers` sends are in flight.
//! - **Settle**: results are journaled first, then events are emitted, then waiters woken.
//! - **Pause**: a call that fails as a whole (after the pipeline's own retries) pauses all
//!   dispatch for a backoff that grows with consecutive failures, so a brownout or the limits
//!   reserve sees one probe at a time rather than every group's batches; a call that gets
//!   per-record answers ends the streak.
//!
//! Rejected alternative: a timer per write. With a dispatcher reading the journal, a
//! restarted process needs no rebuilding of in-memory state beyond counters.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::{oneshot, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::coalesce::{pick, Picked};
use super::config::QueueConfig;
use super::item::{Item, NewWrite};
use super::journal::{GroupKey, GroupStat, Journal};
use super::outcome::{Outcome, OutcomeBus, QueueEvent, Ticket};
use super::state::Settle;
use super::wire::{send_bulk, send_collections};
use crate::bulk::Bulk;
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::retry::Backoff;

/// Most writes one group commit journals.
const COMMIT_BURST: usize = 1_024;

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// A duration in whole milliseconds, saturating (a configured `Duration::MAX` means "never").
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Live figures (also read by the metrics gauges).
#[derive(Debug, Default)]
pub struct Counters {
    /// Writes accepted without an outcome.
    pub depth: AtomicU64,
    /// Dead letters in the journal.
    pub dead: AtomicU64,
    /// Collections calls and bulk jobs Salesforce answered.
    pub calls: AtomicU64,
    /// Writes carried by those.
    pub writes_sent: AtomicU64,
    /// Writes delivered.
    pub delivered: AtomicU64,
    /// Writes superseded by a later write to their key.
    pub superseded: AtomicU64,
    /// When the oldest unresolved write was accepted (Unix ms; 0 when none).
    pub oldest_ms: AtomicU64,
    /// Writes without an outcome found at open.
    pub resumed: AtomicU64,
}

/// A write waiting for its group commit.
pub type Submission = (NewWrite, oneshot::Sender<Result<Ticket, Error>>);

/// Writes waiting for the next group commit, and whether a committer is running.
#[derive(Default)]
pub(crate) struct Inbox {
    waiting: Mutex<Vec<Submission>>,
    committing: AtomicBool,
}

/// State shared by the handle, the committer, the dispatcher and the send tasks.
pub struct Shared {
    pub(crate) client: Client,
    pub(crate) bulk: Bulk,
    pub(crate) config: QueueConfig,
    pub(crate) backoff: Backoff,
    pub(crate) journal: Arc<Journal>,
    pub(crate) inbox: Inbox,
    pub(crate) bus: OutcomeBus,
    pub(crate) counters: Arc<Counters>,
    /// Wakes the dispatcher (a write arrived that it must see early, a call settled, a flush
    /// began).
    pub(crate) wake: Notify,
    /// When the dispatcher's next pass is due (Unix ms; 0 when none is), and how many more
    /// writes would fill a group's batch, as of its last pass (see `Shared::pass_needed`).
    pub(crate) next_pass_ms: AtomicU64,
    pub(crate) headroom: AtomicU64,
    /// Writes journaled since the last pass began.
    pub(crate) fresh: AtomicU64,
    /// Bumped after every settlement; flushes wait on it.
    pub(crate) settled: watch::Sender<u64>,
    /// Held from a settlement's journal commit until its outcomes are announced.
    pub(crate) settling: tokio::sync::Mutex<()>,
    /// Flushes in progress (linger is ignored meanwhile).
    pub(crate) flushing: AtomicUsize,
    /// Room below `max_pending` (backpressure), and writes accepted beyond it at open.
    pub(crate) room: Arc<Semaphore>,
    pub(crate) owed: AtomicU64,
    /// `(object, key)` of writes in flight.
    pub(crate) busy: Mutex<HashSet<(String, String)>>,
    /// Send slots (`workers`).
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) stop: CancellationToken,
    /// Calls in a row that failed as a whole, and the dispatch pause they imposed (Unix ms).
    pub(crate) failures: AtomicU32,
    pub(crate) paused_until_ms: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("journal", &self.config.path)
            .field("counters", &self.counters)
            .finish()
    }
}

/// Runs `f` on the journal off the async threads.
pub async fn journal<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&Journal) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let journal = Arc::clone(&shared.journal);
    blocking(move || f(&journal)).await
}

/// Runs blocking work (SQLite) on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Error::new(
            ErrorKind::Config,
            "QUEUE_JOURNAL",
            format!("journal task failed: {e}"),
        )
    })?
}

impl Shared {
    /// Gives back room for `n` resolved writes (paying off writes accepted beyond the bound first).
    fn release(&self, n: u64) {
        self.counters.depth.fetch_sub(
            n.min(self.counters.depth.load(Ordering::SeqCst)),
            Ordering::SeqCst,
        );
        let paid = self
            .owed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_sub(n))
            })
            .unwrap_or(0)
            .min(n);
        self.room.add_permits((n - paid) as usize);
    }

    fn announce(&self, item: &Item, outcome: Outcome) {
        self.bus.emit(QueueEvent {
            ticket: Ticket(item.seq),
            object: item.object.clone(),
            operation: item.op.name(),
            key: item.key.clone(),
            outcome,
        });
    }

    /// Whether `fresh` writes journaled at `since_ms` or later need a dispatch pass before the
    /// one scheduled. They do not when that pass comes before their linger ends (it sees them
    /// and schedules their send), no group's batch can be full yet and no flush waits: so a
    /// burst of enqueues costs a journal pass per batch, not one per write.
    fn pass_needed(&self, fresh: u64, since_ms: u64) -> bool {
        let next = self.next_pass_ms.load(Ordering::SeqCst);
        fresh > 0
            && (next == 0
                || next > since_ms.saturating_add(millis(self.config.linger))
                || fresh >= self.headroom.load(Ordering::SeqCst)
                || self.flushing.load(Ordering::SeqCst) > 0)
    }

    fn retry_at(&self, attempt: u32) -> u64 {
        now_ms().saturating_add(millis(self.backoff.delay(attempt, &mut rand::rng())))
    }
}

/// Hands `submission` to the committer, starting one on the blocking pool if none runs.
/// Its ticket (or the commit's error) arrives on the submission's reply channel.
pub fn submit(shared: &Arc<Shared>, submission: Submission) {
    shared.inbox.waiting.lock().push(submission);
    if !shared.inbox.committing.swap(true, Ordering::SeqCst) {
        let shared = Arc::clone(shared);
        tokio::task::spawn_blocking(move || commit_waiting(&shared));
    }
}

/// The committer: journals what waits in one transaction per burst (up to [`COMMIT_BURST`]
/// writes), until nothing waits. Writes submitted meanwhile join the next burst.
fn commit_waiting(shared: &Shared) {
    let inbox = &shared.inbox;
    // A panic (a bug) must not leave later writes waiting for a committer that is gone.
    struct Unstick<'a>(&'a AtomicBool);
    impl Drop for Unstick<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.store(false, Ordering::SeqCst);
            }
        }
    }
    let _unstick = Unstick(&inbox.committing);
    loop {
        let burst: Vec<Submission> = {
            let mut waiting = inbox.waiting.lock();
            let n = waiting.len().min(COMMIT_BURST);
            waiting.drain(..n).collect()
        };
        if burst.is_empty() {
            inbox.committing.store(false, Ordering::SeqCst);
            // A write pushed after the drain saw `committing` still set and left it to us,
            // unless another committer has started since.
            if inbox.waiting.lock().is_empty() || inbox.committing.swap(true, Ordering::SeqCst) {
                return;
            }
            continue;
        }
        commit(shared, burst);
    }
}

fn commit(shared: &Shared, burst: Vec<Submission>) {
    let (writes, replies): (Vec<NewWrite>, Vec<_>) = burst.into_iter().unzip();
    let n = writes.len() as u64;
    // Counted before the commit, so a settlement racing ahead never sees depth below it.
    shared.counters.depth.fetch_add(n, Ordering::SeqCst);
    match shared.journal.append(&writes, now_ms()) {
        Ok(tickets) => {
            for (reply, ticket) in replies.into_iter().zip(tickets) {
                let _ = reply.send(Ok(ticket));
            }
            let fresh = shared.fresh.fetch_add(n, Ordering::SeqCst) + n;
            if shared.pass_needed(fresh, now_ms()) {
                shared.wake.notify_one();
            }
        }
        Err(error) => {
            shared.counters.depth.fetch_sub(n, Ordering::SeqCst);
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(Error::from_shared(Arc::clone(&error))));
            }
        }
    }
}

/// What a dispatch pass did.
enum Pass {
    /// Something was sent: pass again at once.
    Sent,
    /// Nothing to send now; wake by this time (Unix ms) at the latest, if any.
    Idle(Option<u64>),
}

/// The dispatcher: passes until the queue stops.
pub async fn dispatch_loop(shared: Arc<Shared>) {
    loop {
        // Reset before the journal is read: a write this pass does not see is counted.
        let started = now_ms();
        shared.fresh.store(0, Ordering::SeqCst);
        let wake_at = match pass(&shared).await {
            Ok(Pass::Sent) => continue,
            Ok(Pass::Idle(at)) => at,
            Err(error) => {
                tracing::warn!(
                    code = error.code(),
                    message = error.message(),
                    "queue dispatch failed; trying again"
                );
                Some(now_ms().saturating_add(millis(shared.backoff.base())))
            }
        };
        shared
            .next_pass_ms
            .store(wake_at.map_or(0, |at| at.max(1)), Ordering::SeqCst);
        // Writes committed during the pass judged the previous schedule: judge them again
        // against this one (a commit from now on judges it itself).
        if shared.pass_needed(shared.fresh.load(Ordering::SeqCst), started) {
            shared.wake.notify_one();
        }
        let sleep = wake_at.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis(at.saturating_sub(now_ms()))
        });
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            () = shared.stop.cancelled() => return,
        }
    }
}

async fn pass(shared: &Arc<Shared>) -> Result<Pass, Error> {
    let now = now_ms();
    let paused_until = shared.paused_until_ms.load(Ordering::SeqCst);
    if now < paused_until {
        return Ok(Pass::Idle(Some(paused_until)));
    }
    let (groups, oldest) = journal(shared, move |j| {
        Ok((j.groups(now)?, j.oldest_unresolved_ms()?))
    })
    .await?;
    shared
        .counters
        .oldest_ms
        .store(oldest.unwrap_or(0), Ordering::Relaxed);
    let batch = shared.config.batch_size as u64;
    let headroom = groups.iter().map(|g| batch.saturating_sub(g.ready)).min();
    shared
        .headroom
        .store(headroom.unwrap_or(batch), Ordering::SeqCst);
    let flushing = shared.flushing.load(Ordering::SeqCst) > 0;
    let mut wake_at: Option<u64> = None;
    let mut sent = false;
    for group in groups {
        wake_at = earliest(wake_at, group.next_not_before_ms);
        let Some(oldest) = group.oldest_ready_ms else {
            continue;
        };
        let due_at = oldest.saturating_add(millis(shared.config.linger));
        if !(flushing
            || bulk_sized(shared, &group)
            || group.ready >= shared.config.batch_size as u64
            || now >= due_at)
        {
            wake_at = earliest(wake_at, Some(due_at));
            continue;
        }
        let Ok(permit) = Arc::clone(&shared.slots).try_acquire_owned() else {
            // Every slot is busy; a settling send wakes the dispatcher.
            return Ok(if sent {
                Pass::Sent
            } else {
                Pass::Idle(wake_at)
            });
        };
        sent |= take_and_send(shared, group, now, permit).await?;
    }
    Ok(if sent {
        Pass::Sent
    } else {
        Pass::Idle(wake_at)
    })
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn bulk_sized(shared: &Shared, group: &GroupStat) -> bool {
    shared
        .config
        .bulk_threshold
        .is_some_and(|t| group.ready >= t as u64)
}

/// Picks a batch of `group` (T2, T3), journals it and starts its send. Whether one started.
async fn take_and_send(
    shared: &Arc<Shared>,
    group: GroupStat,
    now: u64,
    permit: OwnedSemaphorePermit,
) -> Result<bool, Error> {
    let config = &shared.config;
    let bulk = bulk_sized(shared, &group);
    let limit = if bulk {
        config.bulk_max_rows
    } else {
        config.batch_size
    };
    let key = group.key.clone();
    let candidates = journal(shared, move |j| {
        j.candidates(&key, now, limit.saturating_mul(2))
    })
    .await?;
    let picked = pick_batch(shared, &group.key, candidates, bulk);
    if picked.batch.is_empty() {
        return Ok(false);
    }
    let taken: Vec<u64> = picked.batch.iter().map(|i| i.seq).collect();
    let dropped: Vec<(u64, u64)> = picked
        .superseded
        .iter()
        .map(|(i, by)| (i.seq, by.0))
        .collect();
    let how = if config
        .bulk_threshold
        .is_some_and(|t| picked.batch.len() >= t)
        && picked.batch.len() > config.batch_size
    {
        How::Bulk {
            run_id: format!("queue-{}-{now}", taken[0]),
            resume: false,
        }
    } else {
        How::Collections
    };
    let run = match &how {
        How::Bulk { run_id, .. } => Some(run_id.clone()),
        How::Collections => None,
    };
    let gate = shared.settling.lock().await;
    journal(shared, move |j| j.take(&taken, &dropped, run.as_deref())).await?;
    mark_busy(shared, &picked.batch);
    settle_superseded(shared, &picked.superseded);
    drop(gate);
    tokio::spawn(send(
        Arc::clone(shared),
        group.key,
        picked.batch,
        how,
        permit,
    ));
    Ok(true)
}

fn mark_busy(shared: &Shared, items: &[Item]) {
    let mut busy = shared.busy.lock();
    busy.extend(
        items
            .iter()
            .filter_map(|i| Some((i.object.clone(), i.key.clone()?))),
    );
}

/// How a batch is sent.
enum How {
    /// One sObject Collections call.
    Collections,
    /// A bulk ingest run (new, or resumed after a restart).
    Bulk { run_id: String, resume: bool },
}

/// T10 for bulk runs: continues the runs a previous process left in flight, each as a send.
pub async fn resume_bulk_runs(shared: Arc<Shared>, runs: Vec<String>) {
    for run_id in runs {
        let id = run_id.clone();
        let items = match journal(&shared, move |j| j.bulk_items(&id)).await {
            Ok(items) if !items.is_empty() => items,
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(
                    code = error.code(),
                    message = error.message(),
                    run_id,
                    "cannot read a bulk run's writes"
                );
                continue;
            }
        };
        let group = GroupKey {
            object: items[0].object.clone(),
            op: items[0].op.clone(),
        };
        mark_busy(&shared, &items);
        let Ok(permit) = Arc::clone(&shared.slots).acquire_owned().await else {
            return;
        };
        tokio::spawn(send(
            Arc::clone(&shared),
            group,
            items,
            How::Bulk {
                run_id,
                resume: true,
            },
            permit,
        ));
    }
}

/// A bulk-sized pick that collapsed below the threshold is redone at collections size.
fn pick_batch(shared: &Shared, object_key: &GroupKey, candidates: Vec<Item>, bulk: bool) -> Picked {
    let config = &shared.config;
    let busy = shared.busy.lock();
    let is_busy = |k: &str| busy.contains(&(object_key.object.clone(), k.to_owned()));
    if bulk {
        let picked = pick(
            candidates.clone(),
            config.bulk_max_rows,
            config.collapse,
            is_busy,
        );
        if config
            .bulk_threshold
            .is_some_and(|t| picked.batch.len() >= t)
        {
            return picked;
        }
    }
    pick(candidates, config.batch_size, config.collapse, is_busy)
}

fn settle_superseded(shared: &Shared, superseded: &[(Item, Ticket)]) {
    if superseded.is_empty() {
        return;
    }
    for (item, by) in superseded {
        shared.announce(item, Outcome::Superseded { by: *by });
    }
    let n = superseded.len() as u64;
    shared.counters.superseded.fetch_add(n, Ordering::Relaxed);
    shared.release(n);
    shared.settled.send_modify(|g| *g += 1);
}

/// One send: the call (or bulk job), then its settlement.
async fn send(
    shared: Arc<Shared>,
    group: GroupKey,
    batch: Vec<Item>,
    how: How,
    permit: OwnedSemaphorePermit,
) {
    let n = batch.len() as u64;
    let sent = match how {
        How::Bulk { run_id, resume } => {
            send_bulk(&shared.bulk, &group, batch, &run_id, resume).await
        }
        How::Collections => send_collections(&shared.client, &group, batch).await,
    };
    if sent.failed {
        // Back off the whole queue, not only these writes: during a brownout one batch at a
        // time probes for recovery instead of every group's batches failing in turn.
        let streak = shared.failures.fetch_add(1, Ordering::SeqCst);
        shared
            .paused_until_ms
            .fetch_max(shared.retry_at(streak), Ordering::SeqCst);
    } else {
        shared.failures.store(0, Ordering::SeqCst);
    }
    if sent.answered {
        shared.counters.calls.fetch_add(1, Ordering::Relaxed);
        shared.counters.writes_sent.fetch_add(n, Ordering::Relaxed);
    }
    record(&shared, sent.settled).await;
    drop(permit);
    shared.wake.notify_one();
}

/// Journals a send's settlements (retrying until the journal takes them: an outcome is
/// announced only once it is recorded), then announces them and frees their keys.
async fn record(shared: &Arc<Shared>, settled: Vec<(Item, Settle)>) {
    let settled = Arc::new(settled);
    // Held until the outcomes are announced and counted, so a flush never sees a write
    // resolved in the journal before its event went out.
    let _gate = shared.settling.lock().await;
    loop {
        let (rows, me) = (Arc::clone(&settled), Arc::clone(shared));
        match journal(shared, move |j| {
            j.settle(&rows, |attempt| me.retry_at(attempt))
        })
        .await
        {
            Ok(()) => break,
            Err(error) => {
                tracing::warn!(
                    code = error.code(),
                    message = error.message(),
                    "queue journal could not record results; retrying"
                );
                tokio::time::sleep(shared.backoff.base()).await;
            }
        }
    }
    let mut resolved = 0;
    {
        let mut busy = shared.busy.lock();
        for (item, _) in settled.iter() {
            if let Some(key) = &item.key {
                busy.remove(&(item.object.clone(), key.clone()));
            }
        }
    }
    for (item, settle) in settled.iter() {
        match settle {
            Settle::Delivered { id, created } => {
                resolved += 1;
                shared.counters.delivered.fetch_add(1, Ordering::Relaxed);
                shared.announce(
                    item,
                    Outcome::Delivered {
                        id: id.clone(),
                        created: *created,
                    },
                );
            }
            Settle::Dead(error) => {
                resolved += 1;
                shared.counters.dead.fetch_add(1, Ordering::Relaxed);
                shared.announce(
                    item,
                    Outcome::DeadLettered {
                        error: error.clone(),
                    },
                );
            }
            Settle::Retry(_) | Settle::Solo => {}
        }
    }
    shared.release(resolved);
    shared.settled.send_modify(|g| *g += 1);
}
