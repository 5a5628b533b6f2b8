//! A durable write-behind queue: accept single-record writes one at a time (a webhook, a
//! user action), send them to Salesforce in few calls, and lose none when Salesforce browns
//! out or the process dies.
//!
//! ```text
//! enqueue(object, op, record, key) ─► journal (SQLite, WAL) ─► ticket
//!                                        │
//!                  dispatcher: per (object, operation, external id field), oldest first,
//!                  one write per key, same-key writes collapsed, linger bounds latency
//!                                        │
//!        ≤ 200 writes: one sObject Collections call │ backlog ≥ bulk_threshold: one Bulk 2.0 job
//!                                        │
//!           client pipeline (limits guard, scheduler, token, retry, observe) ─► Salesforce
//!                                        │
//!        per-record outcome ─► journal ─► callbacks / subscribers, dead letters, metrics
//! ```
//!
//! # What the queue promises
//! - **Accepted means journaled**: `enqueue` returns a [`Ticket`] only after the write is
//!   committed to the journal, so a killed or crashed process loses nothing it accepted. By
//!   default ([`SyncMode::Normal`]) the commit reaches the operating system, not the disk: a
//!   power loss may lose the last writes; [`SyncMode::Full`] fsyncs every commit for that
//!   too. Concurrent enqueues share one commit.
//! - **Never dropped**: a failed call (transport, 5xx, throttling, the daily limit, the
//!   limits reserve, an expired session) leaves its writes pending and they are sent again
//!   after backoff; under a brownout the queue grows and drains later. Only Salesforce's
//!   verdict on a record that retrying cannot change becomes a [`DeadLetter`], with
//!   Salesforce's code and message; `UNABLE_TO_LOCK_ROW` is retried. Dead letters are listed
//!   with [`Queue::dead_letters`] and sent again with [`Queue::replay`] (optionally fixed).
//!   The transitions are the table in `state.rs`.
//! - **Backpressure, not loss**: at `max_pending` writes without an outcome, `enqueue` waits
//!   ([`WhenFull::Wait`]) or fails with `BACKPRESSURE` ([`WhenFull::FailFast`]).
//! - **Through the pipeline only**: the queue's calls run at [`Priority::Background`] by
//!   default, so at the limits reserve they wait rather than spend what is kept for others.
//! - [`Queue::flush`] waits until every write accepted so far has an outcome;
//!   [`Queue::close`] flushes and stops.
//!
//! # Restarts: at least once
//! A process that opens the same journal resumes its pending writes, including those that
//! were in a call when the previous process died. Such a write may already have been saved
//! by Salesforce (the process died between the send and the journal update), so sends are
//! **at least once**:
//! - **upsert by an external id** is idempotent: sending it twice leaves one record with the
//!   latest values. This is the operation to use for exactly-once results.
//! - **update** and **delete** by `Id` are idempotent too (a delete sent again finds the
//!   record gone, `ENTITY_IS_DELETED`, and counts as delivered).
//! - **insert** is not: after a crash between a collections call and the journal update the
//!   record can be created twice. Give such records an external id and enqueue an upsert
//!   instead, or accept possible duplicates. (Writes that went out in a **bulk job** are the
//!   exception: the queue journals the bulk run's id with them and the new process resumes
//!   that run through the bulk engine's own journal — no second upload — so they are saved
//!   once, unless the process died before the bulk engine recorded the run.)
//!
//! Only one process may have a journal open (the file is locked); a second `open` fails with
//! `QUEUE_JOURNAL_IN_USE` instead of sending the same writes twice.
//!
//! # Metrics and events
//! Gauges on the client's registry: `queue_depth`, `queue_oldest_pending_age_ms`,
//! `queue_writes_per_call`, `queue_dead_letters`, `queue_calls`, `queue_writes_sent`,
//! `queue_delivered`. Each settled write emits a [`QueueEvent`] (delivered with the
//! Salesforce id, dead-lettered with the error, or superseded) to [`Queue::on_outcome`]
//! callbacks and [`Queue::subscribe`] receivers.
//!
//! Rejected alternatives: an in-memory channel with a background task (loses everything
//! accepted when the process dies — the failure this module exists for), and one call per
//! write (10 000 events would cost 10 000 API calls of the daily allocation instead of ~50).
//!
//! - [`config`]: the knobs. [`item`]: a write and its validation. [`state`]: the state table.
//! - [`journal`]: the SQLite journal. [`coalesce`]: choosing a batch. [`wire`]: sending it.
//! - [`outcome`]: tickets, outcomes, dead letters, the event bus. `worker`: the background
//!   tasks. `handle`: [`Queue`].
//!
//! [`Priority::Background`]: crate::Priority::Background

pub mod coalesce;
pub mod config;
mod handle;
pub mod item;
pub mod journal;
pub mod outcome;
pub mod state;
pub mod wire;
mod worker;

pub use config::{QueueConfig, SyncMode, WhenFull};
pub use handle::{Queue, QueueStats};
pub use item::WriteOp;
pub use outcome::{DeadLetter, Outcome, QueueEvent, Ticket, WriteError};
